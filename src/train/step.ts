// One optimisation step of MEK: the clean and the mirrored images run as one batch of 2B,
// both loss terms, backward, global-norm clipping and AdamW, all on the device. The step
// returns scalar tensors and reads nothing back; the caller decides when to look.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradient functions; the union package's bundle does
// (for the same tfjs-core instance, which it requires rather than embeds).
import '@tensorflow/tfjs';
import { mekLoss, type MekLossOptions } from '../mek/objective.ts';
import type { Model } from '../model/model.ts';
import type { Rng } from '../random.ts';
import type { AdamW } from './adamw.ts';
import { clipByGlobalNorm, globalNorm } from './clip.ts';

export interface TrainContext {
  model: Model;
  optimizer: AdamW;
  loss: MekLossOptions;
  /** Max global gradient norm; 0 or Infinity disables clipping. */
  clipNorm: number;
  /** Source of drop-path draws. */
  rng: Rng;
  /** Stochastic depth on (the reference trains in train mode); off for golden comparisons. */
  training: boolean;
  /** Images per forward/backward chunk (before the flipped copies); 0 or absent: the whole batch. */
  microBatch?: number;
  /** Recompute blocks in the backward pass to bound memory (train.recompute). */
  recompute?: boolean;
}

export interface Batch {
  images: tf.Tensor4D; // [B, H, W, C], normalised
  labels: tf.Tensor1D; // int32 [B]
}

export interface StepResult {
  total: tf.Scalar;
  cls: tf.Scalar;
  rac: tf.Scalar | null;
  /** Global gradient norm before clipping. */
  gradNorm: tf.Scalar;
}

/** Loss terms and gradients of one chunk of the batch, each scaled by `share` of the batch. */
function chunkLossAndGradients(ctx: TrainContext, images: tf.Tensor4D, labels: tf.Tensor1D, share: number) {
  const trainable = ctx.model.weights.trainable();
  let cls: tf.Scalar | null = null;
  let rac: tf.Scalar | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const b = images.shape[0];
    // Clean and mirrored views in one batch: one pass through the network for both.
    const input = ctx.loss.rac ? tf.concat([images, tf.reverse(images, 2)], 0) : images;
    const out = ctx.model.forward(input, { training: ctx.training, rng: ctx.rng, recompute: ctx.recompute });
    const k = out.logits.shape[1];
    const logits = ctx.loss.rac ? (tf.slice(out.logits, [0, 0], [b, k]) as tf.Tensor2D) : out.logits;
    const [cams, camsOfFlipped] = ctx.loss.rac ? (tf.split(out.cams, 2, 0) as tf.Tensor4D[]) : [null, null];
    const weights = tf.tensor1d(ctx.loss.classWeights, 'float32');
    const terms = mekLoss(logits, labels, cams ?? null, camsOfFlipped ?? null, weights, ctx.loss);
    cls = tf.keep(tf.mul(terms.cls, share) as tf.Scalar);
    rac = terms.rac ? tf.keep(tf.mul(terms.rac, share) as tf.Scalar) : null;
    return tf.mul(terms.total, share) as tf.Scalar;
  }, trainable);
  const ordered = trainable.map((v) => {
    const g = grads[v.name];
    if (!g) throw new Error(`no gradient reached ${ctx.model.weights.nameOf(v)}`);
    return g;
  });
  return { terms: { total: value, cls: cls!, rac: rac as tf.Scalar | null }, grads: ordered };
}

/**
 * Loss terms and gradients of every trained parameter (in model.weights.trainable() order), no update.
 * With ctx.microBatch set, the batch runs in chunks whose gradients are summed, each weighted
 * by its share of the batch: both terms are per-sample means, so the result is the gradient
 * of the whole batch while only one chunk's activations are alive (wasm has a 4 GiB heap).
 * `scale` multiplies everything: the batch's own share of a larger batch split across threads.
 */
export function lossAndGradients(ctx: TrainContext, batch: Batch, scale = 1): { terms: Omit<StepResult, 'gradNorm'>; grads: tf.Tensor[] } {
  const total = batch.images.shape[0];
  const chunk = ctx.microBatch && ctx.microBatch > 0 ? Math.min(ctx.microBatch, total) : total;
  if (chunk === total) return chunkLossAndGradients(ctx, batch.images, batch.labels, scale);
  let acc: ReturnType<typeof chunkLossAndGradients> | null = null;
  for (let start = 0; start < total; start += chunk) {
    const size = Math.min(chunk, total - start);
    const images = tf.slice(batch.images, [start, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D;
    const labels = tf.slice(batch.labels, [start], [size]) as tf.Tensor1D;
    const part = chunkLossAndGradients(ctx, images, labels, (size / total) * scale);
    tf.dispose([images, labels]);
    if (!acc) {
      acc = part;
      continue;
    }
    const prev: ReturnType<typeof chunkLossAndGradients> = acc;
    acc = {
      terms: {
        total: tf.add(prev.terms.total, part.terms.total) as tf.Scalar,
        cls: tf.add(prev.terms.cls, part.terms.cls) as tf.Scalar,
        rac: prev.terms.rac && part.terms.rac ? (tf.add(prev.terms.rac, part.terms.rac) as tf.Scalar) : null,
      },
      grads: prev.grads.map((g, i) => tf.add(g, part.grads[i]!)),
    };
    tf.dispose([...Object.values(prev.terms), ...Object.values(part.terms), ...prev.grads, ...part.grads].filter((t): t is tf.Tensor => t !== null));
  }
  return acc!;
}

/** A full training step at learning rate `lr`. */
export function trainStep(ctx: TrainContext, batch: Batch, lr: number): StepResult {
  const { terms, grads } = lossAndGradients(ctx, batch);
  return applyUpdate(ctx, terms, grads, lr);
}

/** Clipping and AdamW on the batch's gradients (disposed here). */
export function applyUpdate(ctx: TrainContext, terms: Omit<StepResult, 'gradNorm'>, grads: tf.Tensor[], lr: number): StepResult {
  const gradNorm = tf.tidy(() => {
    if (ctx.clipNorm > 0 && Number.isFinite(ctx.clipNorm)) {
      const { clipped, norm } = clipByGlobalNorm(grads, ctx.clipNorm);
      ctx.optimizer.step(clipped, lr);
      return norm;
    }
    ctx.optimizer.step(grads, lr);
    return globalNorm(grads);
  });
  tf.dispose(grads);
  return { ...terms, gradNorm };
}
