// The class prior: the distribution of classes a model was trained on. Logit adjustment adds
// tau * log(prior) to the logits of the loss; post-hoc adjustment subtracts it at inference.
// With the balanced sampler every class is drawn equally often, so the prior the model sees is
// uniform whatever the counts (and adjusting for the counts would compensate twice).

export type Sampler = 'shuffle' | 'balanced';

export interface ClassPrior {
  /** Training images per class (after a validation hold-out). */
  counts: number[];
  /** How training drew them. */
  sampler: Sampler;
  /** The class distribution training saw: counts / N, or uniform with the balanced sampler. */
  probabilities: number[];
}

export function classPrior(counts: readonly number[], sampler: Sampler): ClassPrior {
  if (counts.length === 0) throw new Error('a class prior needs at least one class');
  const bad = counts.findIndex((n) => !Number.isInteger(n) || n <= 0);
  if (bad >= 0) throw new Error(`class ${bad} has ${counts[bad]} training samples; every class needs at least one`);
  const total = counts.reduce((a, b) => a + b, 0);
  const probabilities = sampler === 'balanced' ? counts.map(() => 1 / counts.length) : counts.map((n) => n / total);
  return { counts: [...counts], sampler, probabilities };
}

/** log(prior) per class. */
export function logPrior(prior: ClassPrior): number[] {
  return prior.probabilities.map(Math.log);
}
