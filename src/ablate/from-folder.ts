// `mek ablate --table DIR`: the table of an ablation folder from the run folders as they are,
// training nothing. Whoever trained a run (mek, or scripts/reference/train_longtail.py from the
// folders of `mek ablate --plan-only`), its summary.json, metrics.jsonl and wall.json are read
// by the same code as mek's own runs, so the two tables cannot differ in how they are made.
import { readPlan } from './plan.ts';
import { describeRun, rarestLookup, writeTable } from './report.ts';
import { completedSummary, readRunResult } from './run-folder.ts';
import type { AblationResult } from './run.ts';
import type { RunResult } from './table.ts';

/** Reads every completed run of the plan in `dir`, then writes and returns the table. */
export async function tableFromFolder(dir: string, line: (text: string) => void): Promise<AblationResult> {
  const plan = readPlan(dir);
  const rarest = rarestLookup(plan);
  const runs: RunResult[] = [];
  for (const [i, run] of plan.runs.entries()) {
    const position = `[${i + 1}/${plan.runs.length}]`;
    const done = completedSummary(run.dir, plan.config.train.steps);
    if (!done) {
      line(`${position} ${run.tag}: not trained (no completed summary.json of ${plan.config.train.steps} steps); left out`);
      continue;
    }
    const result = readRunResult(run.dir, run.method, run.seed, plan.config.data.classes, done);
    line(`${position} ${run.tag}: ${describeRun(result, rarest())}`);
    runs.push(result);
  }
  return { dir, runs, ...(await writeTable(plan, runs, rarest)), interrupted: false };
}
