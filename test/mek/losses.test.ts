// Balance weights and the properties of the two MEK terms that the golden test cannot show.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
// gradient functions (the union package registers them for this tfjs-core)
import '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { balanceWeights } from '../../src/mek/balance.ts';
import {
  crossEntropy,
  rebalancedAttentionConsistency,
  rebalancedSmoothLoss,
  rebalancedTargets,
} from '../../src/mek/losses.ts';
import { mekLoss } from '../../src/mek/objective.ts';
import { toleranceOf } from '../helpers/fixtures.ts';
import { expectLossAndGradient, lossAndGradient } from '../helpers/losses.ts';
import { RAFDB_BALANCE_WEIGHTS, RAFDB_LABEL_FILE, RAFDB_TRAIN_COUNTS } from '../helpers/rafdb.ts';


beforeAll(async () => {
  await selectBackend('cpu');
});

describe('balance weights', () => {
  it('reproduce the reference constants from the RAF-DB training counts', () => {
    balanceWeights(RAFDB_TRAIN_COUNTS).forEach((w, i) => expect(Math.abs(w - RAFDB_BALANCE_WEIGHTS[i]!)).toBeLessThan(1e-6));
  });

  it('counts of the real RAF-DB label file give the same weights', () => {
    const counts = new Array(7).fill(0);
    for (const line of readFileSync(RAFDB_LABEL_FILE, 'utf8').split('\n')) {
      const [name, label] = line.trim().split(/\s+/);
      if (name?.startsWith('train_')) counts[Number(label) - 1]++;
    }
    expect(counts).toEqual(RAFDB_TRAIN_COUNTS);
    balanceWeights(counts).forEach((w, i) => expect(Math.abs(w - RAFDB_BALANCE_WEIGHTS[i]!)).toBeLessThan(1e-6));
  });

  it("'classes' normaliser makes the sample-weighted mean 1", () => {
    const w = balanceWeights(RAFDB_TRAIN_COUNTS, 'classes');
    const n = RAFDB_TRAIN_COUNTS.reduce((a, b) => a + b, 0);
    expect(w.reduce((acc, wc, i) => acc + wc * RAFDB_TRAIN_COUNTS[i]!, 0) / n).toBeCloseTo(1, 12);
  });

  it('rejects an empty class', () => {
    expect(() => balanceWeights([3, 0, 2])).toThrow(/class 1 has 0/);
  });
});

