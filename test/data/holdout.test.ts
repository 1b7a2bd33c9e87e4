// The validation hold-out (data.val_fraction): stratified, seeded, disjoint, complete.
import { describe, expect, it } from 'vitest';
import { heldOutCount, holdOut } from '../../src/data/holdout.ts';
import type { SplitSamples } from '../../src/data/labels.ts';

function split(counts: number[]): SplitSamples {
  const samples = counts.flatMap((n, label) => Array.from({ length: n }, (_, i) => ({ path: `c${label}_${i}.png`, label, origin: `l:${label}:${i}` })));
  // interleave the classes, as a label file does
  samples.sort((a, b) => Number(a.path.split('_')[1]!.split('.')[0]) - Number(b.path.split('_')[1]!.split('.')[0]) || a.label - b.label);
  return { split: 'train', samples, counts };
}

describe('validation hold-out', () => {
  it('takes round(fraction * n) of every class, at least one of a class of two, never a whole class', () => {
    expect([0, 1, 2, 3, 10, 15, 120, 6000].map((n) => heldOutCount(n, 0.1))).toEqual([0, 0, 1, 1, 1, 2, 12, 600]);
    expect(heldOutCount(2, 0.5)).toBe(1);
    expect(heldOutCount(3, 0.5)).toBe(2);
    expect(heldOutCount(100, 0)).toBe(0);
  });

  it('is stratified, disjoint and complete, keeps file order and counts, and repeats for a seed', () => {
    const all = split([600, 120, 26, 1]);
    const { train, val } = holdOut(all, 0.1, 2048);
    expect(val.counts).toEqual([60, 12, 3, 0]);
    expect(train.counts).toEqual([540, 108, 23, 1]);
    expect(val.split).toBe('val');
    expect(train.split).toBe('train');
    const paths = new Set([...train.samples, ...val.samples].map((s) => s.path));
    expect(paths.size).toBe(all.samples.length);
    const order = (xs: SplitSamples) => xs.samples.map((s) => all.samples.indexOf(s));
    expect(order(train)).toEqual([...order(train)].sort((a, b) => a - b));
    expect(order(val)).toEqual([...order(val)].sort((a, b) => a - b));
    expect(holdOut(all, 0.1, 2048).val.samples.map((s) => s.path)).toEqual(val.samples.map((s) => s.path));
    expect(holdOut(all, 0.1, 2049).val.samples.map((s) => s.path)).not.toEqual(val.samples.map((s) => s.path));
  });

  it('at fraction 0 holds nothing out; refuses a fraction of 1 or more', () => {
    const all = split([5, 5]);
    const { train, val } = holdOut(all, 0, 1);
    expect(train.samples).toEqual(all.samples);
    expect(val.samples).toEqual([]);
    expect(() => holdOut(all, 1, 1)).toThrow(/\[0, 1\)/);
  });
});
