// The training objective on a batch run as [clean; flipped]: each term is one config key, so
// plain cross-entropy, RBL only, RAC only and full MEK differ by a switch, and the long-tail
// remedies (logit adjustment, deferred re-weighting, the focal factor) act on the
// classification term whichever targets it has.
import * as tf from '@tensorflow/tfjs-core';
import { classificationLoss, rebalancedAttentionConsistency, rebalancedTargets, truePredictedMask } from './losses.ts';

export interface MekLossOptions {
  /** Re-balanced smooth labels; false gives plain cross-entropy. */
  rbl: boolean;
  /** Smoothing mass moved off the true class. */
  eps: number;
  /** Re-balanced attention consistency under horizontal flips. */
  rac: boolean;
  /** Weight of the consistency term. */
  lambda: number;
  /** Focal-style factor (1 - p_true)^focalGamma on the classification term; 0: off. */
  focalGamma: number;
  /** Class balance weights (see balance.ts): RAC's weights, and RBL's shares unless shareWeights says otherwise. */
  classWeights: number[];
  /** What RBL shares its eps by; classWeights when absent (the paper). */
  shareWeights?: number[];
  /** tau * log(prior) per class, added to the logits of the classification term (logit adjustment); absent: off. */
  logitOffset?: number[];
  /** Weight of each sample's classification loss by its class (deferred re-weighting); absent: none. */
  sampleWeights?: number[];
  /** RAC's class weights (loss.rac_weights); classWeights when absent (the paper). */
  racWeights?: number[];
  /** loss.rac_normalize: 'per_class' standardises each map before the difference; absent or 'none': the paper. */
  racNormalize?: 'none' | 'per_class';
  /** loss.rac_classes: 'true_pred' compares only the true and the predicted class; absent or 'all': the paper. */
  racClasses?: 'all' | 'true_pred';
}

export const REFERENCE_LOSS: Omit<MekLossOptions, 'classWeights'> = { rbl: true, eps: 0.3, rac: true, lambda: 0.1, focalGamma: 0 };

/** Stage 1 of a warm start: plain cross-entropy, nothing else (loss.warm_start_steps). */
export function plainCrossEntropy(opts: MekLossOptions): MekLossOptions {
  return { rbl: false, eps: opts.eps, rac: false, lambda: opts.lambda, focalGamma: 0, classWeights: opts.classWeights };
}

export interface LossTerms {
  /** The classification term: RBL, or plain cross-entropy when RBL is off. */
  cls: tf.Scalar;
  /** The consistency term, when on. */
  rac: tf.Scalar | null;
  /** cls + lambda * rac. */
  total: tf.Scalar;
}

/**
 * logits: [B, K] of the clean images; cams, camsOfFlipped: [B, K, G, G] of the clean images
 * and of their mirrors (camsOfFlipped not yet flipped back). weights: [K], the class balance
 * weights. lambda is the step's (trainingLosses ramps it over loss.lambda_warmup_steps).
 */
export function mekLoss(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  cams: tf.Tensor4D | null,
  camsOfFlipped: tf.Tensor4D | null,
  weights: tf.Tensor1D,
  opts: MekLossOptions,
): LossTerms {
  const cls = classificationTerm(logits, labels, weights, opts);
  if (!opts.rac) return { cls, rac: null, total: cls };
  if (!cams || !camsOfFlipped) throw new Error('the consistency term needs the CAMs of both views');
  const rac = rebalancedAttentionConsistency(cams, camsOfFlipped, opts.racWeights ? tf.tensor1d(opts.racWeights, 'float32') : weights, {
    normalize: opts.racNormalize ?? 'none',
    classMask: opts.racClasses === 'true_pred' ? truePredictedMask(logits, labels) : null,
  });
  return { cls, rac, total: tf.add(cls, tf.mul(rac, opts.lambda)) };
}

/** RBL or one-hot targets, as opts.rbl says, with the options that act on every classification term. */
function classificationTerm(logits: tf.Tensor2D, labels: tf.Tensor1D, weights: tf.Tensor1D, opts: MekLossOptions): tf.Scalar {
  const shares = opts.shareWeights ? tf.tensor1d(opts.shareWeights, 'float32') : weights;
  const targets = opts.rbl ? rebalancedTargets(labels, shares, opts.eps) : (tf.cast(tf.oneHot(labels, logits.shape[1]), 'float32') as tf.Tensor2D);
  return classificationLoss(logits, targets, labels, {
    logitOffset: opts.logitOffset ? tf.tensor1d(opts.logitOffset, 'float32') : null,
    focalGamma: opts.focalGamma,
    classWeights: opts.sampleWeights ? tf.tensor1d(opts.sampleWeights, 'float32') : null,
  });
}
