// The ablation table: per method, the final evaluation of each seed's run reduced to mean and
// sample standard deviation over seeds, as the paper reports its ablations. Everything here is
// pure (numbers in, numbers and text out), so the maths is tested on fake runs without training.
// Accuracies are fractions in [0, 1] in the data and percentages in the text.

/** A method's keys on top of the base config; a function of train.steps where the value depends on it. */
export type MethodSetting = Record<string, unknown | ((steps: number) => unknown)>;

// Every method sets these, so the base config's values of them never leak into a method.
const PLAIN = {
  'loss.rbl': false, 'loss.rac': false, 'loss.logit_adjust': 0, 'loss.rbl_shares': 'balance', 'loss.drw_step': 0, 'data.sampler': 'shuffle',
  'loss.rac_normalize': 'none', 'loss.rac_classes': 'all', 'loss.rac_weights': 'balance',
};
/** The consistency variants together (docs/imbalance.md "Consistency variants"): standardised maps, true and predicted class only, weights of mean 1. */
const RAC_VARIANTS = { 'loss.rac_normalize': 'per_class', 'loss.rac_classes': 'true_pred', 'loss.rac_weights': 'mean1' };

/**
 * The recipes of the ablation: the paper's four (plain cross-entropy, RBL, CE + RAC, MEK) and
 * the long-tail remedies beside them (README "Imbalance: what helps"), each a setting of config
 * keys. mek-la is the composition of MEK's terms with logit adjustment that measurements
 * favoured: RBL's eps shared neutrally (the adjustment does the re-balancing) and RAC at lambda 0.01.
 */
export const METHODS = {
  ce: { label: 'CE', set: { ...PLAIN } },
  rbl: { label: 'RBL', set: { ...PLAIN, 'loss.rbl': true } },
  rac: { label: 'CE + RAC', set: { ...PLAIN, 'loss.rac': true } },
  mek: { label: 'MEK (RBL + RAC)', set: { ...PLAIN, 'loss.rbl': true, 'loss.rac': true } },
  la: { label: 'CE + LA', set: { ...PLAIN, 'loss.logit_adjust': 1 } },
  drw: { label: 'CE + DRW', set: { ...PLAIN, 'loss.drw_step': (steps: number) => Math.round(0.8 * steps) } },
  bal: { label: 'CE, balanced sampler', set: { ...PLAIN, 'data.sampler': 'balanced' } },
  'mek-la': {
    label: 'MEK + LA',
    set: { ...PLAIN, 'loss.rbl': true, 'loss.rac': true, 'loss.logit_adjust': 1, 'loss.rbl_shares': 'neutral', 'loss.lambda': 0.01 },
  },
  'mek-norm': { label: 'MEK, standardised maps', set: { ...PLAIN, 'loss.rbl': true, 'loss.rac': true, 'loss.rac_normalize': 'per_class' } },
  'mek-tp': { label: 'MEK, true + predicted class', set: { ...PLAIN, 'loss.rbl': true, 'loss.rac': true, 'loss.rac_classes': 'true_pred' } },
  'mek-w1': { label: 'MEK, weights of mean 1', set: { ...PLAIN, 'loss.rbl': true, 'loss.rac': true, 'loss.rac_weights': 'mean1' } },
  'mek-v': { label: 'MEK, all three variants', set: { ...PLAIN, 'loss.rbl': true, 'loss.rac': true, ...RAC_VARIANTS } },
  'mek-v-la': {
    label: 'MEK, all three variants + LA',
    set: { ...PLAIN, 'loss.rbl': true, 'loss.rac': true, ...RAC_VARIANTS, 'loss.logit_adjust': 1, 'loss.rbl_shares': 'neutral' },
  },
} as const satisfies Record<string, { label: string; set: MethodSetting }>;
export type Method = keyof typeof METHODS;
export const METHOD_NAMES = Object.keys(METHODS) as Method[];
/** What `mek ablate` runs without --methods: the paper's ablation and the remedies. */
export const DEFAULT_METHODS: Method[] = ['ce', 'mek', 'la', 'mek-la', 'drw', 'bal'];
/** Keys every method sets: a different base value of them does not make a different recipe. */
export const METHOD_KEYS: readonly string[] = Object.keys(PLAIN);

/**
 * Not a method: the base config exactly as given (`mek ablate --as-given`), for a recipe that has
 * no name yet, such as each composition scripts/reference/screen_longtail.sh screens.
 */
export const AS_GIVEN = 'config';
/** What the runs of one row of the table train: a method, or the config as given. */
export type Recipe = Method | typeof AS_GIVEN;
export const RECIPES: Readonly<Record<Recipe, { label: string; set: MethodSetting }>> = { ...METHODS, [AS_GIVEN]: { label: 'config as given', set: {} } };
export const RECIPE_NAMES = Object.keys(RECIPES) as Recipe[];

/** Classes whose rare-class accuracy the table reports. */
export const RAREST_COUNT = 3;

