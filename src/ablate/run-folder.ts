// What the table reads from one run folder: summary.json (written by mek train at the end of a
// run), the last eval event of metrics.jsonl, and wall.json (the ablation's own record of the
// time a run took). Anything that writes these files in mek's format can contribute a run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import type { EvalResult, Recipe, RunResult } from './table.ts';

export const SUMMARY_FILE = 'summary.json';
export const METRICS_FILE = 'metrics.jsonl';
export const WALL_FILE = 'wall.json';

export interface SummaryFile {
  step: number;
  interrupted: boolean;
  best: { step: number; metrics: Record<string, unknown> } | null;
  /** Absent in runs of mek before validation splits: 'test'. */
  selection?: 'val' | 'test';
  test?: Record<string, unknown> | null;
  posthoc?: { tau: number; test: Record<string, unknown> } | null;
}

export interface WallFile {
  method: Recipe;
  seed: number;
  /** Seconds of training and evaluation, over every attempt. */
  wall_s: number;
}

export function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** The run's summary.json when it says the run finished all `steps`; null otherwise. */
export function completedSummary(runDir: string, steps: number): SummaryFile | null {
  const s = readJson<SummaryFile>(join(runDir, SUMMARY_FILE));
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
export function readRunResult(runDir: string, method: Recipe, seed: number, classes: readonly string[], summary: SummaryFile): RunResult {
  const wall = readJson<WallFile>(join(runDir, WALL_FILE));
  const common = {
    method,
    seed,
    runDir,
    best: summary.best ? evalResult(summary.best.step, summary.best.metrics, classes) : null,
    wallSeconds: wall?.wall_s ?? null,
  };
  if (summary.selection === 'val') {
    if (!summary.test || !summary.posthoc) throw new UsageError(`${join(runDir, SUMMARY_FILE)}: no test evaluation at the end; remove ${runDir} to train it again`);
    const test = summary.test;
    const posthoc = summary.posthoc.test;
    return {
      ...common,
      final: evalResult(test['step'] as number, test, classes),
      posthoc: { tau: summary.posthoc.tau, test: evalResult(posthoc['step'] as number, posthoc, classes) },
    };
  }
  return { ...common, final: evalResult(summary.step, lastEvalAt(runDir, summary.step), classes), posthoc: null };
}

/** The last eval event of the run's metrics.jsonl, which must be of the run's last step. */
function lastEvalAt(runDir: string, step: number): Record<string, unknown> {
  const file = join(runDir, METRICS_FILE);
  let last: Record<string, unknown> | null = null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as Record<string, unknown>;
    if (event['event'] === 'eval') last = event;
  }
  if (!last || last['step'] !== step) {
    throw new UsageError(`${file}: no evaluation at the last step ${step}; remove ${runDir} to train it again`);
  }
  return last;
}
