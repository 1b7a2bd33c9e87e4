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

/** RAC's consistency variants (loss.rac_normalize, loss.rac_classes); absent fields: the paper. */
export interface ConsistencyOptions {
  /** 'per_class': each map standardised over its grid before the difference (standardiseMaps). */
  normalize?: 'none' | 'per_class';
  /** [B, K]: 1 where a sample's class takes part, 0 elsewhere; absent: every class. */
  classMask?: tf.Tensor2D | null;
}

/** Added to each map's variance by standardiseMaps, as LayerNorm's eps: a flat map stays finite. */
export const MAP_STANDARDISE_EPS = 1e-5;

/**
 * Each map [.., G, G] minus its mean over the grid, divided by sqrt(variance over the grid + eps)
 * (the population variance, as LayerNorm): per sample and class, zero mean and unit spread.
 */
export function standardiseMaps(maps: tf.Tensor4D, eps = MAP_STANDARDISE_EPS): tf.Tensor4D {
  const { mean, variance } = tf.moments(maps, [2, 3], true);
  return tf.div(tf.sub(maps, mean), tf.sqrt(tf.add(variance, eps))) as tf.Tensor4D;
}

/**
 * RAC: the CAMs of an image and of its horizontal mirror (flipped back) should agree. Per
 * sample and class the mean squared difference over the grid, weighted by the balance
 * weights as they are (no normalisation, as the reference), then averaged over the batch.
 * cams, camsOfFlipped: [B, K, G, G]. `opts` selects the variants; without it, the paper's term.
 */
export function rebalancedAttentionConsistency(cams: tf.Tensor4D, camsOfFlipped: tf.Tensor4D, weights: tf.Tensor1D, opts: ConsistencyOptions = {}): tf.Scalar {
  const standardise = opts.normalize === 'per_class';
  const a = standardise ? standardiseMaps(cams) : cams;
  const b = tf.reverse(standardise ? standardiseMaps(camsOfFlipped) : camsOfFlipped, 3);
  const diff = tf.sub(a, b);
  const perClass = tf.mean(tf.square(diff), [2, 3]); // [B, K]
  const counted = opts.classMask ? tf.mul(perClass, opts.classMask) : perClass;
  const perSample = tf.matMul(counted, tf.reshape(weights, [-1, 1])); // [B, 1]
  return tf.mean(perSample) as tf.Scalar;
}

/**
 * loss.rac_classes 'true_pred': per sample 1 on its label and on the class its clean logits rank
 * first (the first maximum), 0 elsewhere: one class when the two agree. [B, K]. The argmax
 * passes no gradient (the mask is a constant of the step).
 */
export function truePredictedMask(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor2D {
  const k = logits.shape[1];
  const truth = tf.oneHot(labels, k);
  const predicted = tf.oneHot(tf.argMax(logits, 1), k);
  return tf.cast(tf.maximum(truth, predicted), 'float32') as tf.Tensor2D;
}