export interface EvalResult {
  step: number;
  accuracy: number;
  mean_class_accuracy: number;
  /** Recall per class in class order; null where the test split has no sample of the class. */
  per_class: (number | null)[];
}

/** What one method/seed run contributes to the table. */
export interface RunResult {
  method: Recipe;
  seed: number;
  runDir: string;
  /** The evaluation at the last step. */
  final: EvalResult;
  /** The best evaluation during the run by train.best_metric (on the validation split, or the test split). */
  best: EvalResult | null;
  /** With a validation split: the post-hoc tau chosen on it and the test split with that tau. */
  posthoc: { tau: number; test: EvalResult } | null;
  /** Seconds of training and evaluation, over every attempt; null when not recorded. */
  wallSeconds: number | null;
}

export interface Stat {
  mean: number;
  /** Sample standard deviation (n - 1); null for fewer than two values. */
  std: number | null;
  n: number;
}

export interface MethodSummary {
  method: Recipe;
  seeds: number[];
  accuracy: Stat | null;
  meanClass: Stat | null;
  /** Unweighted mean of the recalls of the rarest classes, per run, then over seeds. */
  rarest: Stat | null;
  bestAccuracy: Stat | null;
  bestMeanClass: Stat | null;
  posthocAccuracy: Stat | null;
  posthocMeanClass: Stat | null;
  posthocRarest: Stat | null;
  posthocTau: Stat | null;
  /** Mean wall time of one run in seconds, and the total over the method's runs. */
  wallSeconds: Stat | null;
  wallTotal: number | null;
}

export interface RarestClass {
  index: number;
  name: string;
  train: number;
}

/** Mean and sample standard deviation; null for no values. */
export function stat(values: readonly number[]): Stat | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n < 2 ? null : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, std, n };
}

/**
 * The `k` classes with the fewest training samples, fewest first; ties go to the higher class
 * index (the long-tailed profile puts its tail last, and RAF-DB has no ties).
 */
export function rarestClasses(trainCounts: readonly number[], classes: readonly string[], k = RAREST_COUNT): RarestClass[] {
  return trainCounts
    .map((train, index) => ({ index, name: classes[index] ?? `class_${index}`, train }))
    .sort((a, b) => a.train - b.train || b.index - a.index)
    .slice(0, Math.min(k, trainCounts.length));
}

/** Unweighted mean recall of `indices`; classes without test samples are left out (null if all are). */
export function subsetAccuracy(perClass: readonly (number | null)[], indices: readonly number[]): number | null {
  const present = indices.map((i) => perClass[i]).filter((v): v is number => typeof v === 'number');
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length;
}

/** One summary per method in `methods` order, from whatever runs of it are present. */
export function summarise(runs: readonly RunResult[], methods: readonly Recipe[], rarest: readonly RarestClass[]): MethodSummary[] {
  const indices = rarest.map((r) => r.index);
  const values = (xs: (number | null | undefined)[]) => xs.filter((v): v is number => typeof v === 'number');
  return methods.map((method) => {
    const mine = runs.filter((r) => r.method === method).sort((a, b) => a.seed - b.seed);
    const walls = values(mine.map((r) => r.wallSeconds));
    return {
      method,
      seeds: mine.map((r) => r.seed),
      accuracy: stat(mine.map((r) => r.final.accuracy)),
      meanClass: stat(mine.map((r) => r.final.mean_class_accuracy)),
      rarest: stat(values(mine.map((r) => subsetAccuracy(r.final.per_class, indices)))),
      bestAccuracy: stat(values(mine.map((r) => r.best?.accuracy))),
      bestMeanClass: stat(values(mine.map((r) => r.best?.mean_class_accuracy))),
      posthocAccuracy: stat(values(mine.map((r) => r.posthoc?.test.accuracy))),
      posthocMeanClass: stat(values(mine.map((r) => r.posthoc?.test.mean_class_accuracy))),
      posthocRarest: stat(values(mine.map((r) => (r.posthoc ? subsetAccuracy(r.posthoc.test.per_class, indices) : null)))),
      posthocTau: stat(values(mine.map((r) => r.posthoc?.tau))),
      wallSeconds: stat(walls),
      wallTotal: walls.length ? walls.reduce((a, b) => a + b, 0) : null,
    };
  });
}

/** "85.21 ± 0.43" (percent); the mean alone for one seed; "-" for none. */
export function formatStat(s: Stat | null): string {
  if (!s) return '-';
  const mean = (100 * s.mean).toFixed(2);
  return s.std === null ? mean : `${mean} ± ${(100 * s.std).toFixed(2)}`;
}

/** "14m 02s", "1h 03m", "12.3s". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m ${String(Math.round(seconds - 60 * m)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export interface TableContext {
  /** The ablation's name and the config it came from, for the caption. */
  name: string;
  config: string;
  steps: number;
  seeds: number[];
  rarest: RarestClass[];
  bestMetric: string;
  /** The split that picked each run's best checkpoint, and the validation fraction. */
  selection: 'val' | 'test';
  valFraction: number;
}

