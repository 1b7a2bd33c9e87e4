// The facial-expression model: Swin features -> LayerNorm -> mean over tokens -> Linear,
// plus the class attention maps (CAMs) the MEK consistency loss compares under flips.
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
  const b = images.shape[0]!;
  const cams = tf.reshape(tf.transpose(perToken, [0, 2, 1]), [b, v.numClasses, grid, grid]) as tf.Tensor4D;
  return { logits, cams };
}
