// A training run: data -> model -> MEK step -> AdamW on the schedule, with evaluation, best and
// last checkpoints, metrics.jsonl, curves, resume and a clean stop on Ctrl-C or a NaN loss.
import { appendFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../backend.ts';
import { configToYaml } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { variantFromConfig } from '../config/variant.ts';
import { DataError } from '../data/errors.ts';
import { loadSplit, type SplitSamples } from '../data/labels.ts';
import { BatchLoader, type LoaderPosition } from '../data/loader.ts';
import { PreparePool } from '../data/pool.ts';
import { IMAGE_DIR, LABEL_FILE, MANIFEST_FILE, synthesizeDataset } from '../data/synth.ts';
import type { Metrics } from '../eval/metrics.ts';
import { confusionPng, curvesPng } from '../eval/plots.ts';
import { readCheckpoint, saveCheckpoint, type SaveOptions } from '../io/checkpoint.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { loadModel } from '../io/import/load-model.ts';
import { balanceWeights } from '../mek/balance.ts';
import { plainCrossEntropy, type MekLossOptions } from '../mek/objective.ts';
import { ParamStore } from '../model/params.ts';
import { SwinConstants } from '../model/swin.ts';
import { Rng } from '../random.ts';
import { AdamW } from './adamw.ts';
import { evaluate } from './evaluate.ts';
import { microBatchFor, perThreadConfig, threadsFor, useRecompute } from './memory.ts';
import type { ProgressReporter } from './progress.ts';
import { learningRate, type CosineSchedule } from './schedule.ts';
import { ReplicaPool } from './replicas/pool.ts';
import { trainStep, type TrainContext } from './step.ts';

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

export interface TrainSummary {
  runDir: string;
  step: number;
  interrupted: boolean;
  best: { step: number; metrics: Record<string, unknown> } | null;
}

/** A training failure that is not the user's input (a NaN loss): exit 1, one line. */
export class TrainingStopped extends Error {
  override name = 'TrainingStopped';
}

/** The metrics a checkpoint and metrics.jsonl record for an evaluation. */
function evalRecord(m: Metrics, classes: string[]): Record<string, unknown> {
  return {
    accuracy: m.overall,
    mean_class_accuracy: m.meanClass,
    per_class: Object.fromEntries(classes.map((c, i) => [c, m.perClass[i] ?? null])),
  };
}

/**
 * Writes the synthetic dataset the config asks for (data.synth_size) where its label file is
 * absent, or where data.root holds a synthetic set written with other settings or by an older
 * generator (its synth.json says so), which is replaced: a changed demo config or generator
 * takes effect. A folder without synth.json (real data) is never touched.
 */
async function ensureDataset(config: Config, progress: ProgressReporter): Promise<void> {
  const d = config.data;
  if (d.format !== 'rafdb' || d.synth_size === 0) return;
  const ownLabels = resolve(d.label_file) === resolve(d.root, LABEL_FILE);
  const synthetic = ownLabels && existsSync(join(d.root, MANIFEST_FILE));
  if (existsSync(d.label_file) && !synthetic) return;
  if (!ownLabels) {
    throw new DataError(`data.synth_size is set but data.label_file (${d.label_file}) is not ${join(d.root, LABEL_FILE)}, where the synthetic set is written`);
  }
  let announced = false;
  // Returns at once, writing nothing, when the folder already holds this very set.
  await synthesizeDataset({
    out: d.root,
    seed: config.train.seed,
    size: d.synth_size,
    imageSize: 100,
    difficulty: d.synth_difficulty,
    force: synthetic,
    onProgress: () => {
      if (announced) return;
      announced = true;
      progress.line(`writing a synthetic face dataset (${d.synth_size} images, difficulty ${d.synth_difficulty}) to ${d.root}...`);
    },
  });
}

function loadSplits(config: Config): { train: SplitSamples; test: SplitSamples } {
  const d = config.data;
  if (d.format === 'rafdb' && !existsSync(d.label_file)) {
    throw new DataError(
      `${d.label_file}: RAF-DB label file not found; put list_patition_label.txt there and the images under ${d.root}/ ` +
        `(as <name> or ${IMAGE_DIR}/<stem>_aligned.jpg), or set data.label_file and data.root (README: "RAF-DB setup")`,
    );
  }
  const checkImages = d.on_bad_image === 'error';
  return { train: loadSplit(d, 'train', { checkImages }), test: loadSplit(d, 'test', { checkImages }) };
}

/** checkpoints/<name>, or <name>-2, -3, ... when that already holds a run: never overwrite one. */
function newRunDir(config: Config, configPath?: string): string {
  const name = config.train.name || (configPath ? basename(configPath, extname(configPath)) : 'run');
  let dir = join(config.train.out_dir, name);
  for (let i = 2; existsSync(dir) && readdirSync(dir).length > 0; i++) dir = join(config.train.out_dir, `${name}-${i}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** `--resume` takes a run folder or its last.json. */
export function resumePath(resume: string): string {
  return extname(resume) === '.json' ? resume : join(resume, 'last.json');
}

export async function runTraining(opts: TrainRunOptions): Promise<TrainSummary> {
  const { config, progress } = opts;
  const variant = variantFromConfig(config);
  const classes = config.data.classes;
  await ensureDataset(config, progress);
  const { train, test } = loadSplits(config);
  const weights = balanceWeights(train.counts, config.loss.balance_normaliser, config.loss.balance_power);

  const resumeFrom = opts.resume ? await readCheckpoint(resumePath(opts.resume)) : null;
  const runDir = opts.resume ? dirname(resumePath(opts.resume)) : newRunDir(config, opts.configPath);
  await writeFileAtomic(join(runDir, 'config.yaml'), configToYaml(config));
  const metricsFile = join(runDir, 'metrics.jsonl');
  const history: Record<string, unknown>[] = [];
  const record = (event: Record<string, unknown>) => {
    history.push(event);
    appendFileSync(metricsFile, JSON.stringify(event) + '\n');
  };

  const training = resumeFrom?.meta.training;
  const rng = training?.rngState ? new Rng(training.rngState) : new Rng(config.train.seed);
  const store = resumeFrom
    ? ParamStore.fromValues(variant, resumeFrom.values)
    : config.model.init
      ? await initialWeights(config, progress, rng)
      : ParamStore.init(variant, rng);
  const consts = new SwinConstants(variant);
  const optimizer = new AdamW(store.trainable(), {
    beta1: config.optim.betas[0],
    beta2: config.optim.betas[1],
    eps: config.optim.eps,
    weightDecay: config.optim.weight_decay,
  });
  if (resumeFrom?.optimizer) optimizer.loadState(resumeFrom.optimizer);

  const scale = config.optim.lr_batch > 0 ? config.train.batch_size / config.optim.lr_batch : 1;
  const schedule: CosineSchedule = {
    baseLr: config.optim.lr * scale,
    warmupLrInit: config.schedule.warmup_lr * scale,
    lrMin: config.schedule.min_lr * scale,
    warmupSteps: config.schedule.warmup_steps,
    totalSteps: config.train.steps,
  };
  const methodLoss: MekLossOptions = {
    rbl: config.loss.rbl,
    eps: config.loss.eps,
    rac: config.loss.rac,
    lambda: config.loss.lambda,
    focalGamma: config.loss.focal_gamma,
    classWeights: weights,
  };
  const warmStartLoss = plainCrossEntropy(methodLoss);
  const ctx: TrainContext = {
    store,
    consts,
    optimizer,
    loss: methodLoss,
    clipNorm: config.optim.clip_norm,
    rng,
    training: true,
    checkpoint: false,
  };
  // Memory is planned per thread: each computes its part of the batch.
  const threads = threadsFor(config, opts.backend);
  const perThread = perThreadConfig(config, threads);
  ctx.checkpoint = useRecompute(perThread, opts.backend, variant);
  ctx.microBatch = microBatchFor(perThread, opts.backend, variant, ctx.checkpoint);
  const replicas =
    threads > 1
      ? await ReplicaPool.start(threads - 1, { backend: opts.backend.name, store, loss: ctx.loss, training: true, microBatch: ctx.microBatch, recompute: ctx.checkpoint })
      : null;

  const pool = new PreparePool(config.data.workers);
  const common = {
    numClasses: classes.length,
    imageSize: variant.imgSize,
    augment: config.augment,
    seed: config.train.seed,
    onBadImage: config.data.on_bad_image,
    pool,
    prefetch: config.data.prefetch,
    cacheBytes: (config.data.cache_mb * 2 ** 20) / Math.max(1, config.data.workers),
  };
  const start: LoaderPosition = training?.loader ?? { epoch: 0, index: 0 };
  const trainLoader = new BatchLoader(
    {
      ...common,
      samples: train.samples,
      batchSize: config.train.batch_size,
      mode: 'train',
      interpolation: config.augment.interpolation,
      sampler: config.data.sampler,
      repeatTo: config.data.repeat_to,
      dropLast: config.data.drop_last,
    },
    start,
  );
  const evalLoader = () =>
    new BatchLoader(
      {
        ...common,
        samples: test.samples,
        batchSize: config.eval.batch_size,
        mode: 'eval',
        interpolation: config.data.eval_interpolation,
        sampler: 'sequential',
        repeatTo: 0,
        dropLast: false,
      },
      undefined,
      true,
    );

  const meta = (step: number, metrics: Record<string, unknown>): SaveOptions => ({
    store,
    classes,
    preprocessing: { imageSize: variant.imgSize, mean: config.augment.mean, std: config.augment.std, interpolation: config.data.eval_interpolation },
    step,
    metrics,
    config,
  });
  let best = (training?.resume?.['best'] as TrainSummary['best'] | undefined) ?? null;
  let position = start;
  const saveLast = async (step: number, metrics: Record<string, unknown>) =>
    saveCheckpoint(runDir, 'last', { ...meta(step, metrics), optimizer, rngState: rng.state(), loader: position, extra: { best } });

  const evaluateNow = async (step: number) => {
    progress.evalStart(test.samples.length);
    const result = await evaluate(store.params, consts, evalLoader(), {
      numClasses: classes.length,
      replicas: replicas ?? undefined,
      onBatch: (done) => progress.evalProgress(done),
    });
    progress.evalEnd();
    const m = result.metrics;
    const event = { event: 'eval', step, ...evalRecord(m, classes) };
    record(event);
    progress.line(
      `step ${step}: accuracy ${(100 * m.overall).toFixed(2)}%  mean-class ${(100 * m.meanClass).toFixed(2)}%  ` +
        classes.map((c, i) => `${c} ${m.perClass[i] === null ? '-' : (100 * m.perClass[i]!).toFixed(1)}`).join(' '),
    );
    const key = config.train.best_metric === 'accuracy' ? m.overall : m.meanClass;
    const bestKey = best ? (best.metrics[config.train.best_metric] as number) : -Infinity;
    if (key > bestKey) {
      best = { step, metrics: evalRecord(m, classes) };
      await saveCheckpoint(runDir, 'best', meta(step, best.metrics));
      await confusionPng(join(runDir, 'confusion.png'), m, classes);
    }
    await curvesPng(join(runDir, 'curves.png'), history);
    return event;
  };

  progress.line(
    `${opts.backend.description}; model ${config.model.variant} ${variant.imgSize}px (${store.trainable().length} tensors); ` +
      `${train.samples.length} train / ${test.samples.length} test images; run folder ${runDir}` +
      (threads > 1 ? `; ${threads} threads share each batch` : '') +
      (ctx.microBatch ? `; micro-batches of ${ctx.microBatch}` : '') +
      (ctx.checkpoint ? '; recomputing blocks in backward' : ''),
  );
  let step = resumeFrom ? resumeFrom.meta.step : 0;
  let lastMetrics: Record<string, unknown> = {};
  let interrupted = false;
  let timer = performance.now();
  let samplesSinceLog = 0;
  try {
    while (step < config.train.steps) {
      // A step runs synchronously and prefetched batches resolve as microtasks, so without this
      // the event loop would never turn: no Ctrl-C handler, no decode completions, no worker
      // messages until the run ends.
      await new Promise((resolve) => setImmediate(resolve));
      if (opts.stopRequested()) {
        interrupted = true;
        break;
      }
      const batch = await trainLoader.next();
      if (!batch || batch.size === 0) {
        batch?.images.dispose();
        batch?.labels.dispose();
        continue;
      }
      const lr = learningRate(schedule, step);
      // A warm start trains its first steps with plain cross-entropy (the replicas get the
      // loss with every batch).
      ctx.loss = step < config.loss.warm_start_steps ? warmStartLoss : methodLoss;
      const input = { images: batch.images, labels: batch.labels };
      const result = replicas ? await replicas.trainStep(ctx, input, lr) : trainStep(ctx, input, lr);
      tf.dispose([batch.images, batch.labels]);
      position = batch.next;
      step += 1;
      samplesSinceLog += batch.size;

      const logNow = step % config.train.log_every === 0 || step === config.train.steps;
      if (logNow) {
        // The only read-back of a training step, at logging points.
        const [loss, cls, rac, gradNorm] = await Promise.all(
          [result.total, result.cls, result.rac, result.gradNorm].map(async (t) => (t ? (await t.data())[0]! : null)),
        );
        const seconds = (performance.now() - timer) / 1000;
        const speed = samplesSinceLog / seconds;
        timer = performance.now();
        samplesSinceLog = 0;
        if (!Number.isFinite(loss!)) {
          tf.dispose([result.total, result.cls, result.gradNorm, ...(result.rac ? [result.rac] : [])]);
          throw new TrainingStopped(
            `loss is ${loss} at step ${step} (lr ${lr.toExponential(2)}); stopped without saving this state. ` +
              `The last good checkpoint is ${join(runDir, 'last.json')}; try a lower optim.lr or optim.clip_norm`,
          );
        }
        lastMetrics = { loss, loss_cls: cls, loss_rac: rac, grad_norm: gradNorm, lr };
        record({ event: 'train', step, epoch: batch.epoch, ...lastMetrics, samples_per_s: speed });
        progress.step({ step, total: config.train.steps, epoch: batch.epoch, loss: loss!, cls: cls!, rac, lr, samplesPerSecond: speed });
      }
      tf.dispose([result.total, result.cls, result.gradNorm, ...(result.rac ? [result.rac] : [])]);

      const evalNow = (config.train.eval_every > 0 && step % config.train.eval_every === 0) || step === config.train.steps;
      if (evalNow) {
        const event = await evaluateNow(step);
        await saveLast(step, { ...lastMetrics, ...event });
        timer = performance.now();
      }
    }
    if (interrupted) {
      await saveLast(step, lastMetrics);
      progress.line(`interrupted at step ${step}: saved ${join(runDir, 'last.json')}; continue with --resume ${runDir}`);
    }
  } finally {
    progress.stop();
    await pool.close();
    await replicas?.close();
    optimizer.dispose();
    consts.dispose();
    store.dispose();
  }
  const skipped = trainLoader.skippedImages;
  if (skipped.length > 0) {
    progress.line(`skipped ${skipped.length} unreadable images (data.on_bad_image: skip), e.g. ${skipped.slice(0, 3).join(', ')}`);
  }
  await writeFileAtomic(join(runDir, 'summary.json'), JSON.stringify({ step, interrupted, best }, null, 2) + '\n');
  return { runDir, step, interrupted, best };
}

/**
 * model.init: a start point from our checkpoint JSON, a PyTorch .pt/.pth (the release's
 * start_0.pt backbone, a training checkpoint) or .safetensors, held to the config's
 * architecture; what was translated or initialised fresh is printed.
 */
async function initialWeights(config: Config, progress: ProgressReporter, rng: Rng): Promise<ParamStore> {
  if (config.model.init_optional && !existsSync(config.model.init)) {
    progress.line(`model.init ${config.model.init} not found: starting from random weights (model.init_optional is true; expect lower accuracy than from the pretrained file)`);
    return ParamStore.init(variantFromConfig(config), rng);
  }
  const model = await loadModel(config.model.init, { purpose: 'init', config });
  progress.line(`model.init: ${config.model.init}`);
  for (const note of model.notes) progress.line(`  ${note}`);
  return model.store;
}
