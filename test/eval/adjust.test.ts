// Post-hoc logit adjustment: argmax(z - tau log prior), the sweep over tau and its choice.
import { describe, expect, it } from 'vitest';
import { adjustLogits, adjustedPredictions, bestTau, sweepAdjustment, TAU_GRID } from '../../src/eval/adjust.ts';

const PRIOR = [0.9, 0.1];
const LOG_PRIOR = PRIOR.map(Math.log);

describe('post-hoc adjustment', () => {
  it('subtracts tau log prior from each row', () => {
    const out = adjustLogits(Float32Array.from([1, 0, 2, 3]), LOG_PRIOR, 2);
    [1 - 2 * Math.log(0.9), -2 * Math.log(0.1), 2 - 2 * Math.log(0.9), 3 - 2 * Math.log(0.1)].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
    expect(() => adjustLogits(Float32Array.from([1, 2, 3]), LOG_PRIOR, 1)).toThrow(/rows of 2/);
  });

  it('moves a close call to the rare class; tau 0 is the plain argmax', () => {
    const logits = Float32Array.from([1.0, 0.5, 3.0, 0.0]);
    expect(Array.from(adjustedPredictions(logits, LOG_PRIOR, 0))).toEqual([0, 0]);
    // row 0: 1 + 0.105 vs 0.5 + 2.30 -> class 1; row 1: 3.105 vs 2.30 -> class 0
    expect(Array.from(adjustedPredictions(logits, LOG_PRIOR, 1))).toEqual([1, 0]);
  });

  it('sweeps tau over 0..2 and picks the highest mean-class accuracy, the smallest tau on a tie', () => {
    expect(TAU_GRID).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]);
    // three frequent-class samples (label 0) and one rare (label 1) the raw model calls frequent
    const logits = Float32Array.from([3, 0, 2.5, 0, 2, 0, 1, 0]);
    const labels = [0, 0, 0, 1];
    const sweep = sweepAdjustment(logits, labels, LOG_PRIOR);
    expect(sweep.map((p) => p.tau)).toEqual(TAU_GRID);
    expect(sweep[0]!.metrics.meanClass).toBe(0.5);
    const best = bestTau(sweep);
    // rare row flips once tau * ln 9 > 1 (tau 0.5); frequent rows start to flip at tau 0.91
    expect(best.tau).toBe(0.5);
    expect(best.metrics.meanClass).toBe(1);
    expect(() => bestTau([])).toThrow();
  });
});
