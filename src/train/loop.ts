// The training loop: steps until train.steps or a stop request, a log event every
// train.log_every steps, an evaluation and last.json every train.eval_every steps and at the
// end. A non-finite loss stops the run (TrainingStopped) without saving its state.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Config } from '../config/schema.ts';
import type { LoaderPosition } from '../data/loader.ts';
import type { RunCheckpoints } from './checkpoints.ts';
import type { StepEvaluation } from './live-evaluation.ts';
import type { MetricsLog } from './metrics-log.ts';
import type { ProgressReporter } from './progress.ts';
import type { RunData } from './run-data.ts';
import type { StepResult } from './step.ts';
import type { EvaluationAt } from './summary.ts';
import type { Trainer } from './trainer.ts';

/** A training failure that is not the user's input (a NaN loss): exit 1, one line. */
export class TrainingStopped extends Error {
  override name = 'TrainingStopped';
}

export interface LoopParts {
  config: Config;
  trainer: Trainer;
  data: RunData;
  checkpoints: RunCheckpoints;
  log: MetricsLog;
  progress: ProgressReporter;
  /** The evaluation every train.eval_every steps (live-evaluation.ts): what it records and keeps is the run's to say. */
  evaluate: StepEvaluation;
  /** Set by the Ctrl-C handler: the loop returns after the current step. */
  stopRequested: () => boolean;
}

export class TrainingLoop {
  /** Optimizer steps taken, those before a resume included. */
  step: number;
  /** The last evaluation, null before the first. */
  lastEval: EvaluationAt | null = null;
  private readonly o: LoopParts;
  /** Where the training stream stands after the last step taken. */
  private position: LoaderPosition;
  /** The last logged step's losses, gradient norm and learning rate. */
  private lastMetrics: Record<string, unknown> = {};
  private timer = performance.now();
  private samplesSinceLog = 0;

  constructor(parts: LoopParts, start: { step: number; position: LoaderPosition }) {
    this.o = parts;
    this.step = start.step;
    this.position = start.position;
  }

  /** Trains until train.steps; returns true when a stop request ended it first. */
  async run(): Promise<boolean> {
    const { config, trainer, data } = this.o;
    while (this.step < config.train.steps) {
      // A step runs synchronously and prefetched batches resolve as microtasks, so without this
      // the event loop would never turn: no Ctrl-C handler, no decode completions, no worker
      // messages until the run ends.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.o.stopRequested()) return true;
      const batch = await data.train.next();
      if (!batch || batch.size === 0) {
        batch?.images.dispose();
        batch?.labels.dispose();
        continue;
      }
      const { result, lr } = await trainer.step({ images: batch.images, labels: batch.labels }, this.step);
      tf.dispose([batch.images, batch.labels]);
      this.position = batch.next;
      this.step += 1;
      this.samplesSinceLog += batch.size;
      try {
        if (this.step % config.train.log_every === 0 || this.step === config.train.steps) await this.logStep(result, lr, batch.epoch);
      } finally {
        tf.dispose([result.total, result.cls, result.gradNorm, ...(result.rac ? [result.rac] : [])]);
      }
      if ((config.train.eval_every > 0 && this.step % config.train.eval_every === 0) || this.step === config.train.steps) await this.evaluateAndSave();
    }
    return false;
  }

  /** last.json at the current step with `metrics`. */
  saveLast(metrics: Record<string, unknown> = this.lastMetrics): Promise<void> {
    const { trainer } = this.o;
    return this.o.checkpoints.saveLast(this.step, metrics, { optimizer: trainer.optimizer, rng: trainer.rng, loader: this.position });
  }

  /** The step's only read-back: its loss terms, at logging points; a train event and the progress line. */
  private async logStep(result: StepResult, lr: number, epoch: number): Promise<void> {
    const [loss, cls, rac, gradNorm] = await Promise.all(
      [result.total, result.cls, result.rac, result.gradNorm].map(async (t) => (t ? (await t.data())[0]! : null)),
    );
    const speed = this.samplesSinceLog / ((performance.now() - this.timer) / 1000);
    this.timer = performance.now();
    this.samplesSinceLog = 0;
    if (!Number.isFinite(loss!)) {
      throw new TrainingStopped(
        `loss is ${loss} at step ${this.step} (lr ${lr.toExponential(2)}); stopped without saving this state. ` +
          `The last good checkpoint is ${join(this.o.checkpoints.dir, 'last.json')}; try a lower optim.lr or optim.clip_norm`,
      );
    }
    this.lastMetrics = { loss, loss_cls: cls, loss_rac: rac, grad_norm: gradNorm, lr };
    this.o.log.record({ event: 'train', step: this.step, epoch, ...this.lastMetrics, samples_per_s: speed });
    this.o.progress.step({ step: this.step, total: this.o.config.train.steps, epoch, loss: loss!, cls: cls!, rac: rac ?? null, lr, samplesPerSecond: speed });
  }

  /** An evaluation, then last.json; when the evaluation fails, last.json first. */
  private async evaluateAndSave(): Promise<void> {
    const { event, at } = await this.o.evaluate(this.step).catch(async (err: unknown) => {
      // A bad evaluation image must not cost the steps since the last save.
      await this.saveLast();
      const runDir = this.o.checkpoints.dir;
      if (err instanceof Error) err.message += `; saved ${join(runDir, 'last.json')} at step ${this.step} first: fix it and continue with --resume ${runDir}`;
      throw err;
    });
    this.lastEval = at;
    await this.saveLast({ ...this.lastMetrics, ...event });
    this.timer = performance.now();
  }
}
