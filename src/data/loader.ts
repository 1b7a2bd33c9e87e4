// The batch loader: streams samples from disk through a bounded prefetch queue and hands out
// batches as tensors. The order of every epoch and every sample's augmentation are pure
// functions of (seed, epoch, position), so a run is repeatable whatever the decode timing, and
// resuming needs only the position (see LoaderPosition).
import * as tf from '@tensorflow/tfjs-core';
import type { AugmentConfig } from '../config/schema.ts';
import { Rng } from '../random.ts';
import { DataError } from '../errors.ts';
import type { Sample } from './labels.ts';
import type { PreparePool } from './pool.ts';
import { DEFAULT_MAX_IMAGE_PIXELS } from './decode.ts';
import type { Interpolation } from './resize.ts';

export interface LoaderOptions {
  samples: Sample[];
  numClasses: number;
  batchSize: number;
  imageSize: number;
  mode: 'train' | 'eval';
  interpolation: Interpolation;
  augment: AugmentConfig;
  seed: number;
  /** shuffle: each sample once per epoch in a seeded order; balanced: class uniform, then sample uniform; sequential: file order. */
  sampler: 'shuffle' | 'balanced' | 'sequential';
  /** Samples per epoch (the list repeated, as the reference does); 0: the list length. */
  repeatTo: number;
  dropLast: boolean;
  /** Batches prepared ahead of the consumer. */
  prefetch: number;
  onBadImage: 'error' | 'skip';
  /** With onBadImage 'skip': stop once more than this fraction of the samples proved unreadable (default 1: never). */
  maxSkipFraction?: number;
  pool: PreparePool;
  /** Decoded-image cache of each process preparing samples, in bytes (0: none). */
  cacheBytes?: number;
  /** Images with more pixels are unreadable (data.max_image_pixels; the decoder's default otherwise). */
  maxImagePixels?: number;
  /** Applied to every prepared batch before it is handed out (mek pretrain's rotations); absent: none. */
  transform?: BatchTransform;
}

/** Where the loader stands; enough to continue the exact same stream after a resume. */
export interface LoaderPosition {
  epoch: number;
  /** Index of the next sample within the epoch's order. */
  index: number;
}

export interface HostBatch {
  /** [B, H, W, 3] normalised, HWC per image. */
  images: Float32Array;
  labels: Int32Array;
  size: number;
  epoch: number;
  /** Position after this batch. */
  next: LoaderPosition;
}

/** A prepared batch turned into the one handed out; its epoch and position stay the source batch's. */
export type BatchTransform = (batch: HostBatch) => HostBatch;

export interface TensorBatch {
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
  size: number;
  epoch: number;
  next: LoaderPosition;
}

