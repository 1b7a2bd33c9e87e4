// What trains: the model, AdamW, the learning-rate schedule, the loss of each step and the
// threads that share each batch, built from a config (each key converted beside what it
// configures: adamw.ts, schedule.ts, mek/from-config.ts, memory.ts) and, on --resume, from
// last.json. step() is the run's only way to take a training step.
import type { BackendInfo } from '../backend.ts';
import type { Config } from '../config/schema.ts';
import { variantFromConfig } from '../config/variant.ts';
import type { InferenceEngine } from '../infer/engine.ts';
import { tfjsEngineOver } from '../infer/tfjs.ts';
import type { Checkpoint } from '../io/checkpoint/read.ts';
import { trainingLosses, type TrainingLosses } from '../mek/from-config.ts';
import type { ClassPrior } from '../mek/prior.ts';
import type { Model } from '../model/model.ts';
import { Rng } from '../random.ts';
import { AdamW, adamwOptions } from './adamw.ts';
import type { Batch } from './gradients.ts';
import { initialModel } from './initial-model.ts';
import { memoryPlan, type MemoryPlan } from './memory.ts';
import type { ProgressReporter } from './progress.ts';
import { ReplicaPool } from './replicas/pool.ts';
import { learningRate, scheduleFromConfig, type CosineSchedule } from './schedule.ts';
import { trainStep, type StepResult, type TrainContext } from './step.ts';

export interface TrainerOptions {
  config: Config;
  backend: BackendInfo;
  /** The class distribution of the training split (the loss depends on it). */
  prior: ClassPrior;
  /** last.json of the run to continue. */
  resumeFrom: Checkpoint | null;
  /** Says what model.init loaded. */
  progress: ProgressReporter;
  /** The loss of each step; absent: the config's loss keys (mek/from-config.ts). mek pretrain brings its pretext task's. */
  losses?: TrainingLosses;
}

export class Trainer {
  readonly model: Model;
  readonly optimizer: AdamW;
  /** The run's generator: model initialisation, then every step's drop-path draws. */
  readonly rng: Rng;
  readonly plan: MemoryPlan;
  /** Compositions of loss keys known to misbehave, one line each. */
  readonly warnings: string[];
  private readonly schedule: CosineSchedule;
  private readonly losses: TrainingLosses;
  private readonly ctx: TrainContext;

  private constructor(o: { model: Model; optimizer: AdamW; rng: Rng; plan: MemoryPlan; schedule: CosineSchedule; losses: TrainingLosses; ctx: TrainContext }) {
    this.model = o.model;
    this.optimizer = o.optimizer;
    this.rng = o.rng;
    this.plan = o.plan;
    this.schedule = o.schedule;
    this.losses = o.losses;
    this.warnings = o.losses.warnings;
    this.ctx = o.ctx;
  }

  static async build(o: TrainerOptions): Promise<Trainer> {
    const { config, backend, resumeFrom } = o;
    const training = resumeFrom?.meta.training;
    const rng = training?.rngState ? new Rng(training.rngState) : new Rng(config.train.seed);
    const model = await initialModel(config, resumeFrom, rng, o.progress);
    const optimizer = new AdamW(model.weights.trainable(), adamwOptions(config));
    if (resumeFrom?.optimizer) optimizer.loadState(resumeFrom.optimizer);
    const losses = o.losses ?? trainingLosses(config, o.prior);
    const plan = memoryPlan(config, backend, variantFromConfig(config));
    const loss = losses.at(0);
    const { microBatch, recompute } = plan;
    const replicas = plan.threads > 1 ? await ReplicaPool.start(plan.threads - 1, { backend: backend.name, model, loss, training: true, microBatch, recompute }) : null;
    const ctx: TrainContext = { model, optimizer, loss, clipNorm: config.optim.clip_norm, rng, training: true, recompute, microBatch, replicas };
    return new Trainer({ model, optimizer, rng, plan, schedule: scheduleFromConfig(config), losses, ctx });
  }

  /** Optimizer step `step` (0-based) of the run on `batch`: its learning rate and loss follow the step. */
  async step(batch: Batch, step: number): Promise<{ result: StepResult; lr: number }> {
    const lr = learningRate(this.schedule, step);
    // A warm start or deferred re-weighting changes the loss during the run (the replicas get
    // the loss with every batch).
    this.ctx.loss = this.losses.at(step);
    return { result: await trainStep(this.ctx, batch, lr), lr };
  }

  /** The model being trained as an inference engine, its batches shared with the replica threads. */
  evaluationEngine(): InferenceEngine {
    return tfjsEngineOver(this.model, this.ctx.replicas ?? null, '');
  }

  async close(): Promise<void> {
    await this.ctx.replicas?.close();
    this.optimizer.dispose();
    this.model.dispose();
  }
}