const HEADERS = ['method', 'seeds', 'accuracy', 'mean-class', 'rarest-3', 'post-hoc acc.', 'post-hoc mean-class', 'post-hoc rarest-3', 'tau', 'best acc.', 'best mean-class', 'time/run'];

function rows(summaries: readonly MethodSummary[]): string[][] {
  return summaries.map((s) => [
    RECIPES[s.method].label,
    String(s.seeds.length),
    formatStat(s.accuracy),
    formatStat(s.meanClass),
    formatStat(s.rarest),
    formatStat(s.posthocAccuracy),
    formatStat(s.posthocMeanClass),
    formatStat(s.posthocRarest),
    s.posthocTau ? s.posthocTau.mean.toFixed(2) : '-',
    formatStat(s.bestAccuracy),
    formatStat(s.bestMeanClass),
    formatDuration(s.wallSeconds?.mean ?? null),
  ]);
}

/** The caption: what the numbers are, which checkpoint, which classes are "rarest". */
export function caption(ctx: TableContext): string {
  const seeds = ctx.seeds.length === 1 ? `seed ${ctx.seeds[0]}` : `seeds ${ctx.seeds.join(', ')}`;
  const rare = ctx.rarest.map((r) => `${r.name} (${r.train})`).join(', ');
  const val = ctx.selection === 'val';
  const which = val
    ? `of the checkpoint with the best validation ${ctx.bestMetric} (data.val_fraction ${ctx.valFraction}), evaluated once at the end`
    : 'at the final evaluation (the last step)';
  const posthoc = val
    ? 'post-hoc: predictions argmax(logits - tau log prior) with tau chosen on the validation split (highest mean-class accuracy over 0, 0.25, ..., 2), tau its mean over seeds'
    : 'post-hoc: needs a validation split (data.val_fraction), none here';
  const best = val
    ? 'best: the best evaluation on the validation split'
    : `best: the best evaluation during the run by train.best_metric (${ctx.bestMetric}), picked on the test split, so optimistic`;
  return (
    `Ablation '${ctx.name}' (${ctx.config}, ${ctx.steps} steps, ${seeds}). Accuracy (%) on the test split ${which}, ` +
    `mean ± sample std over seeds (the mean alone for one seed). accuracy: overall; mean-class: unweighted mean of the ` +
    `per-class recalls; rarest-3: unweighted mean recall of the ${ctx.rarest.length} classes with the fewest training ` +
    `images: ${rare}. ${posthoc}. ${best}. time/run: wall time of one run (training and evaluations).`
  );
}

/** The table as aligned plain text, for the terminal. */
export function formatTable(summaries: readonly MethodSummary[], ctx: TableContext): string {
  const all = [HEADERS, ...rows(summaries)];
  const widths = HEADERS.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...rows(summaries).map(line), '', wrap(caption(ctx), 100)].join('\n') + '\n';
}

/** The table as Markdown (ablation.md): caption, summary table, then one row per run. */
export function formatMarkdown(summaries: readonly MethodSummary[], runs: readonly RunResult[], ctx: TableContext): string {
  const md = (r: string[]) => `| ${r.join(' | ')} |`;
  const align = HEADERS.map((_, c) => (c === 0 ? '---' : '---:'));
  const perRunHeaders = ['run', 'accuracy', 'mean-class', 'rarest-3', 'post-hoc mean-class (tau)', 'best acc. (step)', 'time'];
  const pct = (v: number | null | undefined) => (typeof v === 'number' ? (100 * v).toFixed(2) : '-');
  const indices = ctx.rarest.map((r) => r.index);
  const perRun = [...runs]
    .sort((a, b) => RECIPE_NAMES.indexOf(a.method) - RECIPE_NAMES.indexOf(b.method) || a.seed - b.seed)
    .map((r) => [
      `${r.method}-s${r.seed}`,
      pct(r.final.accuracy),
      pct(r.final.mean_class_accuracy),
      pct(subsetAccuracy(r.final.per_class, indices)),
      r.posthoc ? `${pct(r.posthoc.test.mean_class_accuracy)} (${r.posthoc.tau})` : '-',
      r.best ? `${pct(r.best.accuracy)} (${r.best.step})` : '-',
      formatDuration(r.wallSeconds),
    ]);
  return [
    `# Ablation: ${ctx.name}`,
    '',
    caption(ctx),
    '',
    md(HEADERS),
    md(align),
    ...rows(summaries).map(md),
    '',
    '## Runs',
    '',
    md(perRunHeaders),
    md(perRunHeaders.map((_, c) => (c === 0 ? '---' : '---:'))),
    ...perRun.map(md),
    '',
  ].join('\n');
}

function wrap(text: string, width: number): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join('\n');
}
