// The classification term of the objective against the PyTorch reference's golden cases: its
// value and its gradient with respect to the logits (the attention maps play no part, RAC off).
import * as tf from '@tensorflow/tfjs-core';
// gradient functions (the union package registers them for this tfjs-core)
import '@tensorflow/tfjs';
import { expect } from 'vitest';
import { mekLoss, type MekLossOptions } from '../../src/mek/objective.ts';

export interface LossAndGradient {
  loss: number;
  /** d loss / d logits, flattened row-major like the fixtures store it. */
  grad: number[];
}

/** The objective's total on `logits` (flattened, `shape` [batch, classes]) and its gradient. */
export function lossAndGradient(logits: number[], shape: [number, number], labels: number[], weights: number[], opts: MekLossOptions): LossAndGradient {
  return tf.tidy(() => {
    const y = tf.tensor1d(labels, 'int32');
    const w = tf.tensor1d(weights);
    const f = (z: tf.Tensor) => mekLoss(z as tf.Tensor2D, y, null, null, w, opts).total;
    const { value, grad } = tf.valueAndGrad(f)(tf.tensor2d(logits, shape));
    return { loss: value.dataSync()[0]!, grad: Array.from(grad.dataSync()) };
  });
}

/** The loss within tol.loss relative to max(1, |loss|), each gradient element within tol.grad. */
export function expectLossAndGradient(got: LossAndGradient, want: LossAndGradient, tol: { loss: number; grad: number }): void {
  expect(Math.abs(got.loss - want.loss)).toBeLessThan(tol.loss * Math.max(1, Math.abs(want.loss)));
  got.grad.forEach((g, i) => expect(Math.abs(g - want.grad[i]!)).toBeLessThan(tol.grad));
}
