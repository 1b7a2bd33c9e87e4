// One optimisation step of MEK, the only definition of one: the loss and gradients of the whole
// batch (gradients.ts; on this thread, or split across replica threads when the run has them),
// global-norm clipping and AdamW, all on the device. The step returns scalar tensors and reads
// nothing back; the caller decides when to look.
import * as tf from '@tensorflow/tfjs-core';
import type { LossTerms } from '../mek/objective.ts';
import type { AdamW } from './adamw.ts';
import { clipByGlobalNorm, globalNorm } from './clip.ts';
import { lossAndGradients, type Batch, type GradientContext } from './gradients.ts';
import type { ReplicaPool } from './replicas/pool.ts';

export interface TrainContext extends GradientContext {
  optimizer: AdamW;
  /** Max global gradient norm; 0 or Infinity disables clipping. */
  clipNorm: number;
  /**
   * Threads that compute parts of each batch beside this one (tfjs-wasm computes on one thread
   * per engine); absent or null: this thread computes the whole batch.
   */
  replicas?: ReplicaPool | null;
}

export interface StepResult extends LossTerms {
  /** Global gradient norm before clipping. */
  gradNorm: tf.Scalar;
}

/** A full training step at learning rate `lr`. */
export async function trainStep(ctx: TrainContext, batch: Batch, lr: number): Promise<StepResult> {
  const { terms, grads } = ctx.replicas ? await ctx.replicas.lossAndGradients(ctx, batch) : lossAndGradients(ctx, batch);
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
