// The measurement of issue 18's mechanism: the pooled features' component along each head row.
import { describe, expect, it } from 'vitest';
import { headProjection, headProjectionOfLogits } from '../../src/eval/head-projection.ts';

// Two images, two feature dimensions, three classes. Row 0 = (3, 4) (norm 5), row 1 = (0, 2)
// (norm 2), row 2 all zero. f0 = (1, 0), f1 = (-1, 2).
const weight = [3, 4, 0, 2, 0, 0];
const features = [1, 0, -1, 2];

describe('head projection', () => {
  it('per class, the mean |f . w_k| / |w_k| over the images, by hand', () => {
    // class 0: |3| / 5 = 0.6 and |-3 + 8| / 5 = 1, mean 0.8; class 1: 0 and 4 / 2 = 2, mean 1;
    // class 2: a zero row, 0
    const got = headProjection(features, weight, 3);
    expect(got[0]).toBeCloseTo(0.8, 12);
    expect(got[1]).toBeCloseTo(1, 12);
    expect(got[2]).toBe(0);
  });

  it('is 0 for a class whose row the features are orthogonal to (the erased class), whatever the row\'s length', () => {
    const got = headProjection([4, 0, -2, 0], [0, 1, 5, 0], 2);
    expect(got[0]).toBe(0);
    expect(got[1]).toBeCloseTo(3, 12);
    expect(headProjection([4, 0, -2, 0], [0, 100, 5, 0], 2)).toEqual(got);
  });

  it('from the logits (bias removed) equals the value from the features', () => {
    const bias = [1, -2, 0.5];
    const logits = [0, 1].flatMap((b) => [0, 1, 2].map((k) => features[2 * b]! * weight[2 * k]! + features[2 * b + 1]! * weight[2 * k + 1]! + bias[k]!));
    const fromLogits = headProjectionOfLogits(logits, weight, bias, 3);
    headProjection(features, weight, 3).forEach((v, k) => expect(fromLogits[k]).toBeCloseTo(v, 12));
  });

  it('refuses shapes that do not fit the class count', () => {
    expect(() => headProjection([1, 2, 3], weight, 3)).toThrow(/do not fit 3 classes/);
  });
});
