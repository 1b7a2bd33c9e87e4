// `mek ablate`: every method x seed trained with everything else identical, one run folder each
// under one ablation folder, then the table (table.ts) written as ablation.json and ablation.md.
// Resumable in the simple sense: a run folder with a completed summary.json is read, not re-run;
// one interrupted with last.json is resumed; one that left no checkpoint is started again. The
// ablation folder keeps the base config, so a second invocation with a different recipe cannot
// mix its runs into the table of the first.
//
//   <train.out_dir>/<name>/config.yaml        the base config (before method and seed)
//   <train.out_dir>/<name>/<method>-s<seed>/  a normal run folder (mek train's files) plus wall.json
//   <train.out_dir>/<name>/ablation.json      every number of the table, per method and per run
//   <train.out_dir>/<name>/ablation.md        the table and its caption, and one row per run
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse } from 'yaml';
import type { BackendInfo } from '../backend.ts';
import { UsageError } from '../errors.ts';
import { configToYaml, defaultConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { loadSplit } from '../data/labels.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import type { ProgressReporter } from '../train/progress.ts';
import { runTraining } from '../train/run.ts';
import {
  METHOD_KEYS,
  METHOD_NAMES,
  METHODS,
  formatMarkdown,
  formatTable,
  rarestClasses,
  subsetAccuracy,
  summarise,
  type EvalResult,
  type Method,
  type MethodSummary,
  type RarestClass,
  type RunResult,
  type TableContext,
} from './table.ts';

export const ABLATION_JSON = 'ablation.json';
export const ABLATION_MD = 'ablation.md';
export const WALL_FILE = 'wall.json';

/**
 * Keys a re-invocation may change without mixing different recipes in one table: what names and
 * places the runs, what the methods and seeds set anyway, and what only changes speed or logging.
 */
const FREE_KEYS = new Set([
  'train.name', 'train.out_dir', 'train.seed', ...METHOD_KEYS,
  'data.workers', 'data.prefetch', 'data.cache_mb', 'train.log_every', 'train.micro_batch', 'train.recompute', 'train.threads',
]);

export interface AblationOptions {
  /** The base config; each run sets loss.rbl, loss.rac, train.seed, out_dir and name on top. */
  config: Config;
  configPath?: string;
  methods: readonly Method[];
  /** Number of seeds: train.seed, train.seed + 1, ... */
  seeds: number;
  /** Ablation folder name under train.out_dir (default: <config name>-ablation). */
  name?: string;
  backend: BackendInfo;
  /** A progress reporter for one run, told the run's tag (e.g. "mek-s2048"). */
  reporterFor: (tag: string) => ProgressReporter;
  /** Lines of the ablation itself: one per finished or skipped run. */
  line: (text: string) => void;
  stopRequested: () => boolean;
}

export interface AblationResult {
  dir: string;
  runs: RunResult[];
  summaries: MethodSummary[];
  context: TableContext;
  /** The plain-text table with its caption. */
  table: string;
  /** True when every method x seed has a completed run. */
  complete: boolean;
  interrupted: boolean;
}

/** "ce,rbl,mek" as methods in the given order, each once; unknown names are a UsageError. */
export function parseMethods(text: string): Method[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError(`--methods: no method given (choose from ${METHOD_NAMES.join(', ')})`);
  for (const n of names) {
    if (!(METHOD_NAMES as string[]).includes(n)) throw new UsageError(`--methods: unknown method '${n}' (choose from ${METHOD_NAMES.join(', ')})`);
  }
  return [...new Set(names)] as Method[];
}

export function ablationDir(config: Config, configPath: string | undefined, name?: string): string {
  const base = configPath ? basename(configPath, extname(configPath)) : config.train.name || 'run';
  return join(config.train.out_dir, name || `${base}-ablation`);
}

/** Method keys the base config sets away from their defaults: each method overrides them. */
function overriddenKeys(config: Config): string[] {
  const defaults = flatten(defaultConfig());
  const now = flatten(config);
  return METHOD_KEYS.filter((k) => now.get(k) !== defaults.get(k));
}

/** A method's keys with their values for a run of `steps` steps. */
export function methodValues(method: Method, steps: number): Record<string, unknown> {
  return Object.fromEntries(Object.entries(METHODS[method].set).map(([key, v]) => [key, typeof v === 'function' ? v(steps) : v]));
}

/** The config of one method/seed run: the base with the method's keys, the seed and its folder. */
export function runConfig(base: Config, dir: string, method: Method, seed: number): Config {
  const c = structuredClone(base);
  for (const [key, value] of Object.entries(methodValues(method, base.train.steps))) {
    const [section, name] = key.split('.') as [keyof Config, string];
    (c[section] as unknown as Record<string, unknown>)[name] = value;
  }
  c.train.seed = seed;
  c.train.out_dir = dir;
  c.train.name = `${method}-s${seed}`;
  return c;
}

function flatten(config: object): Map<string, string> {
  const out = new Map<string, string>();
  for (const [section, values] of Object.entries(config)) {
    for (const [key, value] of Object.entries((values ?? {}) as Record<string, unknown>)) out.set(`${section}.${key}`, JSON.stringify(value));
  }
  return out;
}

/** Refuses to continue an ablation folder that was started with a different recipe. */
function checkSameRecipe(dir: string, config: Config): void {
  const file = join(dir, 'config.yaml');
  if (!existsSync(file)) return;
  const saved = flatten(parse(readFileSync(file, 'utf8')) as object);
  const now = flatten(config);
  // A key on one side only was added to (or removed from) the schema in between; its default
  // keeps the old behaviour, so it does not count as a different recipe.
  const differ = [...now.keys()].filter((k) => !FREE_KEYS.has(k) && saved.has(k) && saved.get(k) !== now.get(k));
  if (differ.length > 0) {
    const shown = differ.slice(0, 4).map((k) => `${k} ${saved.get(k)} -> ${now.get(k)}`).join(', ');
    throw new UsageError(
      `${dir} holds an ablation of a different config (${shown}${differ.length > 4 ? `, ${differ.length - 4} more` : ''}); choose another --name or remove the folder`,
    );
  }
}

interface SummaryFile {
  step: number;
  interrupted: boolean;
  best: { step: number; metrics: Record<string, unknown> } | null;
  /** Absent in runs of mek before validation splits: 'test'. */
  selection?: 'val' | 'test';
  test?: Record<string, unknown> | null;
  posthoc?: { tau: number; test: Record<string, unknown> } | null;
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** The run's summary.json when it says the run finished all `steps`; null otherwise. */
export function completedSummary(runDir: string, steps: number): SummaryFile | null {
  const s = readJson<SummaryFile>(join(runDir, 'summary.json'));
  return s && !s.interrupted && s.step >= steps ? s : null;
}

function evalResult(step: number, metrics: Record<string, unknown>, classes: readonly string[]): EvalResult {
  const perClass = (metrics['per_class'] ?? {}) as Record<string, number | null>;
  return {
    step,
    accuracy: metrics['accuracy'] as number,
    mean_class_accuracy: metrics['mean_class_accuracy'] as number,
    per_class: classes.map((c) => perClass[c] ?? null),
  };
}

/**
 * A completed run's final evaluation, best, post-hoc result and wall time. The final evaluation
 * is the test split's: with a validation split the one evaluation of best.json at the end
 * (summary.json), else the last eval event of metrics.jsonl.
 */
export function readRunResult(runDir: string, method: Method, seed: number, classes: readonly string[], summary: SummaryFile): RunResult {
  const wall = readJson<{ wall_s: number }>(join(runDir, WALL_FILE));
  const common = {
    method,
    seed,
    runDir,
    best: summary.best ? evalResult(summary.best.step, summary.best.metrics, classes) : null,
    wallSeconds: wall?.wall_s ?? null,
  };
  if (summary.selection === 'val') {
    if (!summary.test || !summary.posthoc) throw new UsageError(`${join(runDir, 'summary.json')}: no test evaluation at the end; remove ${runDir} to train it again`);
    const test = summary.test;
    const posthoc = summary.posthoc.test;
    return {
      ...common,
      final: evalResult(test['step'] as number, test, classes),
      posthoc: { tau: summary.posthoc.tau, test: evalResult(posthoc['step'] as number, posthoc, classes) },
    };
  }
  const file = join(runDir, 'metrics.jsonl');
  let last: Record<string, unknown> | null = null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as Record<string, unknown>;
    if (event['event'] === 'eval') last = event;
  }
  if (!last || last['step'] !== summary.step) {
    throw new UsageError(`${file}: no evaluation at the last step ${summary.step}; remove ${runDir} to train it again`);
  }
  return { ...common, final: evalResult(summary.step, last, classes), posthoc: null };
}

function pct(v: number | null): string {
  return v === null ? '-' : `${(100 * v).toFixed(2)}%`;
}

/** Trains what is missing, then writes and returns the table. */
export async function runAblation(opts: AblationOptions): Promise<AblationResult> {
  const { config, methods, line } = opts;
  if (!Number.isInteger(opts.seeds) || opts.seeds < 1) throw new UsageError(`--seeds must be a positive integer, got ${opts.seeds}`);
  if (methods.length === 0) throw new UsageError('--methods: no method given');
  const dir = ablationDir(config, opts.configPath, opts.name);
  checkSameRecipe(dir, config);
  mkdirSync(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'config.yaml'), configToYaml(config));
  for (const key of overriddenKeys(config)) line(`note: ${key} is set by every method (${METHOD_KEYS.join(', ')}); the config's value is not used`);

  const classes = config.data.classes;
  const seeds = Array.from({ length: opts.seeds }, (_, i) => config.train.seed + i);
  // Known once the data exists (a run may write a synthetic set first).
  let rarest: RarestClass[] | null = null;
  const rarestNow = () => (rarest ??= rarestClasses(loadSplit(config.data, 'train', { checkImages: false }).counts, classes));

  const runs: RunResult[] = [];
  const total = methods.length * seeds.length;
  let interrupted = false;
  // Seed-major: every method of the first seed before the second, so an early stop still compares.
  outer: for (const seed of seeds) {
    for (const method of methods) {
      const tag = `${method}-s${seed}`;
      const runDir = join(dir, tag);
      const position = `[${runs.length + 1}/${total}]`;
      const done = completedSummary(runDir, config.train.steps);
      let result: RunResult;
      if (done) {
        result = readRunResult(runDir, method, seed, classes, done);
        line(`${position} ${tag}: already done, not re-run: ${describeRun(result, rarestNow())}`);
      } else {
        if (opts.stopRequested()) {
          interrupted = true;
          break outer;
        }
        const resume = existsSync(join(runDir, 'last.json')) ? runDir : undefined;
        if (!resume && existsSync(runDir) && readdirSync(runDir).length > 0) {
          // A crash before the first checkpoint: nothing to continue from, and runTraining never
          // reuses a non-empty folder.
          line(`${position} ${tag}: the earlier attempt left no checkpoint; starting it again`);
          rmSync(runDir, { recursive: true, force: true });
        }
        const before = readJson<{ wall_s: number }>(join(runDir, WALL_FILE))?.wall_s ?? 0;
        const start = performance.now();
        const summary = await runTraining({
          config: runConfig(config, dir, method, seed),
          configPath: opts.configPath,
          resume,
          backend: opts.backend,
          progress: opts.reporterFor(tag),
          stopRequested: opts.stopRequested,
        });
        const wall = before + (performance.now() - start) / 1000;
        await writeFileAtomic(join(summary.runDir, WALL_FILE), JSON.stringify({ method, seed, wall_s: wall }, null, 2) + '\n');
        if (summary.interrupted) {
          line(`${position} ${tag}: interrupted at step ${summary.step}; run the same command again to continue`);
          interrupted = true;
          break outer;
        }
        result = readRunResult(summary.runDir, method, seed, classes, summary);
        line(`${position} ${tag}: ${describeRun(result, rarestNow())}${resume ? ' (resumed)' : ''}`);
      }
      runs.push(result);
    }
  }

  const rare = runs.length > 0 ? rarestNow() : [];
  const summaries = summarise(runs, methods, rare);
  const context: TableContext = {
    name: basename(dir),
    config: opts.configPath ?? '--set only',
    steps: config.train.steps,
    seeds,
    rarest: rare,
    bestMetric: config.train.best_metric,
    selection: config.data.val_fraction > 0 ? 'val' : 'test',
    valFraction: config.data.val_fraction,
  };
  const complete = runs.length === total;
  await writeFileAtomic(join(dir, ABLATION_JSON), JSON.stringify(ablationJson(summaries, runs, context, classes, methods, complete), null, 2) + '\n');
  await writeFileAtomic(join(dir, ABLATION_MD), formatMarkdown(summaries, runs, context));
  return { dir, runs, summaries, context, table: formatTable(summaries, context), complete, interrupted };
}

