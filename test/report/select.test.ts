// Which images a report shows: most confident first in each confusion cell, the hardest per
// class, bounded by the options whatever the split's size, each image once.
import { describe, expect, it } from 'vitest';
import { softmaxRows } from '../../src/eval/metrics.ts';
import { mapPair } from '../../src/report/data.ts';
import { selectShown } from '../../src/report/select.ts';

// 6 images, 2 classes: probabilities of class 1 per image.
const P1 = [0.9, 0.2, 0.6, 0.7, 0.1, 0.55];
const probs = Float32Array.from(P1.flatMap((p) => [1 - p, p]));
const labels = [1, 1, 0, 0, 0, 1];
const preds = P1.map((p) => (p > 0.5 ? 1 : 0));

describe('selectShown', () => {
  it('orders each cell by the probability of the predicted class and keeps at most perCell', () => {
    const s = selectShown(probs, labels, preds, 2, { perCell: 1, hardest: 0 });
    // (true 0, predicted 1): images 2 (0.6) and 3 (0.7): 3 first, and only it
    expect(s.cells[0]![1]).toEqual([3]);
    expect(s.cellTotals[0]![1]).toBe(2);
    expect(s.cells[1]![1]).toEqual([0]);
    expect(s.cellTotals).toEqual([[1, 2], [1, 2]]);
    expect(s.shown).toEqual([0, 1, 3, 4]);
  });

  it('lists the hardest images of each class, lowest probability of the true class first', () => {
    const s = selectShown(probs, labels, preds, 2, { perCell: 0, hardest: 2 });
    expect(s.hardest[1]).toEqual([1, 5]);
    expect(s.hardest[0]).toEqual([3, 2]);
    expect(s.shown).toEqual([1, 2, 3, 5]);
  });

  it('shows each image once however many lists name it', () => {
    const s = selectShown(probs, labels, preds, 2, { perCell: 10, hardest: 10 });
    expect(s.shown).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('what the strips show', () => {
  it('true and predicted class for a mistake, top two otherwise', () => {
    expect(mapPair([0.1, 0.6, 0.3], 2, 1)).toEqual([2, 1]);
    expect(mapPair([0.1, 0.6, 0.3], 1, 1)).toEqual([1, 2]);
    expect(mapPair([0.5, 0.2, 0.3], null, 0)).toEqual([0, 2]);
  });

  it('softmax rows sum to one and keep the order of the logits', () => {
    const p = softmaxRows(Float32Array.from([1, 2, 3, 1000, 0, -1000]), 3);
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 6);
    expect(p[2]).toBeGreaterThan(p[1]!);
    expect(p[3]).toBeCloseTo(1, 6);
  });
});
