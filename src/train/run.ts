// A training run: data -> model -> MEK step -> AdamW on the schedule, with evaluation, best and
// last checkpoints, metrics.jsonl, curves, resume and a clean stop on Ctrl-C or a NaN loss.
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../backend.ts';
import { configToYaml } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { variantFromConfig } from '../config/variant.ts';
import { DataError } from '../data/errors.ts';
import type { SplitSamples } from '../data/labels.ts';
import { loadSplits } from '../data/splits.ts';
import { BatchLoader, type LoaderPosition } from '../data/loader.ts';
import { PreparePool } from '../data/pool.ts';
import { LABEL_FILE, MANIFEST_FILE, synthesizeDataset } from '../data/synth.ts';
import { adjustedPredictions, bestTau, sweepAdjustment } from '../eval/adjust.ts';
import { computeMetrics, type Metrics } from '../eval/metrics.ts';
import { parseMetricsJsonl } from '../eval/history.ts';
import { confusionPng, curvesPng } from '../eval/plots.ts';
import { readCheckpoint, saveCheckpoint, type SaveOptions } from '../io/checkpoint.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { loadModel } from '../io/import/load-model.ts';
import { trainingLosses } from '../mek/from-config.ts';
import { classPrior, logPrior, type ClassPrior } from '../mek/prior.ts';
import { Model } from '../model/model.ts';
import { ParamStore } from '../model/params.ts';
import { Rng } from '../random.ts';
import { AdamW, adamwOptions } from './adamw.ts';
import { tfjsEngineOver } from '../infer/tfjs.ts';
import { evaluate, evaluationLoader, type Evaluation } from '../eval/evaluate.ts';
import { checkFitsWasm, memoryPlan } from './memory.ts';
import type { ProgressReporter } from './progress.ts';
import { learningRate, scheduleFromConfig } from './schedule.ts';
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
  /** The last evaluation during training (on the validation split when there is one). */
  last: { step: number; metrics: Record<string, unknown> } | null;
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

/**
 * checkpoints/<name>, or <name>-2, -3, ... when that already holds a run: never overwrite one,
 * also when two runs of the same name start at once. A folder is claimed by creating its
 * config.yaml exclusively (the run writes the real one over it at once), so of two processes
 * that find the same empty folder only one gets it.
 */
export function newRunDir(config: Config, configPath?: string): string {
  const name = config.train.name || (configPath ? basename(configPath, extname(configPath)) : 'run');
  mkdirSync(config.train.out_dir, { recursive: true });
  for (let i = 1; ; i++) {
    const dir = join(config.train.out_dir, i === 1 ? name : `${name}-${i}`);
    if (claimRunDir(dir)) return dir;
  }
}

