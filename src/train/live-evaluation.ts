// Evaluation during a run: the model being trained (its live weights, on the tfjs engine and
// the run's threads) over one pass of a split, with the evaluation progress bar. The
// evaluations that pick best.json and the final test split both run through here, and so do
// mek pretrain's, whose classes are the pretext task's.
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { SplitSamples } from '../data/labels.ts';
import { evaluate, type Evaluation } from '../eval/evaluate.ts';
import { headProjectionOfLogits } from '../eval/head-projection.ts';
import { confusionPng } from '../eval/plots/confusion.ts';
import { curvesPng } from '../eval/plots/curves.ts';
import type { RunCheckpoints } from './checkpoints.ts';
import { evaluationRecord, metricsLine } from './evaluation-report.ts';
import type { MetricsLog } from './metrics-log.ts';
import type { ProgressReporter } from './progress.ts';
import type { RunData } from './run-data.ts';
import type { EvaluationAt } from './summary.ts';
import type { Trainer } from './trainer.ts';

export type SplitEvaluator = (split: SplitSamples) => Promise<Evaluation>;

/** `views`: images the model sees per image of the split (mek pretrain: its four rotations). */
export function liveEvaluator(trainer: Trainer, data: RunData, progress: ProgressReporter, numClasses: number, views = 1): SplitEvaluator {
  const engine = trainer.evaluationEngine();
  return async (split) => {
    progress.evalStart(split.samples.length * views);
    const result = await evaluate(engine, data.evaluation(split.samples), { numClasses, onBatch: (done) => progress.evalProgress(done) });
    progress.evalEnd();
    return result;
  };
}

/** An evaluation during the run: its metrics.jsonl event and what the summary keeps of it. */
export interface StepEvaluationResult {
  event: Record<string, unknown>;
  at: EvaluationAt;
}

/** With train.log_head_projection, an evaluation's head_projection (eval/head-projection.ts): its logits and the head, nothing recomputed. */
export function headProjectionFields(trainer: Trainer, config: Config): StepEvaluationParts['extraFields'] {
  if (!config.train.log_head_projection) return undefined;
  return async (evaluation) => {
    const p = trainer.model.weights.params;
    const [weight, bias] = await Promise.all([p['head.weight']!.data(), p['head.bias']!.data()]);
    return { head_projection: headProjectionOfLogits(evaluation.logits, weight, bias, config.data.classes.length) };
  };
}

/** The run's evaluation at optimizer step `step`; the training loop calls it every train.eval_every steps. */
export type StepEvaluation = (step: number) => Promise<StepEvaluationResult>;

export interface StepEvaluationParts {
  /** The model's classes (mek pretrain: the rotations). */
  classes: string[];
  evaluate: SplitEvaluator;
  split: SplitSamples;
  /** The split's name in metrics.jsonl: 'val', 'test', or (mek pretrain without a validation split) 'train'. */
  splitName: 'val' | 'test' | 'train';
  /** Put before the metrics in the line the user reads ('validation ', 'rotation '). */
  linePrefix: string;
  /** Offer each evaluation for best.json (training); false: only last.json is kept (pretraining). */
  pickBest: boolean;
  checkpoints: RunCheckpoints;
  log: MetricsLog;
  progress: ProgressReporter;
  /** Fields the run adds to each eval event from the evaluation (train.log_head_projection). */
  extraFields?: (evaluation: Evaluation) => Promise<Record<string, unknown>>;
}

/** Evaluates the live model on one split: an eval event, the line, best.json when it is the best so far, the curves. */
export function stepEvaluation(o: StepEvaluationParts): StepEvaluation {
  return async (step) => {
    const { checkpoints, classes } = o;
    const evaluation = await o.evaluate(o.split);
    const m = evaluation.metrics;
    const record = evaluationRecord(m, classes);
    const event = { event: 'eval', step, split: o.splitName, ...record, ...(await o.extraFields?.(evaluation)) };
    o.log.record(event);
    o.progress.line(`step ${step}: ${o.linePrefix}${metricsLine(m, classes)}`);
    const isBest = o.pickBest && (await checkpoints.offer(step, record));
    if (isBest && o.splitName === 'test') await confusionPng(join(checkpoints.dir, 'confusion.png'), m, classes);
    await curvesPng(join(checkpoints.dir, 'curves.png'), o.log.history);
    return { event, at: { step, metrics: record } };
  };
}
