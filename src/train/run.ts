// A training run: data -> model -> MEK step -> AdamW on the schedule, with evaluation, best and
// last checkpoints, metrics.jsonl, curves, resume and a clean stop on Ctrl-C or a NaN loss.
// runTraining assembles the parts (trainer.ts, run-data.ts, checkpoints.ts, metrics-log.ts),
// hands them to the loop (loop.ts) and ends the run (final-test.ts, summary.ts).
import { join } from 'node:path';
import type { BackendInfo } from '../backend.ts';
import type { Config } from '../config/schema.ts';
import { variantFromConfig } from '../config/variant.ts';
import { loadSplits, type Splits } from '../data/splits.ts';
import { classPrior } from '../mek/prior.ts';
import { RunCheckpoints } from './checkpoints.ts';
import { testWithBest, type FinalTest, type FinalTestOptions } from './final-test.ts';
import { headProjectionFields, liveEvaluator, stepEvaluation } from './live-evaluation.ts';
import { TrainingLoop, TrainingStopped } from './loop.ts';
import { checkFitsWasm } from './memory.ts';
import type { ProgressReporter } from './progress.ts';
import { RunData } from './run-data.ts';
import { openRun } from './run-dir.ts';
import { writeSummary, type EvaluationAt, type TrainSummary } from './summary.ts';
import { ensureSyntheticDataset } from './synthetic-data.ts';
import { Trainer } from './trainer.ts';

export interface TrainRunOptions {
  config: Config;
  /** The config file, for the default run name. */
  configPath?: string;
  /** A checkpoint JSON (last.json) or a run folder to continue. */
  resume?: string;
  backend: BackendInfo;
  progress: ProgressReporter;
  /** Set by the Ctrl-C handler: the loop saves last.json and returns. */
  stopRequested: () => boolean;
}

export async function runTraining(opts: TrainRunOptions): Promise<TrainSummary> {
  const { config, progress } = opts;
  const variant = variantFromConfig(config);
  checkFitsWasm(variant, opts.backend, 'train');
  await ensureSyntheticDataset(config, progress);
  const splits = loadSplits(config);
  const prior = classPrior(splits.train.counts, config.data.sampler);
  const { runDir, resumeFrom, log, start } = await openRun(config, 'train', opts.configPath, opts.resume);
  const trainer = await Trainer.build({ config, backend: opts.backend, prior, resumeFrom, progress });
  const training = resumeFrom?.meta.training;
  const data = new RunData(config, variant, splits.train.samples, start.position);
  // Evaluation during training, and the choice of best.json, on the validation split when there is one.
  const selection = splits.val ? 'val' : 'test';
  const run = { model: trainer.model, classes: config.data.classes, preprocessing: data.preprocessing, config, prior, selection } as const;
  const checkpoints = new RunCheckpoints(runDir, run, (training?.resume?.['best'] as EvaluationAt | null | undefined) ?? null);
  const evaluate = liveEvaluator(trainer, data, progress, config.data.classes.length);
  const evaluateAt = stepEvaluation({
    classes: config.data.classes, evaluate, split: splits.val ?? splits.test, splitName: selection,
    linePrefix: selection === 'val' ? 'validation ' : '', pickBest: true, checkpoints, log, progress,
    extraFields: headProjectionFields(trainer, config),
  });
  const parts = { config, trainer, data, checkpoints, log, progress, evaluate: evaluateAt, stopRequested: opts.stopRequested } as const;
  const loop = new TrainingLoop(parts, start);
  for (const warning of trainer.warnings) progress.line(`warning: ${warning}`);
  progress.line(startLine(opts.backend, config, trainer, splits, runDir));
  let interrupted = false;
  let finalTest: FinalTest | null = null;
  let stopped: string | null = null;
  try {
    interrupted = await loop.run();
    finalTest = await endOfTraining(loop, interrupted, { splits, classes: config.data.classes, prior, evaluate, checkpoints, log, progress });
  } catch (err) {
    if (err instanceof TrainingStopped) stopped = err.message;
    throw err;
  } finally {
    progress.stop();
    await data.close();
    await trainer.close();
    // A stopped run says why in its summary too, beside the line on stderr.
    if (stopped !== null) await writeSummary(runDir, { step: loop.step, interrupted: false, stopped, best: checkpoints.best, last: loop.lastEval, selection, test: null, posthoc: null });
  }
  const skipped = data.train.skippedImages;
  if (skipped.length > 0) progress.line(`skipped ${skipped.length} unreadable images (data.on_bad_image: skip), e.g. ${skipped.slice(0, 3).join(', ')}`);
  const summary: TrainSummary = { runDir, step: loop.step, interrupted, best: checkpoints.best, last: loop.lastEval, selection, test: finalTest?.test ?? null, posthoc: finalTest?.posthoc ?? null };
  await writeSummary(runDir, summary);
  return summary;
}

/** The first line of a run: backend, model, data, run folder and how the step is computed. */
function startLine(backend: BackendInfo, config: Config, trainer: Trainer, splits: Splits, runDir: string): string {
  const { train, val, test } = splits;
  const images = `${train.samples.length} train / ${val ? `${val.samples.length} validation / ` : ''}${test.samples.length} test images`;
  return runLine(backend, config, trainer, `${images}; run folder ${runDir}`);
}

/** "<backend>; model <variant> <px> (<n> tensors); <middle>" and how the step is computed (mek train's and mek pretrain's first line). */
export function runLine(backend: BackendInfo, config: Config, trainer: Trainer, middle: string): string {
  const { threads, microBatch, recompute } = trainer.plan;
  return (
    `${backend.description}; model ${config.model.variant} ${trainer.model.variant.imgSize}px (${trainer.model.weights.trainable().length} tensors); ${middle}` +
    (threads > 1 ? `; ${threads} threads share each batch` : '') +
    (microBatch ? `; micro-batches of ${microBatch}` : '') +
    (recompute ? '; recomputing blocks in backward' : '')
  );
}

/** What the end needs: the final test's parts but the best evaluation and the two splits, which it finds. */
interface EndParts extends Omit<FinalTestOptions, 'best' | 'val' | 'test'> {
  splits: Splits;
}

/**
 * After the loop: an interrupted run saves last.json to continue from; a finished one with a
 * validation split evaluates best.json on the test split (final-test.ts); without one, says
 * that best.json was picked on the test split.
 */
async function endOfTraining(loop: TrainingLoop, interrupted: boolean, o: EndParts): Promise<FinalTest | null> {
  const { checkpoints, progress } = o;
  const best = checkpoints.best;
  if (interrupted) {
    await loop.saveLast();
    progress.line(`interrupted at step ${loop.step}: saved ${join(checkpoints.dir, 'last.json')}; continue with --resume ${checkpoints.dir}`);
    return null;
  }
  if (o.splits.val && best) {
    // Training is over: the model can take best.json's weights for the one test evaluation.
    await checkpoints.restoreBest();
    const { val, test } = o.splits;
    return testWithBest({ ...o, best, val, test });
  }
  progress.line(`best.json (step ${best?.step}) was picked on the test split, as the paper does: optimistic; set data.val_fraction for a validation split`);
  return null;
}