/** A 32-bit mix of the run seed with two counters (epoch, position). */
export function mixSeed(seed: number, a: number, b: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const v of [a, b]) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** The sample indices of one epoch, in the order they are served. */
export function epochOrder(opts: Pick<LoaderOptions, 'samples' | 'numClasses' | 'sampler' | 'repeatTo' | 'seed'>, epoch: number): Int32Array {
  const n = opts.samples.length;
  const length = opts.repeatTo > 0 ? opts.repeatTo : n;
  const order = new Int32Array(length);
  const rng = new Rng(mixSeed(opts.seed, epoch, 0xffffffff));
  if (opts.sampler === 'balanced') {
    const byClass: number[][] = Array.from({ length: opts.numClasses }, () => []);
    opts.samples.forEach((s, i) => byClass[s.label]!.push(i));
    const present = byClass.filter((c) => c.length > 0);
    for (let i = 0; i < length; i++) {
      const members = present[rng.int(present.length)]!;
      order[i] = members[rng.int(members.length)]!;
    }
    return order;
  }
  for (let i = 0; i < length; i++) order[i] = i % n;
  if (opts.sampler === 'shuffle') {
    for (let i = length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
  }
  return order;
}

export class BatchLoader {
  private readonly opts: LoaderOptions;
  private position: LoaderPosition;
  private order: Int32Array;
  private readonly queue: Promise<HostBatch | null>[] = [];
  /** Each unreadable image once, however many times an epoch asked for it. */
  private readonly skipped = new Set<string>();
  private warnedSkips = false;
  /** Batches in a row that came out empty (every image of them skipped). */
  private emptyRun = 0;
  /** Set when an epoch ends, for eval loaders that stop there. */
  private readonly singleEpoch: boolean;

  constructor(opts: LoaderOptions, start: LoaderPosition = { epoch: 0, index: 0 }, singleEpoch = false) {
    if (opts.samples.length === 0) throw new DataError('no samples to load');
    this.opts = opts;
    this.position = { ...start };
    this.order = epochOrder(opts, start.epoch);
    this.singleEpoch = singleEpoch;
  }

  /** Names of the images skipped so far, each once (data.on_bad_image: skip). */
  get skippedImages(): readonly string[] {
    return [...this.skipped];
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    const n = this.order.length;
    return this.opts.dropLast ? Math.floor(n / this.opts.batchSize) : Math.ceil(n / this.opts.batchSize);
  }

  /** The next batch as host arrays, or null after the last batch of a single-epoch loader. */
  async nextHost(): Promise<HostBatch | null> {
    while (this.queue.length < this.opts.prefetch) this.enqueue();
    const batch = await this.queue.shift()!;
    this.enqueue();
    if (!batch) return null;
    // A whole epoch of empty batches means nothing is readable: asking for more would loop forever.
    this.emptyRun = batch.size === 0 ? this.emptyRun + 1 : 0;
    if (this.emptyRun >= Math.max(1, this.batchesPerEpoch)) {
      const what = this.opts.mode === 'train' ? 'nothing to train on' : 'nothing to evaluate';
      throw new DataError(`no image of an epoch could be read (${this.skipped.size} unreadable, data.on_bad_image: skip), e.g. ${this.examples()}; ${what}`);
    }
    return this.opts.transform && batch.size > 0 ? this.opts.transform(batch) : batch;
  }

  private enqueue(): void {
    let pending: Promise<HostBatch | null>;
    try {
      pending = this.produce();
    } catch (err) {
      pending = Promise.reject(err);
    }
    // A failure surfaces when the consumer reaches this batch, not as an unhandled rejection
    // of a batch prepared ahead.
    pending.catch(() => undefined);
    this.queue.push(pending);
  }

  /** The next batch as tensors (the caller disposes them). */
  async next(): Promise<TensorBatch | null> {
    const host = await this.nextHost();
    if (!host) return null;
    const s = this.opts.imageSize;
    return {
      images: tf.tensor4d(host.images, [host.size, s, s, 3]),
      labels: tf.tensor1d(host.labels, 'int32'),
      size: host.size,
      epoch: host.epoch,
      next: host.next,
    };
  }

  /** Claims the sample positions of the next batch synchronously, then prepares them. */
  private produce(): Promise<HostBatch | null> {
    const { batchSize, dropLast } = this.opts;
    let remaining = this.order.length - this.position.index;
    if (remaining <= 0 || (dropLast && remaining < batchSize)) {
      if (this.singleEpoch) return Promise.resolve(null);
      this.position = { epoch: this.position.epoch + 1, index: 0 };
      this.order = epochOrder(this.opts, this.position.epoch);
      remaining = this.order.length;
      if (dropLast && remaining < batchSize) {
        throw new DataError(`only ${remaining} training samples for a batch of ${batchSize} with drop_last`);
      }
    }
    const epoch = this.position.epoch;
    const start = this.position.index;
    const size = Math.min(batchSize, remaining);
    const picks = Array.from(this.order.subarray(start, start + size));
    this.position = { epoch, index: start + size };
    return this.prepareBatch(picks, epoch, start, { ...this.position });
  }

  private async prepareBatch(picks: number[], epoch: number, start: number, next: LoaderPosition): Promise<HostBatch> {
    const { imageSize, mode, interpolation, augment, seed, samples } = this.opts;
    const pixels = imageSize * imageSize * 3;
    const prepared = await Promise.all(
      picks.map((index, k) =>
        this.opts.pool
          .prepare({
            path: samples[index]!.path,
            size: imageSize,
            mode,
            interpolation,
            augment,
            seed: mixSeed(seed, epoch, start + k),
            cacheBytes: this.opts.cacheBytes ?? 0,
            maxPixels: this.opts.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS,
          })
          .catch((err: Error) => {
            if (!(this.opts.onBadImage === 'skip' && err instanceof DataError)) throw err;
            this.noteSkip(samples[index]!.path);
            return null;
          }),
      ),
    );
    const kept = prepared.map((data, k) => ({ data, label: samples[picks[k]!]!.label })).filter((x) => x.data !== null);
    const images = new Float32Array(kept.length * pixels);
    const labels = new Int32Array(kept.length);
    kept.forEach((x, k) => {
      images.set(x.data!, k * pixels);
      labels[k] = x.label;
    });
    return { images, labels, size: kept.length, epoch, next };
  }

  private noteSkip(path: string): void {
    this.skipped.add(path);
    const bound = this.opts.maxSkipFraction ?? 1;
    if (this.skipped.size > bound * this.opts.samples.length) {
      const share = ((100 * this.skipped.size) / this.opts.samples.length).toFixed(1);
      throw new DataError(
        `${this.skipped.size} of ${this.opts.samples.length} images (${share}%) are unreadable, more than data.max_skip_fraction ${bound} allows, e.g. ${this.examples()}; ` +
          'fix data.root or the images (mek data check lists them), or raise data.max_skip_fraction',
      );
    }
    if (!this.warnedSkips) {
      this.warnedSkips = true;
      // Warned once, then counted; the summary at the end of the run lists the first few.
      process.stderr.write(`warning: skipping unreadable image ${path} (data.on_bad_image: skip); further skips are counted\n`);
    }
  }

  private examples(): string {
    return [...this.skipped].slice(0, 3).join(', ');
  }
}
