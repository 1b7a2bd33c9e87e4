// One optimisation step of MEK: the clean and the mirrored images run as one batch of 2B,
// both loss terms, backward, global-norm clipping and AdamW, all on the device. The step
// returns scalar tensors and reads nothing back; the caller decides when to look.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone ships the gradient functions but does not register them.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { mekLoss, type MekLossOptions } from '../mek/objective.ts';
import { ferForward } from '../model/fer.ts';
import type { ParamStore } from '../model/params.ts';
import type { SwinConstants } from '../model/swin.ts';
import type { Rng } from '../random.ts';
import type { AdamW } from './adamw.ts';
import { clipByGlobalNorm, globalNorm } from './clip.ts';

export interface TrainContext {
  store: ParamStore;
  consts: SwinConstants;
  optimizer: AdamW;
  loss: MekLossOptions;
  /** Max global gradient norm; 0 or Infinity disables clipping. */
  clipNorm: number;
  /** Source of drop-path draws. */
  rng: Rng;
  /** Stochastic depth on (the reference trains in train mode); off for golden comparisons. */
  training: boolean;
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

/** Loss terms and gradients of every trained parameter (in store.trainable() order), no update. */
export function lossAndGradients(ctx: TrainContext, batch: Batch): { terms: Omit<StepResult, 'gradNorm'>; grads: tf.Tensor[] } {
  const trainable = ctx.store.trainable();
  const params = ctx.store.params;
  let cls: tf.Scalar | null = null;
  let rac: tf.Scalar | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const b = batch.images.shape[0];
    // Clean and mirrored views in one batch: one pass through the network for both.
    const input = ctx.loss.rac ? tf.concat([batch.images, tf.reverse(batch.images, 2)], 0) : batch.images;
    const out = ferForward(params, input, ctx.consts, { training: ctx.training, rng: ctx.rng });
    const k = out.logits.shape[1];
    const logits = ctx.loss.rac ? (tf.slice(out.logits, [0, 0], [b, k]) as tf.Tensor2D) : out.logits;
    const [cams, camsOfFlipped] = ctx.loss.rac ? (tf.split(out.cams, 2, 0) as tf.Tensor4D[]) : [null, null];
    const weights = tf.tensor1d(ctx.loss.classWeights, 'float32');
    const terms = mekLoss(logits, batch.labels, cams ?? null, camsOfFlipped ?? null, weights, ctx.loss);
    cls = tf.keep(terms.cls);
    rac = terms.rac ? tf.keep(terms.rac) : null;
    return terms.total;
  }, trainable);
  const ordered = trainable.map((v) => {
    const g = grads[v.name];
    if (!g) throw new Error(`no gradient reached ${ctx.store.nameOf(v)}`);
    return g;
  });
  return { terms: { total: value, cls: cls!, rac }, grads: ordered };
}

/** A full training step at learning rate `lr`. */
export function trainStep(ctx: TrainContext, batch: Batch, lr: number): StepResult {
  const { terms, grads } = lossAndGradients(ctx, batch);
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
