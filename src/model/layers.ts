// Small building blocks shared by the backbone and the head, written only with ops whose
// gradients exist on every tfjs backend (wasm has no gradient for conv2d, gather or
// stridedSlice; see docs/design.md).
import * as tf from '@tensorflow/tfjs-core';

export const LAYER_NORM_EPS = 1e-5;

/**
 * LayerNorm over the last axis with PyTorch's biased variance, as one op with its own gradient:
 * the backward pass keeps only the normalised input and 1/std, not the seven intermediates the
 * composed ops would leave on the tape (activation memory decides what fits in wasm's 4 GiB).
 */
const layerNormOp = tf.customGrad((...args) => {
  const [x, weight, bias, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const axis = x.rank - 1;
  const centred = tf.sub(x, tf.mean(x, axis, true));
  const invStd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), axis, true), LAYER_NORM_EPS));
  const normed = tf.mul(centred, invStd);
  save([normed, invStd, weight]);
  return {
    value: tf.add(tf.mul(normed, weight), bias),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xhat, rstd, w] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const lead = Array.from({ length: dy.rank - 1 }, (_, i) => i);
      const dxhat = tf.mul(dy, w);
      // d/dx of (x - mean) * rstd: rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
      const dx = tf.mul(
        tf.sub(tf.sub(dxhat, tf.mean(dxhat, axis, true)), tf.mul(xhat, tf.mean(tf.mul(dxhat, xhat), axis, true))),
        rstd,
      );
      return [dx, tf.sum(tf.mul(dy, xhat), lead), tf.sum(dy, lead)];
    },
  };
}) as (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor;

export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  return layerNormOp(x, weight, bias);
}

/**
 * x [M, in] times W^T for W in PyTorch's [out, in] layout, with every product written as a
 * plain matMul. tfjs-wasm runs matMul with a transposed operand (which the stock gradient of
 * matMul uses twice) about 12x slower than without (2 vs 25 GFLOP/s measured here), so the
 * transposes are explicit copies, which cost far less than the products they speed up.
 */
const matMulWeightT = tf.customGrad((...args) => {
  const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.matMul(x, tf.transpose(w)), // [M, out]
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [
        tf.matMul(dy as tf.Tensor2D, ws), // dx: [M, in]
        tf.matMul(tf.transpose(dy as tf.Tensor2D), xs), // dW: [out, in]
      ];
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** y = x W^T + b with W in PyTorch's [out, in] layout; x is [..., in]. */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const inFeatures = x.shape[x.rank - 1]!;
  const lead = x.shape.slice(0, -1);
  let y: tf.Tensor = matMulWeightT(tf.reshape(x, [-1, inFeatures]) as tf.Tensor2D, weight as tf.Tensor2D);
  if (bias) y = tf.add(y, bias);
  return tf.reshape(y, [...lead, weight.shape[0]]);
}

/**
 * Exact GELU, 0.5 x (1 + erf(x / sqrt 2)); the tanh approximation is off by ~1e-3. One op with
 * its own gradient, Phi(x) + x phi(x), so the tape keeps only x.
 */
export const gelu = tf.customGrad((...args) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs] = saved as [tf.Tensor];
      const cdf = tf.mul(tf.add(tf.erf(tf.mul(xs, Math.SQRT1_2)), 1), 0.5);
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return [tf.mul(dy, tf.add(cdf, tf.mul(xs, pdf)))];
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

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
