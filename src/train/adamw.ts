// AdamW with PyTorch's semantics (torch.optim.AdamW): decoupled weight decay applied as
// p *= 1 - lr * wd before the Adam update, eps added to the bias-corrected sqrt(v), eps 1e-8.
// tfjs has no AdamW and its Adam uses eps 1e-7, hence this module.
import * as tf from '@tensorflow/tfjs-core';
import type { Config } from '../config/schema.ts';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const PYTORCH_ADAMW: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

/** The config's optim.* keys as AdamW options (the learning rate comes from the schedule). */
export function adamwOptions(config: Config): AdamWOptions {
  const o = config.optim;
  // Loading a config holds optim.betas to exactly two numbers.
  const [beta1, beta2] = o.betas as [number, number];
  return { beta1, beta2, eps: o.eps, weightDecay: o.weight_decay };
}

export class AdamW {
  readonly options: AdamWOptions;
  /** Optimizer steps taken so far (PyTorch's per-parameter `step`). */
  stepCount = 0;
  private readonly params: tf.Variable[];
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(params: tf.Variable[], options: Partial<AdamWOptions> = {}) {
    this.options = { ...PYTORCH_ADAMW, ...options };
    this.params = params;
    this.m = params.map((p) => tf.variable(tf.zerosLike(p), false));
    this.v = params.map((p) => tf.variable(tf.zerosLike(p), false));
  }

  /** One update; grads[i] belongs to the i-th parameter given to the constructor. */
  step(grads: tf.Tensor[], lr: number): void {
    if (grads.length !== this.params.length) {
      throw new Error(`AdamW.step: ${grads.length} gradients for ${this.params.length} parameters`);
    }
    this.stepCount += 1;
    const { beta1, beta2, eps, weightDecay } = this.options;
    const bc1 = 1 - beta1 ** this.stepCount;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.stepCount);
    tf.tidy(() => {
      for (let i = 0; i < this.params.length; i++) {
        const p = this.params[i]!;
        const g = grads[i]!;
        const m = tf.add(tf.mul(this.m[i]!, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i]!, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), eps);
        const decayed = tf.mul(p, 1 - lr * weightDecay);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), lr / bc1)));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
      }
    });
  }

  /** Moment estimates, for checkpoints. */
  async state(): Promise<{ step: number; m: Float32Array[]; v: Float32Array[] }> {
    return {
      step: this.stepCount,
      m: await Promise.all(this.m.map(async (t) => (await t.data()) as Float32Array)),
      v: await Promise.all(this.v.map(async (t) => (await t.data()) as Float32Array)),
    };
  }

  loadState(state: { step: number; m: Float32Array[]; v: Float32Array[] }): void {
    if (state.m.length !== this.m.length || state.v.length !== this.v.length) {
      throw new Error(`optimizer state holds ${state.m.length} moments for ${this.m.length} parameters`);
    }
    this.stepCount = state.step;
    tf.tidy(() => {
      this.m.forEach((t, i) => t.assign(tf.tensor(state.m[i]!, t.shape)));
      this.v.forEach((t, i) => t.assign(tf.tensor(state.v[i]!, t.shape)));
    });
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