function describeRun(r: RunResult, rarest: readonly RarestClass[]): string {
  const f = r.final;
  const rare = subsetAccuracy(f.per_class, rarest.map((c) => c.index));
  const time = r.wallSeconds === null ? '' : ` in ${Math.round(r.wallSeconds)} s`;
  const posthoc = r.posthoc ? `; post-hoc tau ${r.posthoc.tau}: mean-class ${pct(r.posthoc.test.mean_class_accuracy)}` : '';
  return `accuracy ${pct(f.accuracy)}  mean-class ${pct(f.mean_class_accuracy)}  rarest-${rarest.length} ${pct(rare)} (final, step ${f.step})${posthoc}${time}; ${r.runDir}`;
}

function ablationJson(
  summaries: readonly MethodSummary[],
  runs: readonly RunResult[],
  ctx: TableContext,
  classes: readonly string[],
  methods: readonly Method[],
  complete: boolean,
) {
  const indices = ctx.rarest.map((r) => r.index);
  return {
    name: ctx.name,
    config: ctx.config,
    steps: ctx.steps,
    methods: methods.map((m) => ({ method: m, label: METHODS[m].label, set: methodValues(m, ctx.steps) })),
    selection: ctx.selection,
    val_fraction: ctx.valFraction,
    seeds: ctx.seeds,
    /** Which evaluation the numbers are. */
    checkpoint: 'final evaluation (last step); best_* is the best evaluation by train.best_metric',
    best_metric: ctx.bestMetric,
    classes,
    rarest_classes: ctx.rarest,
    complete,
    summary: summaries.map((s) => ({
      method: s.method,
      seeds: s.seeds,
      accuracy: s.accuracy,
      mean_class_accuracy: s.meanClass,
      rarest_accuracy: s.rarest,
      best_accuracy: s.bestAccuracy,
      best_mean_class_accuracy: s.bestMeanClass,
      posthoc_accuracy: s.posthocAccuracy,
      posthoc_mean_class_accuracy: s.posthocMeanClass,
      posthoc_rarest_accuracy: s.posthocRarest,
      posthoc_tau: s.posthocTau,
      wall_s_per_run: s.wallSeconds,
      wall_s_total: s.wallTotal,
    })),
    runs: runs.map((r) => ({
      method: r.method,
      seed: r.seed,
      run_dir: r.runDir,
      final: r.final,
      rarest_accuracy: subsetAccuracy(r.final.per_class, indices),
      best: r.best,
      posthoc: r.posthoc,
      wall_s: r.wallSeconds,
    })),
  };
}
