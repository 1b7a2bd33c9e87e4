// Throughput of the training input pipeline as a run configures it: decode, resize to the
// model size, the config's augmentation, batching, in the config's worker threads, on a
// synthetic RAF-DB-like set (100 px JPEGs) written once to the temp folder.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { loadSplit } from '../data/labels.ts';
import { BatchLoader } from '../data/loader.ts';
import { PreparePool } from '../data/pool.ts';
import { LABEL_FILE, synthesizeDataset } from '../data/synth.ts';

const DATASET_SIZE = 800;
const DATASET_IMAGE = 100;

export interface PipelineBenchResult {
  imagesPerSecond: number;
  images: number;
  workers: number;
}

export async function benchPipeline(config: Config, imageSize: number, images = 512, warmup = 64): Promise<PipelineBenchResult> {
  const root = join(tmpdir(), `mek-bench-faces-${DATASET_SIZE}`);
  await synthesizeDataset({ out: root, seed: 2048, size: DATASET_SIZE, imageSize: DATASET_IMAGE });
  const data = { ...config.data, format: 'rafdb' as const, root, label_file: join(root, LABEL_FILE) };
  const { samples } = loadSplit(data, 'train', { checkImages: false });
  const pool = new PreparePool(config.data.workers);
  const batchSize = config.train.batch_size;
  const loader = new BatchLoader({
    samples,
    numClasses: config.data.classes.length,
    batchSize,
    imageSize,
    mode: 'train',
    interpolation: config.augment.interpolation,
    augment: config.augment,
    seed: 1,
    sampler: 'shuffle',
    repeatTo: 0,
    dropLast: true,
    prefetch: config.data.prefetch,
    onBadImage: 'error',
    pool,
    // No decode cache: every image is decoded, as in a run's first epoch.
    cacheBytes: 0,
  });
  try {
    let seen = 0;
    while (seen < warmup) seen += (await loader.nextHost())!.labels.length;
    const start = performance.now();
    let timed = 0;
    while (timed < images) timed += (await loader.nextHost())!.labels.length;
    return { imagesPerSecond: timed / ((performance.now() - start) / 1000), images: timed, workers: config.data.workers };
  } finally {
    await pool.close();
  }
}
