// Evaluation during a run: the model being trained (its live weights, on the tfjs engine and
// the run's threads) over one pass of a split, with the evaluation progress bar. The
// evaluations that pick best.json and the final test split both run through here.
import type { SplitSamples } from '../data/labels.ts';
import { evaluate, type Evaluation } from '../eval/evaluate.ts';
import type { ProgressReporter } from './progress.ts';
import type { RunData } from './run-data.ts';
import type { Trainer } from './trainer.ts';

export type SplitEvaluator = (split: SplitSamples) => Promise<Evaluation>;

export function liveEvaluator(trainer: Trainer, data: RunData, progress: ProgressReporter, numClasses: number): SplitEvaluator {
  const engine = trainer.evaluationEngine();
  return async (split) => {
    progress.evalStart(split.samples.length);
    const result = await evaluate(engine, data.evaluation(split.samples), { numClasses, onBatch: (done) => progress.evalProgress(done) });
    progress.evalEnd();
    return result;
  };
}
