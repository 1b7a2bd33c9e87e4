// Class balance weights: w_c = (N / (norm * n_c))^power. The reference hard-codes norm = 10
// (its RAF-DB constants) and power 1; 'classes' uses the class count K, which makes the
// sample-weighted mean 1 (at power 1). A power below 1 flattens the weights (0.5: square-root
// re-balancing, 0: none): RBL shares its eps in proportion to them, and with a steep imbalance
// power 1 sends most of it to the rarest classes.

export type BalanceNormaliser = number | 'classes';

export const REFERENCE_NORMALISER = 10;

export function balanceWeights(counts: readonly number[], normaliser: BalanceNormaliser = REFERENCE_NORMALISER, power = 1): number[] {
  if (counts.length === 0) throw new Error('balance weights need at least one class');
  const bad = counts.findIndex((n) => !Number.isFinite(n) || n <= 0);
  if (bad >= 0) throw new Error(`class ${bad} has ${counts[bad]} training samples; every class needs at least one`);
  const norm = normaliser === 'classes' ? counts.length : normaliser;
  if (!(norm > 0)) throw new Error(`balance-weight normaliser must be positive, got ${normaliser}`);
  const total = counts.reduce((a, b) => a + b, 0);
  if (!(power >= 0)) throw new Error(`balance-weight power must be >= 0, got ${power}`);
  return counts.map((n) => (total / (norm * n)) ** power);
}

/**
 * Class-balanced weights (Cui et al., CVPR 2019), the weights of deferred re-weighting
 * (loss.drw_step): w_c proportional to 1 / E_c with E_c = (1 - beta^n_c) / (1 - beta), the
 * "effective number" of n_c samples, normalised so that the class weights average 1 (sum to K).
 * beta 0 gives all ones; as beta approaches 1 the weights approach N / (K n_c)-style inverse
 * frequencies.
 */
export function classBalancedWeights(counts: readonly number[], beta: number): number[] {
  if (!(beta >= 0 && beta < 1)) throw new Error(`class-balanced beta must be in [0, 1), got ${beta}`);
  const bad = counts.findIndex((n) => !Number.isFinite(n) || n <= 0);
  if (bad >= 0) throw new Error(`class ${bad} has ${counts[bad]} training samples; every class needs at least one`);
  const inverse = counts.map((n) => (1 - beta) / (1 - beta ** n));
  const sum = inverse.reduce((a, b) => a + b, 0);
  return inverse.map((w) => (w * counts.length) / sum);
}

/** What RAC weighs each class by (loss.rac_weights); RBL keeps the balance weights whatever this says. */
export type RacWeighting = 'balance' | 'mean1' | 'bounded' | 'uniform';

/** The cap of 'bounded': no class weighs more than a class of N / normaliser images (1 with 'classes': the average class). */
export const RAC_WEIGHT_BOUND = 1;

/**
 * RAC's class weights from the balance weights w: 'balance' w as they are (the paper; they sum
 * to ~10.1 on RAF-DB); 'mean1' w / mean(w) (the same ratios, averaging 1 over the classes, so
 * lambda alone sets the term's scale); 'bounded' min(w, RAC_WEIGHT_BOUND) (the frequent classes
 * keep their small weights, no rare class gets more than 1); 'uniform' all 1.
 */
export function racClassWeights(weights: readonly number[], mode: RacWeighting): number[] {
  switch (mode) {
    case 'balance':
      return [...weights];
    case 'mean1': {
      const mean = weights.reduce((a, b) => a + b, 0) / weights.length;
      return weights.map((w) => w / mean);
    }
    case 'bounded':
      return weights.map((w) => Math.min(w, RAC_WEIGHT_BOUND));
    case 'uniform':
      return weights.map(() => 1);
  }
}
