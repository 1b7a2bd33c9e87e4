// `mek data check --config F [--set k=v ...] [--json] [--quick]`: what training would see of the
// data, before any training. Counts per class and split, the imbalance, the balance weights the
// losses will use, and every problem at once; every image present is decoded as training will
// decode it (--quick: existence only). Missing images are reported, not fatal (the label files
// can be checked before the images are downloaded); any other problem exits 2.
import cliProgress from 'cli-progress';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { DataError } from '../errors.ts';
import { variantFromConfig } from '../config/variant.ts';
import { holdOut } from '../data/holdout.ts';
import { scanDataset, type DataProblem, type SplitName, type SplitScan } from '../data/labels.ts';
import { findUndecodable } from '../data/verify.ts';
import { balanceWeights, classBalancedWeights } from '../mek/balance.ts';
import { classPrior } from '../mek/prior.ts';
import type { MekCommand } from './program.ts';

/** Absent images listed per split. */
const MISSING_SHOWN = 5;

export interface SplitReport {
  split: string;
  total: number;
  counts: number[];
  images: {
    /** Where the images were looked for. */
    layout: string;
    root_missing: boolean;
    missing: number;
    first_missing: { origin: string; tried: string[] }[];
  };
}

export interface DataCheckReport {
  format: Config['data']['format'];
  /** The label file(s) or folder the splits come from, and the image root. */
  sources: Record<string, string>;
  classes: string[];
  splits: Record<SplitName, SplitReport>;
  /** Largest over smallest training count; null when a class has none. */
  imbalance_ratio: number | null;
  balance_normaliser: number | 'classes';
  balance_power: number;
  /** The weights training uses (null when they cannot be computed: an empty class). */
  weights: number[] | null;
  /** The validation hold-out of the training split (data.val_fraction), null at 0; training uses the rest. */
  validation: { fraction: number; seed: number; counts: number[] } | null;
  /** The class distribution training sees (null when a class has no training samples). */
  prior: number[] | null;
  /** Deferred re-weighting's class weights, when loss.drw_step is set. */
  drw_weights: number[] | null;
  missing_images: number;
  /** Images decoded to check them (null with --quick: existence only). */
  decoded: number | null;
  problems: DataProblem[];
  /** No problem other than missing images. */
  ok: boolean;
}

export function runDataCheck(config: Config): DataCheckReport {
  const data = config.data;
  const scan = scanDataset(data, ['train', 'test'], { checkImages: true });
  const splits = {} as Record<SplitName, SplitReport>;
  for (const which of ['train', 'test'] as const) splits[which] = splitReport(scan.splits[which]!);
  // What training draws from: the training split less the validation hold-out.
  const held = data.val_fraction > 0 ? holdOut(scan.splits.train!, data.val_fraction, config.train.seed) : null;
  const train = held ? held.train.counts : splits.train.counts;
  const hasEmpty = train.some((n) => n === 0);
  const normaliser = config.loss.balance_normaliser;
  const sources: Record<string, string> =
    data.format === 'rafdb'
      ? { label_file: data.label_file, root: data.root }
      : data.format === 'list'
        ? { train_list: data.train_list, test_list: data.test_list, root: data.root }
        : { root: data.root };
  return {
    format: data.format,
    sources,
    classes: [...data.classes],
    splits,
    imbalance_ratio: hasEmpty ? null : Math.max(...train) / Math.min(...train),
    balance_normaliser: normaliser,
    balance_power: config.loss.balance_power,
    weights: hasEmpty ? null : balanceWeights(train, normaliser, config.loss.balance_power),
    validation: held ? { fraction: data.val_fraction, seed: config.train.seed, counts: held.val.counts } : null,
    prior: hasEmpty ? null : classPrior(train, data.sampler).probabilities,
    drw_weights: hasEmpty || config.loss.drw_step === 0 ? null : classBalancedWeights(train, config.loss.drw_beta),
    missing_images: splits.train.images.missing + splits.test.images.missing,
    decoded: null,
    problems: scan.problems,
    ok: scan.problems.length === 0,
  };
}

function splitReport(s: SplitScan): SplitReport {
  return {
    split: s.split,
    total: s.samples.length,
    counts: s.counts,
    images: {
      layout: s.images.layout,
      root_missing: s.images.rootMissing,
      missing: s.images.missing.length,
      first_missing: s.images.missing.slice(0, MISSING_SHOWN).map((m) => ({ origin: m.sample.origin, tried: m.tried })),
    },
  };
}

/**
 * Decodes every image present (as evaluation decodes it: the model's size, data.eval_interpolation)
 * and adds one problem per image that does not decode; a bar shows the progress on a terminal.
 */
export async function decodeCheck(config: Config, report: DataCheckReport): Promise<void> {
  const scan = scanDataset(config.data, ['train', 'test'], { checkImages: true });
  const missing = new Set(Object.values(scan.splits).flatMap((s) => s.images.missing.map((m) => m.sample.origin)));
  const present = Object.values(scan.splits).flatMap((s) => s.samples.filter((x) => !missing.has(x.origin)));
  const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'decoding images {bar} {value}/{total} {eta_formatted}', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  bar?.start(present.length, 0);
  try {
    const bad = await findUndecodable(present, {
      size: variantFromConfig(config).imgSize,
      maxPixels: config.data.max_image_pixels,
      interpolation: config.data.eval_interpolation,
      onProgress: (done) => bar?.update(done),
    });
    report.decoded = present.length;
    for (const b of bad) report.problems.push({ kind: 'undecodable', message: `${b.origin}: ${b.message}` });
    report.ok = report.problems.length === 0;
  } finally {
    bar?.stop();
  }
}

