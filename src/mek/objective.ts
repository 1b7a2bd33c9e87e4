// The MEK training objective on a batch run as [clean; flipped]: each term is one config key,
// so plain cross-entropy, RBL only, RAC only and full MEK differ by a switch.
import * as tf from '@tensorflow/tfjs-core';
import {
  crossEntropy,
  focalSoftTargetCrossEntropy,
  rebalancedAttentionConsistency,
  rebalancedSmoothLoss,
  rebalancedTargets,
} from './losses.ts';

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
  /** Class balance weights (see balance.ts). */
  classWeights: number[];
}

export const REFERENCE_LOSS: Omit<MekLossOptions, 'classWeights'> = { rbl: true, eps: 0.3, rac: true, lambda: 0.1, focalGamma: 0 };

/** Stage 1 of a warm start: plain cross-entropy, nothing else (loss.warm_start_steps). */
export function plainCrossEntropy(opts: MekLossOptions): MekLossOptions {
  return { ...opts, rbl: false, rac: false, focalGamma: 0 };
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
 * and of their mirrors (camsOfFlipped not yet flipped back). weights: [K].
 */
export function mekLoss(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  cams: tf.Tensor4D | null,
  camsOfFlipped: tf.Tensor4D | null,
  weights: tf.Tensor1D,
  opts: MekLossOptions,
): LossTerms {
  const cls = opts.focalGamma > 0 ? focalClassification(logits, labels, weights, opts) : opts.rbl ? rebalancedSmoothLoss(logits, labels, weights, opts.eps) : crossEntropy(logits, labels);
  if (!opts.rac) return { cls, rac: null, total: cls };
  if (!cams || !camsOfFlipped) throw new Error('the consistency term needs the CAMs of both views');
  const rac = rebalancedAttentionConsistency(cams, camsOfFlipped, weights);
  return { cls, rac, total: tf.add(cls, tf.mul(rac, opts.lambda)) };
}

/** The classification term with the focal factor: RBL or one-hot targets, as opts.rbl says. */
function focalClassification(logits: tf.Tensor2D, labels: tf.Tensor1D, weights: tf.Tensor1D, opts: MekLossOptions): tf.Scalar {
  const targets = opts.rbl ? rebalancedTargets(labels, weights, opts.eps) : (tf.cast(tf.oneHot(labels, logits.shape[1]), 'float32') as tf.Tensor2D);
  return focalSoftTargetCrossEntropy(logits, targets, labels, opts.focalGamma);
}
