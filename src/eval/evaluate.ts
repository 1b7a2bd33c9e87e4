// Evaluation of a model on a split: batches from a single-epoch loader, run by an inference
// engine (mek's tfjs graph or ONNX Runtime), logits read back once per batch, metrics
// accumulated on the host. Training (on the live weights) and `mek eval` (on a checkpoint) both
// evaluate this way, with the same loader.
import type { Config } from '../config/schema.ts';
import type { Sample } from '../data/labels.ts';
import { BatchLoader, type BatchTransform } from '../data/loader.ts';
import type { PreparePool } from '../data/pool.ts';
import { flipImages, type InferenceEngine } from '../infer/engine.ts';
import type { Preprocessing } from '../io/checkpoint/format.ts';
import { adjustedPredictions } from './adjust.ts';
import { argmaxRows, ConfusionAccumulator, type Metrics } from './metrics.ts';

export interface EvaluateOptions {
  numClasses: number;
  /** Average the logits of each image and its mirror (test-time augmentation). */
  flipTta?: boolean;
  /** Called after each batch with the images done so far. */
  onBatch?: (done: number) => void;
  /** Post-hoc adjustment: predictions are argmax(logits - tau * logPrior). */
  adjust?: { logPrior: readonly number[]; tau: number };
}

export interface Evaluation {
  metrics: Metrics;
  labels: Int32Array;
  predictions: Int32Array;
  /** Raw logits, [N, K] row-major (before any adjustment), for sweeps over tau. */
  logits: Float32Array;
}

export async function evaluate(engine: InferenceEngine, loader: BatchLoader, opts: EvaluateOptions): Promise<Evaluation> {
  const acc = new ConfusionAccumulator(opts.numClasses);
  const labels: number[] = [];
  const predictions: number[] = [];
  const logitRows: Float32Array[] = [];
  let done = 0;
  for (;;) {
    const batch = await loader.nextHost();
    if (!batch) break;
    if (batch.size > 0) {
      let { logits } = await engine.run(batch.images, batch.size, false);
      if (opts.flipTta) {
        const size = Math.round(Math.sqrt(batch.images.length / batch.size / 3));
        const mirrored = (await engine.run(flipImages(batch.images, batch.size, size), batch.size, false)).logits;
        logits = logits.map((v, i) => (v + mirrored[i]!) / 2);
      }
      const preds = opts.adjust ? adjustedPredictions(logits, opts.adjust.logPrior, opts.adjust.tau) : argmaxRows(logits, opts.numClasses);
      logitRows.push(logits);
      acc.add(batch.labels, preds);
      labels.push(...batch.labels);
      predictions.push(...preds);
      done += batch.size;
    }
    opts.onBatch?.(done);
  }
  const all = new Float32Array(labels.length * opts.numClasses);
  logitRows.reduce((offset, rows) => (all.set(rows, offset), offset + rows.length), 0);
  return { metrics: acc.metrics(), labels: Int32Array.from(labels), predictions: Int32Array.from(predictions), logits: all };
}

/**
 * The images of a split once each, in file order, prepared as the model was trained to see
 * them (`preprocessing`: a checkpoint's, or the run's own during training) and batched by
 * eval.batch_size; the other data.* settings (bad images, prefetch) from `config`.
 * `cacheBytes`: the decoded-image cache of each preparing process; training, which evaluates
 * the same split again and again, shares its own. `transform`: what each batch becomes (mek
 * pretrain's rotations).
 */
export function evaluationLoader(config: Config, samples: Sample[], preprocessing: Preprocessing, pool: PreparePool, cacheBytes = 0, transform?: BatchTransform): BatchLoader {
  const options = {
    samples,
    numClasses: config.data.classes.length,
    batchSize: config.eval.batch_size,
    imageSize: preprocessing.imageSize,
    mode: 'eval' as const,
    interpolation: preprocessing.interpolation,
    augment: { ...config.augment, mean: preprocessing.mean, std: preprocessing.std },
    // The evaluation transform draws nothing: the seed changes no pixel.
    seed: 0,
    sampler: 'sequential' as const,
    repeatTo: 0,
    dropLast: false,
    prefetch: config.data.prefetch,
    onBadImage: config.data.on_bad_image,
    maxSkipFraction: config.data.max_skip_fraction,
    maxImagePixels: config.data.max_image_pixels,
    pool,
    cacheBytes,
    ...(transform ? { transform } : {}),
  };
  return new BatchLoader(options, undefined, true);
}
