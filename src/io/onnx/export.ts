// `mek export --out model.onnx`: the FER model as one self-contained ONNX file, with what a
// deployment needs to use it alone in its metadata (class names, input size, normalisation,
// the training class prior and post-hoc tau, mek's version).
import type { ClassPrior } from '../../mek/prior.ts';
import type { SwinVariant } from '../../model/variants.ts';
import type { Preprocessing } from '../checkpoint/format.ts';
import { encodeModel } from './graph.ts';
import { ferGraph, OPSET } from './fer-graph.ts';

export interface OnnxExportMeta {
  classes: string[];
  preprocessing: Preprocessing;
  prior?: ClassPrior;
  /** The post-hoc tau chosen on a validation split after training, if any. */
  posthocTau?: number;
  /** mek's version, for the file's producer_version. */
  version: string;
  /** Where the weights came from (a path or a content hash), for the reader. */
  source: string;
}

/** The metadata_props keys mek writes; values are strings (JSON where structured). */
export const METADATA_KEYS = ['mek.classes', 'mek.image_size', 'mek.mean', 'mek.std', 'mek.interpolation', 'mek.input_layout', 'mek.prior', 'mek.posthoc_tau', 'mek.source'] as const;

export function onnxModel(variant: SwinVariant, values: Map<string, Float32Array>, meta: OnnxExportMeta): Uint8Array {
  const { graph, inputs, outputs } = ferGraph(variant, values);
  const metadata: Record<string, string> = {
    'mek.classes': JSON.stringify(meta.classes),
    'mek.image_size': String(meta.preprocessing.imageSize),
    'mek.mean': JSON.stringify(meta.preprocessing.mean),
    'mek.std': JSON.stringify(meta.preprocessing.std),
    'mek.interpolation': meta.preprocessing.interpolation,
    // What `image` holds: RGB resized to image_size, (x / 255 - mean) / std per channel, NCHW.
    'mek.input_layout': 'NCHW, RGB, (pixel / 255 - mean) / std',
    'mek.source': meta.source,
    ...(meta.prior ? { 'mek.prior': JSON.stringify(meta.prior.probabilities) } : {}),
    ...(meta.posthocTau !== undefined ? { 'mek.posthoc_tau': String(meta.posthocTau) } : {}),
  };
  return encodeModel({ graph, name: 'mek_fer', inputs, outputs, metadata, producerVersion: meta.version, opset: OPSET });
}