describe('re-balanced smooth labels', () => {
  it('keep 1 - eps on the label and share eps in proportion to the other weights', () => {
    const q = tf.tidy(() => rebalancedTargets(tf.tensor1d([1], 'int32'), tf.tensor1d([1, 4, 2, 2]), 0.3).arraySync()[0]!);
    expect(q[1]).toBeCloseTo(0.7, 7);
    expect(q[0]).toBeCloseTo(0.3 * (1 / 5), 7);
    expect(q[2]).toBeCloseTo(0.3 * (2 / 5), 7);
    expect(q.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('equal plain cross-entropy when eps is 0', () => {
    tf.tidy(() => {
      const logits = tf.tensor2d([[1, 2, 0.5], [-1, 0, 3]]);
      const labels = tf.tensor1d([0, 2], 'int32');
      const w = tf.tensor1d([1, 2, 3]);
      expect(rebalancedSmoothLoss(logits, labels, w, 0).dataSync()[0]).toBeCloseTo(crossEntropy(logits, labels).dataSync()[0]!, 6);
    });
  });
});

describe('re-balanced attention consistency', () => {
  it('is zero when the mirrored view attends to the mirrored places', () => {
    tf.tidy(() => {
      const cams = tf.randomNormal([2, 3, 4, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.tensor1d([1, 5, 0.2]);
      expect(rebalancedAttentionConsistency(cams, tf.reverse(cams, 3), w).dataSync()[0]).toBeCloseTo(0, 10);
    });
  });

  it('weights each class by its balance weight and averages over the batch', () => {
    tf.tidy(() => {
      // Sample 0, class 1 differs by 2 at one of 4 cells: mse 1, weight 5 -> 5; batch mean 2.5.
      const a = tf.zeros([2, 2, 2, 2]);
      const b = tf.tensor4d([0, 0, 0, 0, 0, 0, 0, 2, ...new Array(8).fill(0)], [2, 2, 2, 2]);
      expect(rebalancedAttentionConsistency(a as tf.Tensor4D, b, tf.tensor1d([1, 5])).dataSync()[0]).toBeCloseTo(2.5, 6);
    });
  });

  it('is one switch away from plain cross-entropy, RBL only, RAC only and full MEK', () => {
    tf.tidy(() => {
      const logits = tf.tensor2d([[1, 2, 0.5]]);
      const labels = tf.tensor1d([0], 'int32');
      const cams = tf.randomNormal([1, 3, 2, 2], 0, 1, 'float32', 2) as tf.Tensor4D;
      const flipped = tf.randomNormal([1, 3, 2, 2], 0, 1, 'float32', 3) as tf.Tensor4D;
      const w = tf.tensor1d([1, 2, 3]);
      const base = { eps: 0.3, lambda: 0.1, focalGamma: 0, classWeights: [1, 2, 3] };
      const value = (rbl: boolean, rac: boolean) => mekLoss(logits, labels, cams, flipped, w, { ...base, rbl, rac }).total.dataSync()[0]!;
      const ce = crossEntropy(logits, labels).dataSync()[0]!;
      const rbl = rebalancedSmoothLoss(logits, labels, w, 0.3).dataSync()[0]!;
      const rac = rebalancedAttentionConsistency(cams, flipped, w).dataSync()[0]!;
      expect(value(false, false)).toBeCloseTo(ce, 6);
      expect(value(true, false)).toBeCloseTo(rbl, 6);
      expect(value(false, true)).toBeCloseTo(ce + 0.1 * rac, 5);
      expect(value(true, true)).toBeCloseTo(rbl + 0.1 * rac, 5);
    });
  });
});

describe('focal-style factor (loss.focal_gamma), golden values from the PyTorch reference', () => {
  // scripts/reference/make_loss_regimes.py: swin_mek.classification_loss in float64
  const fixture = JSON.parse(readFileSync(new URL('../fixtures/loss_regimes.json', import.meta.url), 'utf8')) as {
    tolerance: Record<string, number>;
    eps: number;
    class_weights: number[];
    labels: number[];
    logits: number[];
    shape: [number, number];
    cases: { rbl: boolean; gamma: number; loss: number; grad: number[] }[];
  };

  const tol = { loss: toleranceOf(fixture, 'loss'), grad: toleranceOf(fixture, 'grad') };

  for (const c of fixture.cases) {
    it(`${c.rbl ? 'RBL' : 'plain'} targets, gamma ${c.gamma}: loss to ${tol.loss}, gradient to ${tol.grad}`, () => {
      const opts = { rbl: c.rbl, eps: fixture.eps, rac: false, lambda: 0.1, focalGamma: c.gamma, classWeights: fixture.class_weights };
      const got = lossAndGradient(fixture.logits, fixture.shape, fixture.labels, fixture.class_weights, opts);
      expectLossAndGradient(got, c, tol);
    });
  }

  it('weighs a sample the model already gets right less than one it gets wrong', () => {
    // Both samples of class 0; the first predicted with p ~ 0.96, the second with p ~ 0.02.
    const perSample = (gamma: number) =>
      tf.tidy(() => {
        const w = tf.tensor1d([1, 1, 1]);
        const opts = { rbl: false, eps: 0, rac: false, lambda: 0, focalGamma: gamma, classWeights: [1, 1, 1] };
        const one = (row: number[]) => mekLoss(tf.tensor2d([row]), tf.tensor1d([0], 'int32'), null, null, w, opts).total.dataSync()[0]!;
        return [one([5, 1, 1]), one([-3, 1, 1])];
      });
    const [right0, wrong0] = perSample(0);
    const [right2, wrong2] = perSample(2);
    expect(right2! / right0!).toBeLessThan(0.01); // (1 - 0.965)^2
    expect(wrong2! / wrong0!).toBeGreaterThan(0.9);
  });
});

describe('balance power (loss.balance_power), golden values from the PyTorch reference', () => {
  const fixture = JSON.parse(readFileSync(new URL('../fixtures/loss_regimes.json', import.meta.url), 'utf8')) as {
    tolerance: Record<string, number>;
    balance_counts: number[];
    balance_labels: number[];
    balance_logits: number[];
    balance: { power: number; weights: number[]; rbl_loss: number }[];
  };

  const tol = { weights: toleranceOf(fixture, 'balance_weights'), rblLoss: toleranceOf(fixture, 'rbl_loss') };

  for (const b of fixture.balance) {
    it(`power ${b.power}: weights to ${tol.weights} and the RBL loss with them to ${tol.rblLoss}`, () => {
      const w = balanceWeights(fixture.balance_counts, 10, b.power);
      w.forEach((x, i) => expect(Math.abs(x - b.weights[i]!)).toBeLessThan(tol.weights * Math.max(1, b.weights[i]!)));
      const loss = tf.tidy(() =>
        rebalancedSmoothLoss(tf.tensor2d(fixture.balance_logits, [fixture.balance_labels.length, 10]), tf.tensor1d(fixture.balance_labels, 'int32'), tf.tensor1d(w), 0.3).dataSync()[0]!,
      );
      expect(Math.abs(loss - b.rbl_loss)).toBeLessThan(tol.rblLoss);
    });
  }

  it('flattens the share of eps the rarest class gets from a frequent-class sample', () => {
    const share = (power: number) => {
      const w = balanceWeights(fixture.balance_counts, 10, power);
      return w[9]! / w.slice(1).reduce((a, b) => a + b, 0); // a T-shirt's eps: to the others, by weight
    };
    expect(share(1)).toBeGreaterThan(0.35);
    expect(share(0.5)).toBeLessThan(0.25);
    expect(share(0)).toBeCloseTo(1 / 9, 12);
    expect(() => balanceWeights([1, 2], 10, -1)).toThrow(/power/);
  });
});
