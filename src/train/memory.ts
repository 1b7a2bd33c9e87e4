// How a training step fits the backend's memory: how many threads share the batch, whether to
// recompute blocks in the backward pass and how many images to run per forward/backward chunk
// (memoryPlan). wasm's heap is capped at 4 GiB; the figures below were measured there
// (scripts/bench/RESULTS.md).
import { availableParallelism } from 'node:os';
import type { BackendInfo } from '../backend.ts';
import type { Config } from '../config/schema.ts';
import { UsageError } from '../errors.ts';
import { countParameters } from '../model/params.ts';
import type { SwinVariant } from '../model/variants.ts';

/** Floats of one image's first-stage tokens: activation memory scales with it. */
function firstStageFloats(variant: SwinVariant): number {
  return (variant.imgSize / variant.patchSize) ** 2 * variant.embedDim;
}

/** Whether to recompute blocks in the backward pass: needed where wasm's 4 GiB heap is tight. */
function useRecompute(config: Config, backend: BackendInfo, variant: SwinVariant): boolean {
  if (config.train.recompute !== 'auto') return config.train.recompute === 'on';
  return backend.name === 'wasm' && firstStageFloats(variant) * config.train.batch_size > 3136 * 96 * 2;
}

/**
 * Images per forward/backward chunk. train.micro_batch when set; on wasm otherwise the largest
 * chunk whose activations (mirrored copies included) fit 1.5 GiB of the 4 GiB heap, leaving the
 * rest for weights, AdamW moments, gradients and fragmentation. Measured for Swin-T at 112 px
 * (RSS, chunks of 1 and 4 images): ~240 MB per image with recomputation, ~1 GB without, i.e.
 * ~800 and ~3,500 bytes per first-stage float.
 */
function microBatchFor(config: Config, backend: BackendInfo, variant: SwinVariant, recompute: boolean): number {
  if (config.train.micro_batch > 0 || backend.name !== 'wasm') return config.train.micro_batch;
  const perImage = firstStageFloats(variant) * (recompute ? 800 : 3500) * 2;
  const fits = Math.max(1, Math.floor(1.5 * 2 ** 30 / perImage));
  return fits >= config.train.batch_size ? 0 : fits;
}

const WASM_HEAP_BYTES = 4 * 2 ** 30;
/** Bytes a trained parameter costs during training: weights, gradients, AdamW's m and v, the clipped gradients. */
const TRAIN_BYTES_PER_PARAM = 20;
/** Activation bytes per first-stage float of one image in an inference forward (Swin-T: ~0.8 GB for 16 images). */
const INFER_BYTES_PER_FLOAT = 166;

/**
 * On wasm, the smallest memory a model needs, estimated before anything is allocated: weights,
 * gradients and AdamW moments plus one image's activations (training, as the smallest
 * micro-batch with recomputation), or the weights plus one evaluation chunk (inference). A model
 * past wasm's 4 GiB heap would otherwise die with "Aborted()" after minutes of set-up. Throws a
 * UsageError with the estimate; elsewhere (tensorflow, cpu) nothing is checked.
 */
export function checkFitsWasm(variant: SwinVariant, backend: BackendInfo, purpose: 'train' | 'infer', chunk = 16): void {
  if (backend.name !== 'wasm') return;
  const params = countParameters(variant).total;
  const need =
    purpose === 'train'
      ? TRAIN_BYTES_PER_PARAM * params + firstStageFloats(variant) * 800 * 2
      : 4 * params + chunk * firstStageFloats(variant) * INFER_BYTES_PER_FLOAT;
  if (need <= WASM_HEAP_BYTES) return;
  const gib = (b: number) => (b / 2 ** 30).toFixed(1);
  throw new UsageError(
    `the model (${params.toLocaleString('en')} parameters, ${variant.imgSize} px) needs at least ~${gib(need)} GiB to ${purpose === 'train' ? 'train' : 'run'} on wasm, ` +
      `whose heap is ${gib(WASM_HEAP_BYTES)} GiB: use a smaller model or the tensorflow backend (README "GPU setup")`,
  );
}

/**
 * Threads computing each step: train.threads, or on wasm (one thread per tfjs engine) one per
 * core, never more than there are images to share out.
 */
export function threadsFor(config: Config, backend: BackendInfo, batch = config.train.batch_size): number {
  const wanted = config.train.threads > 0 ? config.train.threads : backend.name === 'wasm' ? availableParallelism() : 1;
  return Math.max(1, Math.min(wanted, batch));
}

/** The config one thread sees: its part of the batch decides its memory plan. */
function perThreadConfig(config: Config, threads: number): Config {
  return { ...config, train: { ...config.train, batch_size: Math.ceil(config.train.batch_size / threads) } };
}

export interface MemoryPlan {
  /** Threads computing each step: this one and threads - 1 replicas. */
  threads: number;
  /** Recompute blocks in the backward pass (train.recompute). */
  recompute: boolean;
  /** Images per forward/backward chunk on each thread (train.micro_batch); 0: its whole part. */
  microBatch: number;
}

/** How a step of train.batch_size images is shared out between threads and fits each one's memory. */
export function memoryPlan(config: Config, backend: BackendInfo, variant: SwinVariant): MemoryPlan {
  const threads = threadsFor(config, backend);
  // Memory is planned per thread: each computes its part of the batch.
  const perThread = perThreadConfig(config, threads);
  const recompute = useRecompute(perThread, backend, variant);
  return { threads, recompute, microBatch: microBatchFor(perThread, backend, variant, recompute) };
}
