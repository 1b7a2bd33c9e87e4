// Post-hoc logit adjustment (Menon et al., ICLR 2021): a model trained on imbalanced data
// predicts argmax(z - tau * log(prior)) instead of argmax(z), which trades a little overall
// accuracy for the rare classes at no training cost. The right tau depends on the model, so it
// is chosen on held-out data from a sweep, never guessed (and never on the test split).
import { argmaxRows, computeMetrics, type LabelArray, type Metrics } from './metrics.ts';

/** The sweep of `mek eval --sweep-adjust` and of the choice after training: 0 to 2 in steps of 0.25. */
export const TAU_GRID: readonly number[] = Array.from({ length: 9 }, (_, i) => i * 0.25);

/** Row-major [N, K] logits minus tau * logPrior per class (a new array). */
export function adjustLogits(logits: Float32Array, logPrior: readonly number[], tau: number): Float32Array {
  const k = logPrior.length;
  if (logits.length % k !== 0) throw new RangeError(`${logits.length} logits do not split into rows of ${k}`);
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - tau * logPrior[i % k]!;
  return out;
}

/** argmax of each row of the adjusted logits. */
export function adjustedPredictions(logits: Float32Array, logPrior: readonly number[], tau: number): Int32Array {
  return argmaxRows(tau === 0 ? logits : adjustLogits(logits, logPrior, tau), logPrior.length);
}

export interface SweepPoint {
  tau: number;
  metrics: Metrics;
}

/** Metrics of the adjusted predictions at every tau of `grid`. */
export function sweepAdjustment(logits: Float32Array, labels: LabelArray, logPrior: readonly number[], grid: readonly number[] = TAU_GRID): SweepPoint[] {
  return grid.map((tau) => ({ tau, metrics: computeMetrics(labels, adjustedPredictions(logits, logPrior, tau), logPrior.length) }));
}

/** The point of highest mean-class accuracy; on a tie the smallest tau (the least change). */
export function bestTau(points: readonly SweepPoint[]): SweepPoint {
  if (points.length === 0) throw new RangeError('no tau to choose from');
  return points.reduce((best, p) => (p.metrics.meanClass > best.metrics.meanClass || (p.metrics.meanClass === best.metrics.meanClass && p.tau < best.tau) ? p : best));
}
