// What a run reports when it ends: the value runTraining returns and summary.json, its copy in
// the run folder.
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.ts';

/** An evaluation of the run: the step it came after and its metrics (see evaluationRecord). */
export interface EvaluationAt {
  step: number;
  metrics: Record<string, unknown>;
}

export interface TrainSummary {
  runDir: string;
  step: number;
  interrupted: boolean;
  best: EvaluationAt | null;
  /** The last evaluation during training (on the validation split when there is one). */
  last: EvaluationAt | null;
  /** The split that evaluations during training ran on and that picked best.json. */
  selection: 'val' | 'test';
  /** With a validation split: the test split, evaluated once at the end with best.json. */
  test: Record<string, unknown> | null;
  /** With a validation split: the post-hoc tau chosen on it and the test split with that tau. */
  posthoc: PosthocResult | null;
}

export interface PosthocResult {
  tau: number;
  /** Validation mean-class accuracy at the chosen tau and at 0. */
  val_mean_class_accuracy: number;
  val_mean_class_accuracy_raw: number;
  test: Record<string, unknown>;
}

/** summary.json: everything of the summary but the folder it is in; a stopped run says why. */
export async function writeSummary(runDir: string, summary: Omit<TrainSummary, 'runDir'> & { stopped?: string }): Promise<void> {
  const { runDir: _dir, ...saved } = summary as TrainSummary;
  await writeFileAtomic(join(runDir, 'summary.json'), JSON.stringify(saved, null, 2) + '\n');
}
