// Metrics on hand-computed examples, the streaming accumulator against one shot, argmax.
import { describe, expect, it } from 'vitest';
import { argmaxRows, computeMetrics, ConfusionAccumulator, metricsFromConfusion } from '../../src/eval/metrics.ts';
import { RAFDB_CONFUSION } from '../helpers/rafdb.ts';

describe('computeMetrics', () => {
  it('matches a hand-computed three-class example', () => {
    // class 0: 2 of 3 right, class 1: 1 of 2, class 2: 1 of 1.
    const labels = [0, 0, 0, 1, 1, 2];
    const preds = [0, 0, 1, 1, 2, 2];
    const m = computeMetrics(labels, preds, 3);
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    expect(m.support).toEqual([3, 2, 1]);
    expect(m.total).toBe(6);
    expect(m.correct).toBe(4);
    expect(m.overall).toBeCloseTo(4 / 6, 12);
    expect(m.perClass[0]).toBeCloseTo(2 / 3, 12);
    expect(m.perClass[1]).toBeCloseTo(1 / 2, 12);
    expect(m.perClass[2]).toBe(1);
    expect(m.meanClass).toBeCloseTo((2 / 3 + 1 / 2 + 1) / 3, 12);
    expect(m.confusionNormalized[0]).toEqual([2 / 3, 1 / 3, 0]);
    expect(m.confusionNormalized[1]).toEqual([0, 0.5, 0.5]);
    expect(m.missingClasses).toEqual([]);
    expect(m.meanClassIsPartial).toBe(false);
  });

  it('reports a class without samples as null and leaves it out of the mean', () => {
    // Class 1 is never a label but is predicted once.
    const m = computeMetrics(Int32Array.from([0, 0, 2, 2]), Int32Array.from([0, 1, 2, 2]), 3);
    expect(m.support).toEqual([2, 0, 2]);
    expect(m.perClass).toEqual([0.5, null, 1]);
    expect(m.meanClass).toBe(0.75);
    expect(m.overall).toBe(0.75);
    expect(m.missingClasses).toEqual([1]);
    expect(m.meanClassIsPartial).toBe(true);
    expect(m.confusionNormalized[1]).toEqual([0, 0, 0]);
    const numbers = [m.overall, m.meanClass, ...m.confusionNormalized.flat(), ...m.perClass.filter((a) => a !== null)];
    expect(numbers.every(Number.isFinite)).toBe(true);
  });

  it('gives 1 for perfect and 0 for all-wrong predictions', () => {
    const labels = [0, 1, 2, 3, 3, 2];
    const perfect = computeMetrics(labels, labels, 4);
    expect(perfect.overall).toBe(1);
    expect(perfect.meanClass).toBe(1);
    expect(perfect.perClass).toEqual([1, 1, 1, 1]);
    const wrong = computeMetrics(labels, labels.map((l) => (l + 1) % 4), 4);
    expect(wrong.overall).toBe(0);
    expect(wrong.meanClass).toBe(0);
    expect(wrong.perClass).toEqual([0, 0, 0, 0]);
    expect(wrong.confusion[3]).toEqual([2, 0, 0, 0]);
  });

  it('separates overall from mean-class accuracy on an imbalanced set', () => {
    // 9 of 9 of the major class, 0 of 1 of the minor one: 90% overall, 50% mean-class.
    const m = computeMetrics([...Array<number>(9).fill(0), 1], Array<number>(10).fill(0), 2);
    expect(m.overall).toBeCloseTo(0.9, 12);
    expect(m.meanClass).toBeCloseTo(0.5, 12);
  });

  it('reproduces the reference checkpoint figures from its confusion matrix', () => {
    const m = metricsFromConfusion(RAFDB_CONFUSION);
    expect(m.total).toBe(3068);
    expect((m.overall * 100).toFixed(2)).toBe('92.70');
    expect((m.meanClass * 100).toFixed(2)).toBe('88.34');
    expect(m.perClass.map((a) => (a! * 100).toFixed(1))).toEqual(['92.7', '74.3', '85.6', '96.9', '90.0', '86.4', '92.5']);
  });

  it('rejects out-of-range labels, length mismatches and empty evaluations', () => {
    expect(() => computeMetrics([0, 3], [0, 0], 3)).toThrow(/label 3 at index 1/);
    expect(() => computeMetrics([0, 1], [0, -1], 3)).toThrow(/prediction -1/);
    expect(() => computeMetrics([0, 1.5], [0, 1], 3)).toThrow(RangeError);
    expect(() => computeMetrics([0, 1], [0], 3)).toThrow(/2 labels but 1 predictions/);
    expect(() => computeMetrics([], [], 3)).toThrow(/no samples/);
    expect(() => new ConfusionAccumulator(0)).toThrow(RangeError);
    expect(() => metricsFromConfusion([[1, 2]])).toThrow(/columns/);
  });
});

describe('ConfusionAccumulator', () => {
  it('equals the one-shot metrics when fed batch by batch', () => {
    const n = 257;
    const k = 5;
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 7 + (i >> 3)) % k);
    const preds = Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? labels[i]! : (i * 13) % k));
    const acc = new ConfusionAccumulator(k);
    for (let start = 0; start < n; start += 32) acc.add(labels.subarray(start, start + 32), preds.subarray(start, start + 32));
    expect(acc.total).toBe(n);
    expect(acc.metrics()).toEqual(computeMetrics(labels, preds, k));
  });

  it('leaves its counts untouched when a batch is rejected', () => {
    const acc = new ConfusionAccumulator(2).add([0, 1], [0, 1]);
    expect(() => acc.add([0, 5], [0, 0])).toThrow(RangeError);
    expect(acc.confusion()).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });
});

describe('argmaxRows', () => {
  it('picks the largest logit per row, the first on ties', () => {
    const logits = Float32Array.from([0.1, 2, -1, /* */ 5, 5, 1, /* */ -3, -2, -1, /* */ -Infinity, 0, 0]);
    expect(Array.from(argmaxRows(logits, 3))).toEqual([1, 0, 2, 1]);
  });

  it('rejects a length that is not a whole number of rows', () => {
    expect(() => argmaxRows(new Float32Array(7), 3)).toThrow(/rows of 3/);
  });
});
