// mek pretrain: self-supervised pretraining of the backbone by rotation prediction, on the
// training split's images with their labels unused. It is a training run (train/run.ts's
// parts: Trainer, RunData, TrainingLoop, RunCheckpoints, the metrics log) whose head has the
// four rotations as classes, whose loss is plain cross-entropy on them and whose batches are
// turned (rotation.ts) after augmentation and normalisation. Its checkpoints are marked as
// pretext checkpoints: model.init takes their backbone and starts a fresh expression head.
import { join } from 'node:path';
import type { BackendInfo } from '../backend.ts';
import type { Config } from '../config/schema.ts';
import { variantFromConfig } from '../config/variant.ts';
import type { SplitSamples } from '../data/labels.ts';
import { loadSplitAsTrained } from '../data/splits.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { plainCrossEntropy, REFERENCE_LOSS } from '../mek/objective.ts';
import { classPrior } from '../mek/prior.ts';
import { RunCheckpoints } from '../train/checkpoints.ts';
import { liveEvaluator, stepEvaluation } from '../train/live-evaluation.ts';
import { TrainingLoop } from '../train/loop.ts';
import { checkFitsWasm } from '../train/memory.ts';
import { RunData } from '../train/run-data.ts';
import { openRun } from '../train/run-dir.ts';
import { runLine, type TrainRunOptions } from '../train/run.ts';
import type { EvaluationAt } from '../train/summary.ts';
import { ensureSyntheticDataset } from '../train/synthetic-data.ts';
import { Trainer } from '../train/trainer.ts';
import { ROTATION_CLASSES, rotationTransforms } from './rotation.ts';

export interface PretrainSummary {
  runDir: string;
  step: number;
  interrupted: boolean;
  task: 'rotation';
  /** The last rotation-accuracy evaluation. */
  last: EvaluationAt | null;
  /** What it was evaluated on: the validation hold-out, or the first pretrain.eval_images training images. */
  evalSplit: 'val' | 'train';
}

/** The views of each image a step trains on. */
export function rotationsPerImage(config: Config): number {
  return config.pretrain.rotations === 'all' ? 4 : 1;
}

/**
 * The config the model, optimizer and memory plan are built from: the rotations as classes,
 * and a step's batch as the images it really holds (4 x train.batch_size with all four
 * rotations; optim.lr scales with it as with any batch, when optim.lr_batch is set).
 */
export function pretextConfig(config: Config): Config {
  const batch = config.train.batch_size * rotationsPerImage(config);
  return { ...config, data: { ...config.data, classes: [...ROTATION_CLASSES] }, train: { ...config.train, batch_size: batch } };
}

export async function runPretraining(opts: TrainRunOptions): Promise<PretrainSummary> {
  const { config, progress } = opts;
  const model = pretextConfig(config);
  const variant = variantFromConfig(model);
  checkFitsWasm(variant, opts.backend, 'train');
  await ensureSyntheticDataset(config, progress);
  const split = { checkImages: config.data.on_bad_image === 'error' };
  const train = loadSplitAsTrained(config, 'train', split);
  const val = config.data.val_fraction > 0 ? loadSplitAsTrained(config, 'val', split) : null;
  const { runDir, resumeFrom, log, start } = await openRun(config, 'pretrain', opts.configPath, opts.resume);
  // Every rotation is shown equally often: the prior the checkpoint records is uniform.
  const prior = classPrior(ROTATION_CLASSES.map(() => train.samples.length), 'shuffle');
  const loss = plainCrossEntropy({ ...REFERENCE_LOSS, classWeights: ROTATION_CLASSES.map(() => 1) });
  const trainer = await Trainer.build({ config: model, backend: opts.backend, prior, resumeFrom, progress, losses: { at: () => loss, warnings: [] } });
  // Labels are unused, so the sampler draws every image once per epoch whatever data.sampler says.
  const dataConfig = { ...config, data: { ...config.data, sampler: 'shuffle' as const } };
  const data = new RunData(dataConfig, variant, train.samples, start.position, rotationTransforms(config.pretrain.rotations, variant.imgSize, config.train.seed));
  const record = { model: trainer.model, classes: ROTATION_CLASSES, preprocessing: data.preprocessing, config, prior, selection: 'val', pretext: 'rotation' } as const;
  const checkpoints = new RunCheckpoints(runDir, record, null);
  const evalSplit = val ?? firstImages(train, config.pretrain.eval_images);
  const evaluate = stepEvaluation({
    classes: ROTATION_CLASSES, evaluate: liveEvaluator(trainer, data, progress, ROTATION_CLASSES.length, ROTATION_CLASSES.length),
    split: evalSplit, splitName: val ? 'val' : 'train', linePrefix: `rotation (${val ? 'validation' : 'training images'}) `, pickBest: false, checkpoints, log, progress,
  });
  const loop = new TrainingLoop({ config: model, trainer, data, checkpoints, log, progress, evaluate, stopRequested: opts.stopRequested }, start);
  progress.line(startLine(opts.backend, config, trainer, { train: train.samples.length, evaluated: evalSplit.samples.length, val: val !== null }, runDir));
  let interrupted = false;
  try {
    interrupted = await loop.run();
    if (interrupted) {
      await loop.saveLast();
      progress.line(`interrupted at step ${loop.step}: saved ${join(runDir, 'last.json')}; continue with --resume ${runDir}`);
    }
  } finally {
    progress.stop();
    await data.close();
    await trainer.close();
  }
  const summary: PretrainSummary = { runDir, step: loop.step, interrupted, task: 'rotation', last: loop.lastEval, evalSplit: val ? 'val' : 'train' };
  const { runDir: _dir, ...saved } = summary;
  await writeFileAtomic(join(runDir, 'summary.json'), JSON.stringify(saved, null, 2) + '\n');
  return summary;
}

/** The first `n` images of the training split, in file order: what rotation accuracy is measured on without a validation split. */
function firstImages(train: SplitSamples, n: number): SplitSamples {
  const samples = train.samples.slice(0, n);
  const counts = train.counts.map((_, c) => samples.filter((s) => s.label === c).length);
  return { split: train.split, samples, counts };
}

function startLine(backend: BackendInfo, config: Config, trainer: Trainer, images: { train: number; evaluated: number; val: boolean }, runDir: string): string {
  const views = rotationsPerImage(config);
  return runLine(
    backend, config, trainer,
    `rotation pretraining on ${images.train} training images, labels unused, ${views === 4 ? 'all 4 rotations of each' : 'one random rotation each'} ` +
      `(${config.train.batch_size * views} images a step); rotation accuracy on ${images.evaluated} ${images.val ? 'validation' : 'training'} images; run folder ${runDir}`,
  );
}
