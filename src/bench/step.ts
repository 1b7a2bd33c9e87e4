// Timings of the model alone: the full MEK training step (2B forward, both losses, backward,
// clipping, AdamW) and batched inference, on random inputs, with tfjs memory tracked per step
// so that a leak shows as a count that grows.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../backend.ts';
import { balanceWeights } from '../mek/balance.ts';
import { REFERENCE_LOSS } from '../mek/objective.ts';
import { Model } from '../model/model.ts';
import { initialValues } from '../model/params.ts';
import type { SwinVariant } from '../model/variants.ts';
import { Rng } from '../random.ts';
import { AdamW } from '../train/adamw.ts';
import { ReplicaPool } from '../train/replicas/pool.ts';
import { trainStep, type TrainContext } from '../train/step.ts';
import { loadOrt, onnxEngine } from '../infer/onnx.ts';
import { onnxModel } from '../io/onnx/export.ts';
import { mekVersion } from '../version.ts';

// RAF-DB's training counts: the balance weights of the paper's run.
const RAFDB_COUNTS = [1290, 281, 717, 4772, 1982, 705, 2524];

export interface StepBenchOptions {
  variant: SwinVariant;
  batch: number;
  microBatch: number;
  recompute: boolean;
  steps: number;
  warmup: number;
  inferBatch: number;
  inferChunk: number;
  /** Threads sharing each batch (1: this thread alone). */
  threads: number;
  backend: BackendName;
}

export interface StepBenchResult {
  train: { secondsPerStep: number[]; samplesPerSecond: number };
  inference: { seconds: number; imagesPerSecond: number };
  /** tf.memory() after warm-up and after the last step: flat when nothing leaks. */
  tensors: { afterWarmup: number; afterSteps: number };
  tfBytes: number;
}

export async function benchSteps(o: StepBenchOptions, onStep?: (i: number, seconds: number) => void): Promise<StepBenchResult> {
  const { variant } = o;
  const model = Model.init(variant, new Rng(2048));
  const counts = variant.numClasses === RAFDB_COUNTS.length ? RAFDB_COUNTS : Array.from({ length: variant.numClasses }, (_, i) => 100 * (i + 1));
  const loss = { ...REFERENCE_LOSS, classWeights: balanceWeights(counts) };
  const images = tf.randomUniform([o.batch, variant.imgSize, variant.imgSize, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: o.batch }, (_, i) => i % variant.numClasses), 'int32');
  const replicas =
    o.threads > 1 ? await ReplicaPool.start(o.threads - 1, { backend: o.backend, model, loss, training: true, microBatch: o.microBatch, recompute: o.recompute }) : null;
  const ctx: TrainContext = {
    model,
    optimizer: new AdamW(model.weights.trainable(), { weightDecay: 0.05 }),
    loss,
    clipNorm: 5,
    rng: new Rng(1),
    training: true,
    microBatch: o.microBatch,
    recompute: o.recompute,
    replicas,
  };
  const step = async (): Promise<number> => {
    const start = performance.now();
    const r = await trainStep(ctx, { images, labels }, 1e-4);
    await r.total.data(); // the step has finished once its loss is readable
    tf.dispose([r.total, r.cls, r.rac, r.gradNorm].filter((t): t is tf.Scalar => t !== null));
    return (performance.now() - start) / 1000;
  };
  try {
    for (let i = 0; i < o.warmup; i++) await step();
    const afterWarmup = tf.memory().numTensors;
    const secondsPerStep: number[] = [];
    for (let i = 0; i < o.steps; i++) {
      secondsPerStep.push(await step());
      onStep?.(i, secondsPerStep[i]!);
    }
    const afterSteps = tf.memory().numTensors;
    const tfBytes = tf.memory().numBytes;
    const mean = secondsPerStep.reduce((a, b) => a + b, 0) / Math.max(1, secondsPerStep.length);

    const x = tf.randomUniform([o.inferBatch, variant.imgSize, variant.imgSize, 3], -1, 1, 'float32', 2) as tf.Tensor4D;
    const start = performance.now();
    const out = replicas ? await replicas.infer(x, o.inferChunk) : model.infer(x, o.inferChunk);
    await out.logits.data();
    const seconds = (performance.now() - start) / 1000;
    tf.dispose([x, out.logits, out.cams]);
    return {
      train: { secondsPerStep, samplesPerSecond: o.batch / mean },
      inference: { seconds, imagesPerSecond: o.inferBatch / seconds },
      tensors: { afterWarmup, afterSteps },
      tfBytes,
    };
  } finally {
    await replicas?.close();
    tf.dispose([images, labels]);
    ctx.optimizer.dispose();
    model.dispose();
  }
}

export interface OnnxBenchResult {
  seconds: number;
  imagesPerSecond: number;
  threads: number;
}

/**
 * One inference batch of `n` random images through the model's ONNX export on ONNX Runtime
 * (CPU, `threads` intra-op threads), after one untimed run that lets the session allocate; null
 * where it cannot load. Run after the tfjs timings, with their threads and memory released.
 */
export async function benchOnnxInference(variant: SwinVariant, n: number, threads: number): Promise<OnnxBenchResult | null> {
  if ((await loadOrt()) instanceof Error) return null;
  const values = initialValues(variant, new Rng(2048));
  const rng = new Rng(2);
  const images = Float32Array.from({ length: n * variant.imgSize ** 2 * 3 }, () => 2 * rng.uniform() - 1);
  const meta = { classes: Array.from({ length: variant.numClasses }, (_, i) => `c${i}`), preprocessing: { imageSize: variant.imgSize, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], interpolation: 'bilinear' as const }, version: mekVersion(), source: 'bench' };
  const engine = await onnxEngine(onnxModel(variant, values, meta), { threads, device: 'cpu', what: 'bench model' });
  try {
    await engine.run(images, n, false);
    const start = performance.now();
    await engine.run(images, n, false);
    const seconds = (performance.now() - start) / 1000;
    return { seconds, imagesPerSecond: n / seconds, threads };
  } finally {
    await engine.close();
  }
}

/** GFLOP/s of one n x n by n x n product: the backend's ceiling for dense work. */
export async function benchMatMul(n = 1024, repeats = 3): Promise<number> {
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  let best = Infinity;
  for (let i = 0; i < repeats + 1; i++) {
    const start = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    if (i > 0) best = Math.min(best, (performance.now() - start) / 1000);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / best / 1e9;
}
