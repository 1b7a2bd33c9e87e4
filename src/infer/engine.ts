// What evaluation and prediction need from a model, whichever runtime computes it: logits (and,
// on request, class activation maps) of a batch of normalised images. mek's own tfjs graph and
// ONNX Runtime on the exported graph both implement it (tfjs.ts, onnx.ts); select.ts picks one.
import type { Config } from '../config/schema.ts';
import type { Preprocessing, Selection } from '../io/checkpoint/format.ts';

export interface EngineOutput {
  /** [n, K] row-major. */
  logits: Float32Array;
  /** [n, K, G, G] row-major; null when not asked for. */
  cams: Float32Array | null;
}

export interface InferenceEngine {
  readonly name: 'onnx' | 'tfjs';
  /** One line for the console: which runtime, where, how many threads. */
  readonly description: string;
  /** images: [n, S, S, 3] normalised, HWC per image (what the data loader produces). */
  run(images: Float32Array, n: number, withCams: boolean): Promise<EngineOutput>;
  close(): Promise<void>;
}

/** What a command knows of the model besides the engine: from a checkpoint, or an exported .onnx's metadata. */
export interface ModelInfo {
  classes: string[];
  preprocessing: Preprocessing;
  /** Side of the CAM grid. */
  grid: number;
  step: number;
  /** The class distribution training saw (post-hoc adjustment needs it). */
  prior?: { probabilities: number[] };
  /** Which split picked the checkpoint. */
  selection?: Selection;
  /** The post-hoc tau chosen on a validation split after training. */
  posthoc?: { tau: number };
  /** The config the checkpoint was trained with (its data can give a missing prior). */
  savedConfig?: Config;
}

/** The same images, each mirrored left to right (test-time augmentation). */
export function flipImages(images: Float32Array, n: number, size: number): Float32Array {
  const out = new Float32Array(images.length);
  const row = size * 3;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < size; y++) {
      const base = (b * size + y) * row;
      for (let x = 0; x < size; x++) out.set(images.subarray(base + x * 3, base + x * 3 + 3), base + (size - 1 - x) * 3);
    }
  }
  return out;
}
