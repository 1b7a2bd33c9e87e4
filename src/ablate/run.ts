// `mek ablate`: every method x seed trained with everything else identical, one run folder each
// under one ablation folder (plan.ts), then the table (report.ts). Resumable in the simple sense:
// a run folder with a completed summary.json is read, not re-run; one interrupted with
// last.json is resumed; one that left no checkpoint is started again.
//
//   <ablation folder>/<method>-s<seed>/  a normal run folder (mek train's files) plus wall.json
//   <ablation folder>/ablation.json, ablation.md
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendInfo } from '../backend.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import type { ProgressReporter } from '../train/progress.ts';
import { runTraining } from '../train/run.ts';
import { PLANNED_RUN_FILES, planAblation, runConfig, writePlan, type AblationPlan, type PlannedRun, type PlanOptions } from './plan.ts';
import { describeRun, rarestLookup, writeTable, type AblationTable } from './report.ts';
import { WALL_FILE, completedSummary, readJson, readRunResult, type WallFile } from './run-folder.ts';
import type { RarestClass, RunResult } from './table.ts';

export interface AblationOptions extends PlanOptions {
  backend: BackendInfo;
  /** A progress reporter for one run, told the run's tag (e.g. "mek-s2048"). */
  reporterFor: (tag: string) => ProgressReporter;
  /** Lines of the ablation itself: one per finished or skipped run. */
  line: (text: string) => void;
  stopRequested: () => boolean;
}

export interface AblationResult extends AblationTable {
  dir: string;
  runs: RunResult[];
  interrupted: boolean;
}

/** Trains what is missing, then writes and returns the table. */
export async function runAblation(opts: AblationOptions): Promise<AblationResult> {
  const plan = planAblation(opts);
  await writePlan(plan, opts.line);
  const rarest = rarestLookup(plan);
  const runs: RunResult[] = [];
  let interrupted = false;
  for (const [i, run] of plan.runs.entries()) {
    const position = `[${i + 1}/${plan.runs.length}]`;
    const done = completedSummary(run.dir, plan.config.train.steps);
    if (done) {
      const result = readRunResult(run.dir, run.method, run.seed, plan.config.data.classes, done);
      opts.line(`${position} ${run.tag}: already done, not re-run: ${describeRun(result, rarest())}`);
      runs.push(result);
      continue;
    }
    const trained = opts.stopRequested() ? null : await trainRun(plan, run, position, opts, rarest);
    if (!trained) {
      interrupted = true;
      break;
    }
    runs.push(trained);
  }
  return { dir: plan.dir, runs, ...(await writeTable(plan, runs, rarest)), interrupted };
}

/** Trains (or resumes) one run and records its wall time; null when it was interrupted. */
async function trainRun(plan: AblationPlan, run: PlannedRun, position: string, opts: AblationOptions, rarest: () => RarestClass[]): Promise<RunResult | null> {
  const resume = existsSync(join(run.dir, 'last.json')) ? run.dir : undefined;
  const present = !resume && existsSync(run.dir) ? readdirSync(run.dir) : [];
  // runTraining never reuses a non-empty folder. One of --plan-only holds nothing to keep; one
  // with more is a crash before the first checkpoint: nothing to continue from either.
  if (present.some((f) => !PLANNED_RUN_FILES.includes(f))) opts.line(`${position} ${run.tag}: the earlier attempt left no checkpoint; starting it again`);
  if (present.length > 0) rmSync(run.dir, { recursive: true, force: true });
  const before = readJson<WallFile>(join(run.dir, WALL_FILE))?.wall_s ?? 0;
  const start = performance.now();
  const summary = await runTraining({
    config: runConfig(plan.config, plan.dir, run.method, run.seed),
    configPath: opts.configPath,
    resume,
    backend: opts.backend,
    progress: opts.reporterFor(run.tag),
    stopRequested: opts.stopRequested,
  });
  const wall: WallFile = { method: run.method, seed: run.seed, wall_s: before + (performance.now() - start) / 1000 };
  await writeFileAtomic(join(summary.runDir, WALL_FILE), JSON.stringify(wall, null, 2) + '\n');
  if (summary.interrupted) {
    opts.line(`${position} ${run.tag}: interrupted at step ${summary.step}; run the same command again to continue`);
    return null;
  }
  const result = readRunResult(summary.runDir, run.method, run.seed, plan.config.data.classes, summary);
  opts.line(`${position} ${run.tag}: ${describeRun(result, rarest())}${resume ? ' (resumed)' : ''}`);
  return result;
}
