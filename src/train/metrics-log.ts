// metrics.jsonl: one JSON event a line (train, eval, test, posthoc), appended as the run goes,
// and the history in memory that curves.png is drawn from.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMetricsJsonl } from '../eval/history.ts';
import { writeFileAtomic } from '../io/atomic.ts';

export class MetricsLog {
  readonly file: string;
  /** Every event of the run so far, those before a resume included. */
  readonly history: Record<string, unknown>[];

  private constructor(file: string, history: Record<string, unknown>[]) {
    this.file = file;
    this.history = history;
  }

  /**
   * The log of the run in `runDir`. A resumed run goes on from last.json's step: what was
   * logged after it (before a crash) is trained again, so those events are dropped from the
   * file, and the rest is the history the curves show.
   */
  static async open(runDir: string, resumedAt: number | null): Promise<MetricsLog> {
    const file = join(runDir, 'metrics.jsonl');
    return new MetricsLog(file, resumedAt === null ? [] : await historyUpTo(file, resumedAt));
  }

  record(event: Record<string, unknown>): void {
    this.history.push(event);
    appendFileSync(this.file, JSON.stringify(event) + '\n');
  }
}

/** metrics.jsonl's events up to `step`, the file rewritten to hold only them. */
async function historyUpTo(metricsFile: string, step: number): Promise<Record<string, unknown>[]> {
  if (!existsSync(metricsFile)) return [];
  const kept = parseMetricsJsonl(readFileSync(metricsFile, 'utf8')).filter((e) => e.step <= step);
  await writeFileAtomic(metricsFile, kept.map((e) => JSON.stringify(e) + '\n').join(''));
  return kept;
}
