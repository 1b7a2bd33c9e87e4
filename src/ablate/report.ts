// The ablation's outputs from its runs' results: ablation.json (every number of the table, per
// method and per run), ablation.md (the table, its caption and one row per run), the plain-text
// table for the terminal, and the one line per run that the commands print.
import { basename, join } from 'node:path';
import { loadSplit } from '../data/labels.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { methodValues, type AblationPlan } from './plan.ts';
import {
  RECIPES,
  formatMarkdown,
  formatTable,
  rarestClasses,
  subsetAccuracy,
  summarise,
  type Recipe,
  type MethodSummary,
  type RarestClass,
  type RunResult,
  type TableContext,
} from './table.ts';

export const ABLATION_JSON = 'ablation.json';
export const ABLATION_MD = 'ablation.md';

export interface AblationTable {
  summaries: MethodSummary[];
  context: TableContext;
  /** The plain-text table with its caption. */
  table: string;
  /** True when every planned method x seed has a completed run. */
  complete: boolean;
}

/**
 * The rarest classes of the config's training split, read on first use: they are known only
 * once the data exists, and a run may write a synthetic set first.
 */
export function rarestLookup(plan: AblationPlan): () => RarestClass[] {
  let rarest: RarestClass[] | null = null;
  const data = plan.config.data;
  return () => (rarest ??= rarestClasses(loadSplit(data, 'train', { checkImages: false }).counts, data.classes));
}

/** Writes ablation.json and ablation.md of `runs` (those of the plan that are done). */
export async function writeTable(plan: AblationPlan, runs: RunResult[], rarest: () => RarestClass[]): Promise<AblationTable> {
  const { config } = plan;
  const rare = runs.length > 0 ? rarest() : [];
  const summaries = summarise(runs, plan.methods, rare);
  const context: TableContext = {
    name: basename(plan.dir),
    config: plan.configPath ?? '--set only',
    steps: config.train.steps,
    seeds: plan.seeds,
    rarest: rare,
    bestMetric: config.train.best_metric,
    selection: config.data.val_fraction > 0 ? 'val' : 'test',
    valFraction: config.data.val_fraction,
  };
  const complete = runs.length === plan.runs.length;
  const json = ablationJson(summaries, runs, context, config.data.classes, plan.methods, complete);
  await writeFileAtomic(join(plan.dir, ABLATION_JSON), JSON.stringify(json, null, 2) + '\n');
  await writeFileAtomic(join(plan.dir, ABLATION_MD), formatMarkdown(summaries, runs, context));
  return { summaries, context, table: formatTable(summaries, context), complete };
}

function pct(v: number | null): string {
  return v === null ? '-' : `${(100 * v).toFixed(2)}%`;
}

/** "accuracy 78.10%  mean-class 48.27%  rarest-3 13.33% (final, step 800)...; <run folder>". */
export function describeRun(r: RunResult, rarest: readonly RarestClass[]): string {
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
  methods: readonly Recipe[],
  complete: boolean,
) {
  const indices = ctx.rarest.map((r) => r.index);
  return {
    name: ctx.name,
    config: ctx.config,
    steps: ctx.steps,
    methods: methods.map((m) => ({ method: m, label: RECIPES[m].label, set: methodValues(m, ctx.steps) })),
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
