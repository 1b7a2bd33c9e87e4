// The facial-expression model: Swin features -> LayerNorm -> mean over tokens -> Linear,
// plus the class attention maps (CAMs) the MEK consistency loss compares under flips. Callers
// run it through a Model (model.ts), which pairs the parameters with their constants.
import * as tf from '@tensorflow/tfjs-core';
import { layerNorm, linear, stopGradient } from './layers.ts';
import type { Params } from './params.ts';
import { swinFeatures, type ForwardOptions, type SwinConstants } from './swin.ts';
import { camGridSize } from './variants.ts';

export interface FerOutput {
  logits: tf.Tensor2D; // [B, K]
  /** cams[b, k, h, w] = sum_c tokens[b, h*G + w, c] * W_head[k, c]: [B, K, G, G]. */
  cams: tf.Tensor4D;
}

export function ferForward(p: Params, images: tf.Tensor, consts: SwinConstants, opts: ForwardOptions): FerOutput {
  const v = consts.variant;
  const grid = camGridSize(v);
  const tokens = layerNorm(swinFeatures(p, images, consts, opts), p['norm.weight']!, p['norm.bias']!); // [B, G*G, C]
  const logits = linear(tf.mean(tokens, 1), p['head.weight']!, p['head.bias']) as tf.Tensor2D;
  // The reference multiplies by head.weight.data: the CAM path trains the backbone, never the head.
  const perToken = linear(tokens, stopGradient(p['head.weight']!)); // [B, G*G, K]
  const b = images.shape[0];
  const cams = tf.reshape(tf.transpose(perToken, [0, 2, 1]), [b, v.numClasses, grid, grid]) as tf.Tensor4D;
  return { logits, cams };
}

/**
 * Inference over a large batch in chunks of `chunk` images, each forward freeing its
 * intermediates as it goes: evaluation memory stays bounded whatever the batch size.
 */
export function ferInference(p: Params, images: tf.Tensor, consts: SwinConstants, chunk: number): FerOutput {
  const total = images.shape[0];
  const step = chunk > 0 ? Math.min(chunk, total) : total;
  const logits: tf.Tensor[] = [];
  const cams: tf.Tensor[] = [];
  for (let start = 0; start < total; start += step) {
    const size = Math.min(step, total - start);
    const out = tf.tidy(() => {
      const part = size === total ? images : tf.slice(images, start, size);
      const o = ferForward(p, part, consts, { training: false, inference: true });
      return [o.logits, o.cams] as const;
    });
    logits.push(out[0]);
    cams.push(out[1]);
  }
  if (logits.length === 1) return { logits: logits[0] as tf.Tensor2D, cams: cams[0] as tf.Tensor4D };
  const result = { logits: tf.concat(logits, 0) as tf.Tensor2D, cams: tf.concat(cams, 0) as tf.Tensor4D };
  tf.dispose([...logits, ...cams]);
  return result;
}
