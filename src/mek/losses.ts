// The two MEK loss terms. Both take tensors and return scalar tensors, so they run on the
// device and nothing is read back to JavaScript inside a training step.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Re-balanced smooth-label targets: the true class keeps 1 - eps, and eps is shared by the
 * other classes in proportion to their balance weights (renormalised over those classes), so
 * every sample, majors included, teaches the model something about the minor classes.
 * labels: int32 [B]; weights: [K]. Returns [B, K].
 */
export function rebalancedTargets(labels: tf.Tensor1D, weights: tf.Tensor1D, eps: number): tf.Tensor2D {
  const k = weights.shape[0];
  const oneHot = tf.cast(tf.oneHot(labels, k), 'float32'); // [B, K]
  const others = tf.mul(tf.sub(1, oneHot), weights); // [B, K], zero at the true class
  const share = tf.div(others, tf.sum(others, 1, true));
  return tf.add(tf.mul(oneHot, 1 - eps), tf.mul(share, eps)) as tf.Tensor2D;
}

/** Mean over the batch of -sum_k q_k log softmax(z)_k. */
export function softTargetCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits, -1)), 1))) as tf.Scalar;
}

/** Plain cross-entropy (one-hot targets). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const oneHot = tf.cast(tf.oneHot(labels, logits.shape[1]), 'float32') as tf.Tensor2D;
  return softTargetCrossEntropy(logits, oneHot);
}

export interface ClassificationOptions {
  /** tau * log(prior) per class [K], added to the logits the loss sees (logit adjustment); null: none. */
  logitOffset?: tf.Tensor1D | null;
  /**
   * The focal-style factor (1 - p_y)^gamma of the 2025 follow-up, p_y not detached (as in focal
   * loss), so samples the model already gets right (mostly of the frequent classes) weigh less; 0: off.
   */
  focalGamma: number;
  /** Per-class weight of each sample's loss [K] (deferred re-weighting); null: none. */
  classWeights?: tf.Tensor1D | null;
}

/**
 * The classification term every recipe shares: per sample the cross-entropy of
 * softmax(z + offset) against `targets`, times the focal factor (1 - p_y)^gamma (p_y from the
 * same softmax), times the weight of the sample's class; the batch mean. A plain mean, not
 * divided by the batch's weight sum, so chunks of a batch (micro-batches, threads) add up to the
 * whole. With every option off it is softTargetCrossEntropy, op for op.
 */
export function classificationLoss(logits: tf.Tensor2D, targets: tf.Tensor2D, labels: tf.Tensor1D, opts: ClassificationOptions): tf.Scalar {
  const gamma = opts.focalGamma;
  if (!opts.logitOffset && gamma === 0 && !opts.classWeights) return softTargetCrossEntropy(logits, targets);
  const z = opts.logitOffset ? tf.add(logits, opts.logitOffset) : logits;
  const logProbs = tf.logSoftmax(z, -1);
  let perSample: tf.Tensor = tf.neg(tf.sum(tf.mul(targets, logProbs), 1));
  const oneHot = gamma > 0 || opts.classWeights ? tf.cast(tf.oneHot(labels, logits.shape[1]), 'float32') : null;
  if (gamma > 0) {
    const pTrue = tf.exp(tf.sum(tf.mul(oneHot!, logProbs), 1));
    perSample = tf.mul(perSample, tf.pow(tf.sub(1, pTrue), gamma));
  }
  // The weight of each sample's class as a product with the one-hot rows: gather has no
  // gradient kernel on wasm, and none is needed here, but one op path is easier to trust.
  if (opts.classWeights) perSample = tf.mul(perSample, tf.sum(tf.mul(oneHot!, opts.classWeights), 1));
  return tf.mean(perSample) as tf.Scalar;
}

/** RBL: cross-entropy against the re-balanced smooth labels. */
export function rebalancedSmoothLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, weights: tf.Tensor1D, eps: number): tf.Scalar {
  return softTargetCrossEntropy(logits, rebalancedTargets(labels, weights, eps));
}

/**
 * RAC: the CAMs of an image and of its horizontal mirror (flipped back) should agree. Per
 * sample and class the mean squared difference over the grid, weighted by the balance
 * weights as they are (no normalisation, as the reference), then averaged over the batch.
 * cams, camsOfFlipped: [B, K, G, G].
 */
export function rebalancedAttentionConsistency(cams: tf.Tensor4D, camsOfFlipped: tf.Tensor4D, weights: tf.Tensor1D): tf.Scalar {
  const diff = tf.sub(cams, tf.reverse(camsOfFlipped, 3));
  const perClass = tf.mean(tf.square(diff), [2, 3]); // [B, K]
  const perSample = tf.matMul(perClass, tf.reshape(weights, [-1, 1])); // [B, 1]
  return tf.mean(perSample) as tf.Scalar;
}