function claimRunDir(dir: string): boolean {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (readdirSync(dir).length > 0) return false;
  }
  try {
    closeSync(openSync(join(dir, 'config.yaml'), 'wx'));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** `--resume` takes a run folder or its last.json. */
export function resumePath(resume: string): string {
  return extname(resume) === '.json' ? resume : join(resume, 'last.json');
}

export async function runTraining(opts: TrainRunOptions): Promise<TrainSummary> {
  const { config, progress } = opts;
  const variant = variantFromConfig(config);
  checkFitsWasm(variant, opts.backend, 'train');
  const classes = config.data.classes;
  await ensureDataset(config, progress);
  const { train, val, test } = loadSplits(config);
  const prior = classPrior(train.counts, config.data.sampler);
  const losses = trainingLosses(config, prior);
  // Evaluation during training, and the choice of best.json, on the validation split when there is one.
  const selection: TrainSummary['selection'] = val ? 'val' : 'test';
  const evalSplit = val ?? test;

  const resumeFrom = opts.resume ? await readCheckpoint(resumePath(opts.resume)) : null;
  const runDir = opts.resume ? dirname(resumePath(opts.resume)) : newRunDir(config, opts.configPath);
  await writeFileAtomic(join(runDir, 'config.yaml'), configToYaml(config));
  const metricsFile = join(runDir, 'metrics.jsonl');
  // A resumed run goes on from last.json's step: what was logged after it (before a crash) is
  // trained again, so those events are dropped, and the rest is the history the curves show.
  const history: Record<string, unknown>[] = resumeFrom ? await historyUpTo(metricsFile, resumeFrom.meta.step) : [];
  const record = (event: Record<string, unknown>) => {
    history.push(event);
    appendFileSync(metricsFile, JSON.stringify(event) + '\n');
  };

  const training = resumeFrom?.meta.training;
  const rng = training?.rngState ? new Rng(training.rngState) : new Rng(config.train.seed);
  const model = new Model(
    resumeFrom
      ? ParamStore.fromValues(variant, resumeFrom.values)
      : config.model.init
        ? await initialWeights(config, progress, rng)
        : ParamStore.init(variant, rng),
  );
  const store = model.weights;
  const optimizer = new AdamW(store.trainable(), adamwOptions(config));
  if (resumeFrom?.optimizer) optimizer.loadState(resumeFrom.optimizer);

  const schedule = scheduleFromConfig(config);
  const ctx: TrainContext = {
    model,
    optimizer,
    loss: losses.at(0),
    clipNorm: config.optim.clip_norm,
    rng,
    training: true,
    recompute: false,
  };
  const { threads, recompute, microBatch } = memoryPlan(config, opts.backend, variant);
  ctx.recompute = recompute;
  ctx.microBatch = microBatch;
  const replicas =
    threads > 1
      ? await ReplicaPool.start(threads - 1, { backend: opts.backend.name, model, loss: ctx.loss, training: true, microBatch: ctx.microBatch, recompute: ctx.recompute })
      : null;
  ctx.replicas = replicas;

  const pool = new PreparePool(config.data.workers);
  const common = {
    numClasses: classes.length,
    imageSize: variant.imgSize,
    augment: config.augment,
    seed: config.train.seed,
    onBadImage: config.data.on_bad_image,
    maxSkipFraction: config.data.max_skip_fraction,
    maxImagePixels: config.data.max_image_pixels,
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
  const preprocessing = { imageSize: variant.imgSize, mean: config.augment.mean, std: config.augment.std, interpolation: config.data.eval_interpolation };
  const evalLoader = (split: SplitSamples) => evaluationLoader(config, split.samples, preprocessing, pool, common.cacheBytes);
  // Evaluation runs the model being trained, its batches shared with the replica threads.
  const evalEngine = tfjsEngineOver(model, replicas, '');
  const evaluateSplit = async (split: SplitSamples) => {
    progress.evalStart(split.samples.length);
    const result = await evaluate(evalEngine, evalLoader(split), {
      numClasses: classes.length,
      onBatch: (done) => progress.evalProgress(done),
    });
    progress.evalEnd();
    return result;
  };

  const meta = (step: number, metrics: Record<string, unknown>): SaveOptions => ({
    store,
    classes,
    preprocessing,
    step,
    metrics,
    config,
    prior,
    selection: { split: selection, metric: config.train.best_metric },
  });
  let best = (training?.resume?.['best'] as TrainSummary['best'] | undefined) ?? null;
  let lastEval: TrainSummary['last'] = null;
  let position = start;
  const saveLast = async (step: number, metrics: Record<string, unknown>) =>
    saveCheckpoint(runDir, 'last', { ...meta(step, metrics), optimizer, rngState: rng.state(), loader: position, extra: { best } });

  const evaluateNow = async (step: number) => {
    const m = (await evaluateSplit(evalSplit)).metrics;
    const event = { event: 'eval', step, split: selection, ...evalRecord(m, classes) };
    record(event);
    lastEval = { step, metrics: evalRecord(m, classes) };
    progress.line(`step ${step}: ${selection === 'val' ? 'validation ' : ''}${metricsLine(m, classes)}`);
    const key = config.train.best_metric === 'accuracy' ? m.overall : m.meanClass;
    const bestKey = best ? (best.metrics[config.train.best_metric] as number) : -Infinity;
    if (key > bestKey) {
      best = { step, metrics: evalRecord(m, classes) };
      await saveCheckpoint(runDir, 'best', meta(step, best.metrics));
      if (selection === 'test') await confusionPng(join(runDir, 'confusion.png'), m, classes);
    }
    await curvesPng(join(runDir, 'curves.png'), history);
    return event;
  };

  for (const warning of losses.warnings) progress.line(`warning: ${warning}`);
  progress.line(
    `${opts.backend.description}; model ${config.model.variant} ${variant.imgSize}px (${store.trainable().length} tensors); ` +
      `${train.samples.length} train / ${val ? `${val.samples.length} validation / ` : ''}${test.samples.length} test images; run folder ${runDir}` +
      (threads > 1 ? `; ${threads} threads share each batch` : '') +
      (ctx.microBatch ? `; micro-batches of ${ctx.microBatch}` : '') +
      (ctx.recompute ? '; recomputing blocks in backward' : ''),
  );
  let step = resumeFrom ? resumeFrom.meta.step : 0;
  let lastMetrics: Record<string, unknown> = {};
  let interrupted = false;
  let timer = performance.now();
  let samplesSinceLog = 0;
  let finalTest: { test: Record<string, unknown>; posthoc: PosthocResult } | null = null;
  let stopped: string | null = null;
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
      // A warm start or deferred re-weighting changes the loss during the run (the replicas get
      // the loss with every batch).
      ctx.loss = losses.at(step);
      const input = { images: batch.images, labels: batch.labels };
      const result = await trainStep(ctx, input, lr);
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
        progress.step({ step, total: config.train.steps, epoch: batch.epoch, loss: loss!, cls: cls!, rac: rac ?? null, lr, samplesPerSecond: speed });
      }
      tf.dispose([result.total, result.cls, result.gradNorm, ...(result.rac ? [result.rac] : [])]);

      const evalNow = (config.train.eval_every > 0 && step % config.train.eval_every === 0) || step === config.train.steps;
      if (evalNow) {
        const event = await evaluateNow(step).catch(async (err: unknown) => {
          // A bad evaluation image must not cost the steps since the last save.
          await saveLast(step, lastMetrics);
          if (err instanceof Error) err.message += `; saved ${join(runDir, 'last.json')} at step ${step} first: fix it and continue with --resume ${runDir}`;
          throw err;
        });
        await saveLast(step, { ...lastMetrics, ...event });
        timer = performance.now();
      }
    }
    if (interrupted) {
      await saveLast(step, lastMetrics);
      progress.line(`interrupted at step ${step}: saved ${join(runDir, 'last.json')}; continue with --resume ${runDir}`);
    } else if (val && best) {
      // Training is over: the store can take best.json's weights for the one test evaluation.
      store.assign((await readCheckpoint(join(runDir, 'best.json'))).values);
      const chosen = best;
      const save = (extra: Pick<SaveOptions, 'posthoc'>) => saveCheckpoint(runDir, 'best', { ...meta(chosen.step, chosen.metrics), ...extra });
      finalTest = await testWithBest({ runDir, best: chosen, val, test, classes, prior, evaluateSplit, record, progress, save });
    } else {
      progress.line(`best.json (step ${best?.step}) was picked on the test split, as the paper does: optimistic; set data.val_fraction for a validation split`);
    }
  } catch (err) {
    if (err instanceof TrainingStopped) stopped = err.message;
    throw err;
  } finally {
    progress.stop();
    await pool.close();
    await replicas?.close();
    optimizer.dispose();
    model.dispose();
    // A stopped run says why in its summary too, beside the line on stderr.
    if (stopped !== null) await writeSummary(runDir, { step, interrupted: false, stopped, best, last: lastEval, selection, test: null, posthoc: null });
  }
  const skipped = trainLoader.skippedImages;
  if (skipped.length > 0) {
    progress.line(`skipped ${skipped.length} unreadable images (data.on_bad_image: skip), e.g. ${skipped.slice(0, 3).join(', ')}`);
  }
  const summary: TrainSummary = { runDir, step, interrupted, best, last: lastEval, selection, test: finalTest?.test ?? null, posthoc: finalTest?.posthoc ?? null };
  await writeSummary(runDir, summary);
  return summary;
}

