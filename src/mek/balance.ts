// Class balance weights: w_c = N / (norm * n_c). The reference hard-codes norm = 10 (its
// RAF-DB constants); 'classes' uses the class count K, which makes the sample-weighted mean 1.

export type BalanceNormaliser = number | 'classes';

export const REFERENCE_NORMALISER = 10;

export function balanceWeights(counts: readonly number[], normaliser: BalanceNormaliser = REFERENCE_NORMALISER): number[] {
  if (counts.length === 0) throw new Error('balance weights need at least one class');
  const bad = counts.findIndex((n) => !Number.isFinite(n) || n <= 0);
  if (bad >= 0) throw new Error(`class ${bad} has ${counts[bad]} training samples; every class needs at least one`);
  const norm = normaliser === 'classes' ? counts.length : normaliser;
  if (!(norm > 0)) throw new Error(`balance-weight normaliser must be positive, got ${normaliser}`);
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((n) => total / (norm * n));
}
