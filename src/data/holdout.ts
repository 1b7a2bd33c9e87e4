// The validation split: a stratified, seeded hold-out of the training split (data.val_fraction),
// so that evaluation during training, the choice of best.json and of the post-hoc tau never look
// at the test split. Stratified because a random draw of 10% could leave a rare class (RAF-DB's
// Fear has 281 images, the demo's 26) with no validation image at all.
import { Rng } from '../random.ts';
import type { SplitSamples } from './labels.ts';

export const VAL_SPLIT = 'val';

export interface HeldOut {
  /** The training split without the held-out samples (file order kept). */
  train: SplitSamples;
  /** The held-out samples (file order kept); empty at fraction 0. */
  val: SplitSamples;
}

/**
 * Images of a class of n that go to validation: round(fraction * n), at least one when the class
 * has two (a class the validation split cannot see cannot count in its mean-class accuracy), and
 * never all of them (a class must keep a training image).
 */
export function heldOutCount(n: number, fraction: number): number {
  if (fraction <= 0 || n < 2) return 0;
  return Math.min(Math.max(Math.floor(fraction * n + 0.5), 1), n - 1);
}

/**
 * Splits `split` into training and validation samples, per class, with a generator of its own
 * (seeded from `seed`), so the run's generator draws exactly what it draws without a hold-out.
 */
export function holdOut(split: SplitSamples, fraction: number, seed: number): HeldOut {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`validation fraction must be in [0, 1), got ${fraction}`);
  const rng = new Rng((seed ^ 0x76616c) >>> 0); // 'val'
  const byClass = split.counts.map(() => [] as number[]);
  split.samples.forEach((s, i) => byClass[s.label]!.push(i));
  const isVal = new Uint8Array(split.samples.length);
  for (const members of byClass) {
    const take = heldOutCount(members.length, fraction);
    for (const i of rng.shuffle([...members]).slice(0, take)) isVal[i] = 1;
  }
  const part = (name: string, keep: 0 | 1): SplitSamples => {
    const samples = split.samples.filter((_, i) => isVal[i] === keep);
    const counts = split.counts.map(() => 0);
    for (const s of samples) counts[s.label]! += 1;
    return { split: name, samples, counts };
  };
  return { train: part(split.split, 0), val: part(VAL_SPLIT, 1) };
}