/** metrics.jsonl's events up to `step`, the file rewritten to hold only them. */
async function historyUpTo(metricsFile: string, step: number): Promise<Record<string, unknown>[]> {
  if (!existsSync(metricsFile)) return [];
  const kept = parseMetricsJsonl(readFileSync(metricsFile, 'utf8')).filter((e) => e.step <= step);
  await writeFileAtomic(metricsFile, kept.map((e) => JSON.stringify(e) + '\n').join(''));
  return kept;
}

/** summary.json: everything of the summary but the folder it is in. */
async function writeSummary(runDir: string, summary: Omit<TrainSummary, 'runDir'> & { stopped?: string }): Promise<void> {
  const { runDir: _dir, ...saved } = summary as TrainSummary;
  await writeFileAtomic(join(runDir, 'summary.json'), JSON.stringify(saved, null, 2) + '\n');
}

interface TestWithBestOptions {
  runDir: string;
  best: NonNullable<TrainSummary['best']>;
  val: SplitSamples;
  test: SplitSamples;
  classes: string[];
  prior: ClassPrior;
  /** Evaluates the model now in the store (best.json's weights) on a split. */
  evaluateSplit: (split: SplitSamples) => Promise<Evaluation>;
  record: (event: Record<string, unknown>) => void;
  progress: ProgressReporter;
  /** Re-writes best.json with what is added to it. */
  save: (extra: Pick<SaveOptions, 'posthoc'>) => Promise<string>;
}

