// The splits as training uses them: the training split less the validation hold-out
// (data.val_fraction), the validation split, and the test split. Training, `mek eval --split`
// and the class prior of a config all go through here, so the hold-out is the same everywhere.
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import { classPrior, type ClassPrior } from '../mek/prior.ts';
import { DataError } from '../errors.ts';
import { holdOut } from './holdout.ts';
import { loadSplit, type LoadOptions, type SplitSamples } from './labels.ts';
import { IMAGE_DIR } from './synth.ts';

export type SplitChoice = 'train' | 'val' | 'test';

export interface Splits {
  /** Less the validation hold-out. */
  train: SplitSamples;
  /** null at data.val_fraction 0. */
  val: SplitSamples | null;
  test: SplitSamples;
}

function checkLabelFile(config: Config): void {
  const d = config.data;
  if (d.format === 'rafdb' && !existsSync(d.label_file)) {
    throw new DataError(
      `${d.label_file}: RAF-DB label file not found; put list_patition_label.txt there and the images under ${d.root}/ ` +
        `(as <name> or ${IMAGE_DIR}/<stem>_aligned.jpg), or set data.label_file and data.root (README: "Reproduce the paper on RAF-DB")`,
    );
  }
}

/** All three splits; images are checked as data.on_bad_image asks. */
export function loadSplits(config: Config): Splits {
  checkLabelFile(config);
  const opts = { checkImages: config.data.on_bad_image === 'error' };
  const { train, val } = trainingSplits(config, opts);
  return { train, val, test: loadSplit(config.data, 'test', opts) };
}

/** One split as training saw it. */
export function loadSplitAsTrained(config: Config, which: SplitChoice, opts: LoadOptions = {}): SplitSamples {
  checkLabelFile(config);
  if (which === 'test') return loadSplit(config.data, 'test', opts);
  const parts = trainingSplits(config, opts);
  if (which === 'train') return parts.train;
  if (!parts.val) throw new DataError('there is no validation split: data.val_fraction is 0 (set it, as in training, to hold one out of the training split)');
  return parts.val;
}

/** The class prior a training run with this config uses (its training split, its sampler); images are not looked at. */
export function configPrior(config: Config): ClassPrior {
  return classPrior(loadSplitAsTrained(config, 'train', { checkImages: false }).counts, config.data.sampler);
}

function trainingSplits(config: Config, opts: LoadOptions): { train: SplitSamples; val: SplitSamples | null } {
  const all = loadSplit(config.data, 'train', opts);
  if (config.data.val_fraction === 0) return { train: all, val: null };
  return holdOut(all, config.data.val_fraction, config.train.seed);
}
