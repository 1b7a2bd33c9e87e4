// Global-norm gradient clipping with torch.nn.utils.clip_grad_norm_ semantics, on device.
import * as tf from '@tensorflow/tfjs-core';

/** Total L2 norm of all gradients together. */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
}

/**
 * Scales every gradient by min(1, maxNorm / (norm + 1e-6)), as PyTorch does (the 1e-6 keeps
 * a zero gradient finite). Returns the clipped gradients and the norm before clipping.
 */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { clipped: tf.Tensor[]; norm: tf.Scalar } {
  const norm = globalNorm(grads);
  const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
  return { clipped: grads.map((g) => tf.mul(g, coef)), norm };
}