/**
 * The end of a run with a validation split: best.json evaluated once on the test split; the
 * post-hoc tau chosen on the validation split (TAU_GRID, highest mean-class accuracy) and stored
 * in best.json, with the test split's metrics at that tau.
 */
async function testWithBest(o: TestWithBestOptions): Promise<{ test: Record<string, unknown>; posthoc: PosthocResult }> {
  const logP = logPrior(o.prior);
  const valRun = await o.evaluateSplit(o.val);
  const sweep = sweepAdjustment(valRun.logits, valRun.labels, logP);
  const chosen = bestTau(sweep);
  const testRun = await o.evaluateSplit(o.test);
  const adjusted = computeMetrics(testRun.labels, adjustedPredictions(testRun.logits, logP, chosen.tau), o.classes.length);
  const test = { step: o.best.step, ...evalRecord(testRun.metrics, o.classes) };
  const posthoc: PosthocResult = {
    tau: chosen.tau,
    val_mean_class_accuracy: chosen.metrics.meanClass,
    val_mean_class_accuracy_raw: sweep[0]!.metrics.meanClass,
    test: { step: o.best.step, ...evalRecord(adjusted, o.classes) },
  };
  o.record({ event: 'test', ...test, checkpoint: 'best', selection: 'val' });
  o.record({ event: 'posthoc', step: o.best.step, tau: chosen.tau, val_sweep: sweep.map((p) => ({ tau: p.tau, accuracy: p.metrics.overall, mean_class_accuracy: p.metrics.meanClass })), test: posthoc.test });
  await o.save({ posthoc: { tau: chosen.tau, split: 'val', meanClass: chosen.metrics.meanClass, meanClassRaw: posthoc.val_mean_class_accuracy_raw } });
  await confusionPng(join(o.runDir, 'confusion.png'), testRun.metrics, o.classes);
  o.progress.line(`test split, best.json (step ${o.best.step}, picked on the validation split): ${metricsLine(testRun.metrics, o.classes)}`);
  o.progress.line(
    `post-hoc adjustment, tau ${chosen.tau} chosen on the validation split (mean-class ${pct(posthoc.val_mean_class_accuracy_raw)} -> ${pct(chosen.metrics.meanClass)}; ` +
      `stored in best.json, used by mek eval and predict): test ${metricsLine(adjusted, o.classes)}`,
  );
  return { test, posthoc };
}

function pct(fraction: number): string {
  return `${(100 * fraction).toFixed(2)}%`;
}

/** "accuracy 83.57%  mean-class 54.66%  Surprise 96.7 Fear 0.0 ...". */
function metricsLine(m: Metrics, classes: string[]): string {
  return (
    `accuracy ${pct(m.overall)}  mean-class ${pct(m.meanClass)}  ` +
    classes.map((c, i) => `${c} ${m.perClass[i] === null ? '-' : (100 * m.perClass[i]!).toFixed(1)}`).join(' ')
  );
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
