// Evaluation of a model on a split: batches from a single-epoch loader, inference in bounded
// chunks, predictions read back once per batch, metrics accumulated on the host.
import * as tf from '@tensorflow/tfjs-core';
import type { BatchLoader } from '../data/loader.ts';
import { adjustedPredictions } from '../eval/adjust.ts';
import { argmaxRows, ConfusionAccumulator, type Metrics } from '../eval/metrics.ts';
import { ferInference } from '../model/fer.ts';
import type { Params } from '../model/params.ts';
import type { SwinConstants } from '../model/swin.ts';
import type { ReplicaPool } from './replicas/pool.ts';

/**
 * Images per inference forward: per-layer tidying keeps memory to one block's intermediates of
 * this many images, ~0.8 GB for Swin-T at 112 px, well inside wasm's 4 GiB heap.
 */
export const EVAL_CHUNK = 16;

export interface EvaluateOptions {
  numClasses: number;
  /** Images per forward pass (bounds memory); EVAL_CHUNK by default. */
  chunk?: number;
  /** Average the logits of each image and its mirror (test-time augmentation). */
  flipTta?: boolean;
  /** Threads that take a share of each batch (the caller's thread computes its own share). */
  replicas?: ReplicaPool;
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

export async function evaluate(params: Params, consts: SwinConstants, loader: BatchLoader, opts: EvaluateOptions): Promise<Evaluation> {
  const acc = new ConfusionAccumulator(opts.numClasses);
  const labels: number[] = [];
  const predictions: number[] = [];
  const logitRows: Float32Array[] = [];
  let done = 0;
  for (;;) {
    const batch = await loader.next();
    if (!batch) break;
    if (batch.size > 0) {
      const chunk = opts.chunk ?? EVAL_CHUNK;
      const infer = async (images: tf.Tensor4D): Promise<tf.Tensor2D> => {
        const out = opts.replicas ? await opts.replicas.infer(params, images, consts, chunk) : ferInference(params, images, consts, chunk);
        out.cams.dispose();
        return out.logits;
      };
      let logits = await infer(batch.images);
      if (opts.flipTta) {
        const flipped = tf.reverse(batch.images, 2) as tf.Tensor4D;
        const mirrored = await infer(flipped);
        const mean = tf.tidy(() => tf.div(tf.add(logits, mirrored), 2) as tf.Tensor2D);
        tf.dispose([flipped, mirrored, logits]);
        logits = mean;
      }
      const values = (await logits.data()) as Float32Array;
      const preds = opts.adjust ? adjustedPredictions(values, opts.adjust.logPrior, opts.adjust.tau) : argmaxRows(values, opts.numClasses);
      logitRows.push(values);
      const truth = (await batch.labels.data()) as Int32Array;
      logits.dispose();
      acc.add(truth, preds);
      labels.push(...truth);
      predictions.push(...preds);
      done += batch.size;
    }
    batch.images.dispose();
    batch.labels.dispose();
    opts.onBatch?.(done);
  }
  const all = new Float32Array(labels.length * opts.numClasses);
  logitRows.reduce((offset, rows) => (all.set(rows, offset), offset + rows.length), 0);
  return { metrics: acc.metrics(), labels: Int32Array.from(labels), predictions: Int32Array.from(predictions), logits: all };
}
