// Small building blocks shared by the backbone and the head, written only with ops whose
// gradients exist on every tfjs backend (wasm has no gradient for conv2d, gather or
// stridedSlice; see DESIGN.md).
import * as tf from '@tensorflow/tfjs-core';

export const LAYER_NORM_EPS = 1e-5;

/** LayerNorm over the last axis with PyTorch's biased variance. */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps = LAYER_NORM_EPS): tf.Tensor {
  const axis = x.rank - 1;
  const centred = tf.sub(x, tf.mean(x, axis, true));
  const variance = tf.mean(tf.square(centred), axis, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), weight), bias);
}

/** y = x W^T + b with W in PyTorch's [out, in] layout; x is [..., in]. */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const inFeatures = x.shape[x.rank - 1]!;
  const lead = x.shape.slice(0, -1);
  const flat = tf.reshape(x, [-1, inFeatures]);
  let y = tf.matMul(flat, weight, false, true);
  if (bias) y = tf.add(y, bias);
  return tf.reshape(y, [...lead, weight.shape[0]!]);
}

/** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)); the tanh approximation is off by ~1e-3. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/**
 * The identity on the forward pass with a zero gradient: what PyTorch's `.detach()` does.
 * The class attention maps use the head weights this way, as the reference does.
 */
export const stopGradient = tf.customGrad((...inputs) => {
  const x = inputs[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * Cyclic shift along `axis` by `shift` positions, like torch.roll: out[i] = x[(i - shift) mod n].
 * Built from slice + concat because tfjs has no roll.
 */
export function roll(x: tf.Tensor, shift: number, axis: number): tf.Tensor {
  const n = x.shape[axis]!;
  const s = ((shift % n) + n) % n;
  if (s === 0) return x;
  const begin = new Array<number>(x.rank).fill(0);
  const size = [...x.shape];
  const tailBegin = [...begin];
  tailBegin[axis] = n - s;
  const tailSize = [...size];
  tailSize[axis] = s;
  const headSize = [...size];
  headSize[axis] = n - s;
  return tf.concat([tf.slice(x, tailBegin, tailSize), tf.slice(x, begin, headSize)], axis);
}

/**
 * Per-sample stochastic depth: zeroes whole residual branches with probability `rate` and
 * rescales the kept ones. `keepMask` holds one 0/1 draw per sample.
 */
export function dropPath(x: tf.Tensor, rate: number, keepMask: Float32Array): tf.Tensor {
  const shape = [x.shape[0]!, ...new Array<number>(x.rank - 1).fill(1)];
  const scale = tf.tensor(keepMask.map((k) => k / (1 - rate)), shape, 'float32');
  return tf.mul(x, scale);
}