export function formatDataCheck(r: DataCheckReport): string {
  const sources = Object.entries(r.sources).map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = [`data: ${r.format} (${sources})`, ''];
  const nameWidth = Math.max(5, ...r.classes.map((c) => c.length));
  const num = (v: number | string, w = 8) => String(v).padStart(w);
  const { train, test } = r.splits;
  const val = r.validation;
  const valHead = val ? num('val') : '';
  lines.push(`${'#'.padStart(2)}  ${'class'.padEnd(nameWidth)}${num(`train`)}${valHead}${num('test')}${num('weight', 13)}`);
  r.classes.forEach((name, k) => {
    const weight = r.weights ? r.weights[k]!.toFixed(8) : '-';
    const trained = train.counts[k]! - (val ? val.counts[k]! : 0);
    lines.push(`${num(k, 2)}  ${name.padEnd(nameWidth)}${num(trained)}${val ? num(val.counts[k]!) : ''}${num(test.counts[k]!)}${num(weight, 13)}`);
  });
  const valTotal = val ? val.counts.reduce((a, b) => a + b, 0) : 0;
  lines.push(`${''.padStart(2)}  ${'total'.padEnd(nameWidth)}${num(train.total - valTotal)}${val ? num(valTotal) : ''}${num(test.total)}`, '');
  if (val) lines.push(`validation split: data.val_fraction ${val.fraction} of each training class, drawn with train.seed ${val.seed}; training uses the rest`);

  if (r.imbalance_ratio !== null) {
    const max = Math.max(...train.counts);
    const min = Math.min(...train.counts);
    const nameOf = (n: number) => r.classes[train.counts.indexOf(n)];
    lines.push(`imbalance ratio (max/min train count): ${r.imbalance_ratio.toFixed(2)} (${nameOf(max)} ${max} / ${nameOf(min)} ${min})`);
  } else {
    lines.push('imbalance ratio: undefined (a class has no training samples)');
  }
  const norm = r.balance_normaliser === 'classes' ? `${r.classes.length} (the class count)` : String(r.balance_normaliser);
  lines.push(
    r.weights
      ? `balance weights w_c = ${r.balance_power === 1 ? `N / (${norm} * n_c)` : `(N / (${norm} * n_c))^${r.balance_power}`}, as training uses them: [${r.weights.map((w) => w.toFixed(8)).join(', ')}]`
      : 'balance weights: cannot be computed (a class has no training samples)',
  );
  if (r.prior) lines.push(`class prior training sees (logit adjustment, post-hoc adjustment): [${r.prior.map((p) => p.toFixed(6)).join(', ')}]`);
  if (r.drw_weights) lines.push(`deferred re-weighting's class weights (from loss.drw_step on): [${r.drw_weights.map((w) => w.toFixed(6)).join(', ')}]`);
  lines.push('');

  const undecodable = r.problems.filter((p) => p.kind === 'undecodable').length;
  const decoded = r.decoded === null ? ' (existence only: --quick)' : `; ${r.decoded} decoded, ${undecodable === 0 ? 'all readable' : `${undecodable} not`}`;
  lines.push(`images: ${r.missing_images === 0 ? 'all present' : `${r.missing_images} missing`}${decoded}`);
  for (const which of ['train', 'test'] as const) {
    const s = r.splits[which];
    const img = s.images;
    if (img.missing === 0) {
      lines.push(`  ${which}: ${s.total} of ${s.total} found at ${img.layout}`);
      continue;
    }
    const why = img.root_missing ? `the image root ${r.sources.root} does not exist; ` : '';
    lines.push(`  ${which}: ${img.missing} of ${s.total} missing (${why}looked for ${img.layout})`);
    for (const m of img.first_missing) lines.push(`    ${m.origin}: tried ${m.tried.join(', ')}`);
    if (img.missing > img.first_missing.length) lines.push(`    ... and ${img.missing - img.first_missing.length} more`);
  }
  lines.push('');

  if (r.problems.length === 0) lines.push('problems: none');
  else {
    lines.push(`problems: ${r.problems.length}`);
    for (const p of r.problems) lines.push(`  ${p.message}`);
  }
  return lines.join('\n') + '\n';
}

export const dataCheckCommand: MekCommand = {
  command: 'check',
  describe: 'Count the samples per class and split, show the balance weights, and report every data problem',
  builder: (y) =>
    y
      .option('config', { type: 'string', describe: 'config file (default: the built-in defaults, RAF-DB under dataset/)' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a key: --set data.root=/data/RAF' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
      .option('quick', { type: 'boolean', default: false, describe: 'only check that the images exist; do not decode them' }),
  handler: async (argv) => {
    const config = loadConfig(argv.config as string | undefined, argv.set as string[]);
    const report = runDataCheck(config);
    if (!argv.quick) await decodeCheck(config, report);
    process.stdout.write(argv.json ? JSON.stringify(report, null, 2) + '\n' : formatDataCheck(report));
    if (!report.ok) {
      const n = report.problems.length;
      throw new DataError(`data check found ${n} problem${n === 1 ? '' : 's'}; the first: ${report.problems[0]!.message}`);
    }
  },
};
