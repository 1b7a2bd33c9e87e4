// Evaluation of a model on a split: batches from a single-epoch loader, run by an inference
// engine (mek's tfjs graph or ONNX Runtime), logits read back once per batch, metrics
// accumulated on the host.
import { adjustedPredictions } from '../eval/adjust.ts';
import { argmaxRows, ConfusionAccumulator, type Metrics } from '../eval/metrics.ts';
import type { BatchLoader } from '../data/loader.ts';
import { flipImages, type InferenceEngine } from '../infer/engine.ts';

/**
 * Images per inference forward of the tfjs graph: per-layer tidying keeps memory to one
 * block's intermediates of this many images, ~0.8 GB for Swin-T at 112 px, well inside wasm's
 * 4 GiB heap.
 */
export const EVAL_CHUNK = 16;

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
