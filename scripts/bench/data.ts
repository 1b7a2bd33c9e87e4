// Times mek's training data pipeline on a synthetic RAF-DB-like dataset (100 px aligned JPEGs):
// read + sharp decode + bicubic resize to the model size, the reference train transform
// (hflip 0.5, RandAugment rand-m9-mstd0.5-inc1, normalise 0.5/0.5, random erasing 0.25 'pixel'),
// and batching into a Float32Array [B, S, S, 3], through BatchLoader + PreparePool.
//
//   node bin/run-ts.js scripts/bench/data.ts [--size 2000] [--batch 32] [--workers 0,1,2]
//     [--images 1500] [--warmup 128] [--prefetch 4] [--data DIR] [--stages 300] [--json]
//
// Each --workers setting runs in its own child process (so its peak RSS is its own and no
// JIT or sharp cache carries over), consuming --warmup images untimed, then timing --images
// images (rounded up to whole batches) as fast as the consumer can take them (nextHost(): the
// consumer does nothing else). Then, in this process, single-threaded per-stage timings
// (read, decode+resize, hflip, RandAugment and each of its ops, normalise, erasing, batch copy)
// and the cost of turning a host batch into tensors (what loader.next() adds) on the cpu and
// wasm backends. --stages 0 skips the stage section.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { defaultConfig } from '../../src/config/load.ts';
import type { AugmentConfig, Config } from '../../src/config/schema.ts';
import {
  applyOp,
  createNormalizer,
  fillFromMean,
  parseRandAugmentSpec,
  RandAugment,
  RAND_INCREASING_OPS,
  randomErasing,
  randomHflip,
  sampleMagnitude,
  trainTransform,
} from '../../src/data/augment/index.ts';
import { decodeImage, DEFAULT_MAX_IMAGE_PIXELS } from '../../src/data/decode.ts';
import type { RgbImage } from '../../src/data/image.ts';
import { loadSplit } from '../../src/data/labels.ts';
import { BatchLoader } from '../../src/data/loader.ts';
import { PreparePool } from '../../src/data/pool.ts';
import { prepareSample } from '../../src/data/prepare.ts';
import { LABEL_FILE, synthesizeDataset } from '../../src/data/synth.ts';
import { Rng } from '../../src/random.ts';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '32' },
    workers: { type: 'string', default: '0,1,2' },
    images: { type: 'string', default: '1500' },
    warmup: { type: 'string', default: '128' },
    prefetch: { type: 'string', default: '4' },
    // Decoded-image cache (data.cache_mb); with a warm-up of a whole epoch the timed images hit it.
    'cache-mb': { type: 'string', default: '0' },
    'image-size': { type: 'string', default: '112' },
    data: { type: 'string', default: '' },
    stages: { type: 'string', default: '300' },
    json: { type: 'boolean', default: false },
    // internal: run one throughput setting and print its JSON line
    child: { type: 'boolean', default: false },
  },
});

const size = Number(args.size);
const batchSize = Number(args.batch);
const imageCount = Number(args.images);
const warmupImages = Number(args.warmup);
const prefetch = Number(args.prefetch);
const cacheMb = Number(args['cache-mb']);
const imageSize = Number(args['image-size']);
const stageImages = Number(args.stages);
const dataDir = resolve(args.data || `/tmp/mek-bench-data-${size}`);
const SEED = 2048;

function benchConfig(): Config {
  const cfg = defaultConfig();
  cfg.data.format = 'rafdb';
  cfg.data.root = dataDir;
  cfg.data.label_file = join(dataDir, LABEL_FILE);
  return cfg;
}

function augmentConfig(cfg: Config): AugmentConfig {
  // The defaults are the reference recipe; say so rather than trust it silently.
  const a = cfg.augment;
  const expect = { interpolation: 'bicubic', hflip: 0.5, randaugment: 'rand-m9-mstd0.5-inc1', erasing: 0.25, erasing_mode: 'pixel' };
  for (const [k, v] of Object.entries(expect)) {
    if ((a as unknown as Record<string, unknown>)[k] !== v) throw new Error(`augment.${k} default is ${String((a as unknown as Record<string, unknown>)[k])}, expected ${String(v)}`);
  }
  return a;
}

interface ThroughputResult {
  workers: number;
  prefetch: number;
  batch: number;
  images: number;
  seconds: number;
  imagesPerSec: number;
  /** CPU seconds (user + system, all threads) per image while timed. */
  cpuMsPerImage: number;
  /** Process peak RSS over its whole life (worker threads included), MiB. */
  peakRssMiB: number;
  warmupSeconds: number;
}

async function runOne(workers: number): Promise<ThroughputResult> {
  const cfg = benchConfig();
  const augment = augmentConfig(cfg);
  const { samples } = loadSplit(cfg.data, 'train');
  const pool = new PreparePool(workers);
  const batches = Math.ceil(imageCount / batchSize);
  const warmBatches = Math.ceil(warmupImages / batchSize);
  const loader = new BatchLoader({
    samples,
    numClasses: cfg.data.classes.length,
    batchSize,
    imageSize,
    mode: 'train',
    interpolation: augment.interpolation,
    augment,
    seed: SEED,
    sampler: 'shuffle',
    repeatTo: 0,
    dropLast: true,
    prefetch,
    onBadImage: 'error',
    pool,
    cacheBytes: (cacheMb * 2 ** 20) / Math.max(1, workers),
  });
  const t0 = performance.now();
  for (let i = 0; i < warmBatches; i++) await loader.nextHost();
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  let n = 0;
  for (let i = 0; i < batches; i++) {
    const b = await loader.nextHost();
    if (!b) throw new Error('loader ended early');
    if (b.images.length !== b.size * imageSize * imageSize * 3) throw new Error('bad batch shape');
    n += b.size;
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const result: ThroughputResult = {
    workers,
    prefetch,
    batch: batchSize,
    images: n,
    seconds,
    imagesPerSec: n / seconds,
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / n,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    warmupSeconds: (start - t0) / 1000,
  };
  await pool.close();
  return result;
}

// ---------------------------------------------------------------------------------------------
// Per-stage timings, one image at a time on the main thread.

interface StageRow {
  /** Stable name for scripts (compare_data.sh). */
  key?: string;
  stage: string;
  usPerImage: number;
  cpuUsPerImage?: number;
  note?: string;
}

const now = (): number => performance.now();

async function stageTimings(): Promise<{ rows: StageRow[]; ops: StageRow[]; tensors: StageRow[] }> {
  const cfg = benchConfig();
  const augment = augmentConfig(cfg);
  const { samples } = loadSplit(cfg.data, 'train');
  const paths = samples.slice(0, stageImages).map((s) => s.path);
  const warm = paths.slice(0, Math.min(30, paths.length));
  for (const p of warm) await decodeImage(p, imageSize, 'bicubic');

  const rows: StageRow[] = [];
  const time = async (key: string, stage: string, fn: (i: number) => unknown, note?: string): Promise<number> => {
    // fn may be async; awaited one by one (latency of one image, nothing overlapped)
    for (let i = 0; i < Math.min(20, paths.length); i++) await fn(i);
    const t = now();
    for (let i = 0; i < paths.length; i++) await fn(i);
    const us = ((now() - t) * 1000) / paths.length;
    rows.push({ key, stage, usPerImage: us, note });
    return us;
  };

  const bytes: Buffer[] = [];
  await time('read', 'readFile (page cache)', async (i) => (bytes[i] = await readFile(paths[i]!)));
  const decoded: RgbImage[] = [];
  await time('decode_resize', `sharp decode + bicubic resize 100->${imageSize} (decodeImage, one at a time)`, async (i) => (decoded[i] = await decodeImage(paths[i]!, imageSize, 'bicubic')));
  // The same pipeline straight on the bytes, one at a time, and 32 at once (what a batch does
  // in-process: sharp's work goes to the libuv pool).
  const resize = { width: imageSize, height: imageSize, fit: 'fill', kernel: 'cubic' } as const;
  const sharpOne = (b: Buffer) => sharp(b, { sequentialRead: true }).toColourspace('srgb').resize(resize).raw({ depth: 'uchar' }).toBuffer();
  await time('sharp_bytes', '  of which the sharp pipeline on bytes in memory', (i) => sharpOne(bytes[i]!));
  await time('sharp_decode_only', '  sharp decode only (no resize) on bytes in memory', (i) => sharp(bytes[i]!, { sequentialRead: true }).raw().toBuffer());
  {
    const t = now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < paths.length; i += batchSize) await Promise.all(bytes.slice(i, i + batchSize).map(sharpOne));
    const c = process.cpuUsage(c0);
    const cpuUs = (c.user + c.system) / paths.length;
    rows.push({
      key: 'sharp_parallel',
      stage: `  the sharp pipeline, ${batchSize} in flight (wall time per image)`,
      usPerImage: ((now() - t) * 1000) / paths.length,
      cpuUsPerImage: cpuUs,
      note: `${cpuUs.toFixed(0)} CPU-µs/image over all threads; sharp.concurrency() = ${sharp.concurrency()}, UV_THREADPOOL_SIZE = ${process.env.UV_THREADPOOL_SIZE ?? 'unset (4)'}`,
    });
  }

  const rngs = (): Rng[] => paths.map((_, i) => new Rng(1000 + i));
  let r = rngs();
  const flipped: RgbImage[] = [];
  await time('hflip', 'hflip p=0.5', (i) => (flipped[i] = randomHflip(decoded[i]!, augment.hflip, r[i]!)));
  const ra = new RandAugment(augment.randaugment, { fill: fillFromMean(augment.mean), resample: augment.interpolation });
  r = rngs();
  const augmented: RgbImage[] = [];
  await time('randaugment', `RandAugment ${augment.randaugment}`, (i) => (augmented[i] = ra.apply(flipped[i]!, r[i]!)));
  const normalize = createNormalizer(augment.mean, augment.std);
  const floats: Float32Array[] = [];
  await time('normalize', 'normalise (table lookup)', (i) => (floats[i] = normalize(augmented[i]!)));
  r = rngs();
  await time('erasing', `random erasing p=${augment.erasing} '${augment.erasing_mode}'`, (i) =>
    randomErasing(floats[i]!, imageSize, imageSize, 3, { probability: augment.erasing, mode: augment.erasing_mode }, r[i]!),
  );
  const pixels = imageSize * imageSize * 3;
  const batchBuf = new Float32Array(batchSize * pixels);
  await time('batch', 'batch copy into Float32Array [B,S,S,3] (+ allocation per batch)', (i) => {
    if (i % batchSize === 0) new Float32Array(batchSize * pixels).fill(0, 0, 1);
    batchBuf.set(floats[i]!, (i % batchSize) * pixels);
  });
  await time('prepare', 'whole prepareSample from the file (read+decode+resize+transform)', (i) =>
    prepareSample({ path: paths[i]!, size: imageSize, mode: 'train', interpolation: augment.interpolation, augment, seed: 1000 + i, cacheBytes: 0, maxPixels: DEFAULT_MAX_IMAGE_PIXELS }),
  );
  const transform = trainTransform(augment, imageSize);
  r = rngs();
  await time('transform', 'whole train transform (trainTransform: flip+RA+norm+erase)', (i) => transform(decoded[i]!, r[i]!));

  // Each RandAugment op at a typical magnitude (m drawn as in the pipeline), on the decoded
  // 112 px images. Per image the pipeline runs on average n * p = 1 op.
  const spec = parseRandAugmentSpec(augment.randaugment);
  const opts = { fill: fillFromMean(augment.mean), resample: augment.interpolation };
  const ops: StageRow[] = [];
  for (const name of RAND_INCREASING_OPS) {
    const rr = rngs();
    for (let i = 0; i < Math.min(20, paths.length); i++) applyOp(name, decoded[i]!, sampleMagnitude(spec, rr[i]!), rr[i]!, opts);
    const t = now();
    for (let i = 0; i < paths.length; i++) applyOp(name, decoded[i]!, sampleMagnitude(spec, rr[i]!), rr[i]!, opts);
    ops.push({ key: name, stage: name, usPerImage: ((now() - t) * 1000) / paths.length });
  }

  // Tensor creation: what loader.next() adds over nextHost() (tf.tensor4d + tensor1d of a
  // host batch, then dispose).
  const tensors: StageRow[] = [];
  const tf = await import('@tensorflow/tfjs-core');
  const { selectBackend } = await import('../../src/backend.ts');
  const host = new Float32Array(batchSize * pixels);
  for (let i = 0; i < host.length; i++) host[i] = (i % 255) / 127.5 - 1;
  const labels = new Int32Array(batchSize);
  for (const backend of ['cpu', 'wasm'] as const) {
    try {
      await selectBackend(backend);
    } catch (err) {
      tensors.push({ key: backend, stage: backend, usPerImage: NaN, note: `not available: ${(err as Error).message}` });
      continue;
    }
    const once = (): void => {
      const a = tf.tensor4d(host, [batchSize, imageSize, imageSize, 3]);
      const b = tf.tensor1d(labels, 'int32');
      tf.dispose([a, b]);
    };
    for (let i = 0; i < 5; i++) once();
    const reps = 50;
    const t = now();
    for (let i = 0; i < reps; i++) once();
    const msPerBatch = (now() - t) / reps;
    tensors.push({ key: backend, stage: `${backend}: tensor4d+tensor1d+dispose per batch of ${batchSize}`, usPerImage: (msPerBatch * 1000) / batchSize, note: `${msPerBatch.toFixed(3)} ms per batch` });
  }
  return { rows, ops, tensors };
}

// ---------------------------------------------------------------------------------------------

function fmt(x: number, d = 1): string {
  return Number.isFinite(x) ? x.toFixed(d) : 'n/a';
}

async function main(): Promise<void> {
  if (args.child) {
    const w = Number(args.workers);
    // A ref'd timer holds the process open until the run is over, whatever PreparePool does
    // with its threads (it once unref'd busy workers, and a child that only awaited a worker's
    // reply then exited mid-run with code 13).
    const keepAlive = setInterval(() => undefined, 1000);
    const result = await runOne(w);
    clearInterval(keepAlive);
    process.stdout.write(JSON.stringify(result) + '\n');
    // Worker threads are unref'd and the pool closed; exit without waiting for sharp's pool.
    process.exit(0);
  }
  const workerList = args.workers.split(',').map((s) => Number(s.trim()));
  if (workerList.some((w) => !Number.isInteger(w) || w < 0)) throw new Error(`bad --workers ${args.workers}`);

  const t = now();
  const synth = await synthesizeDataset({ out: dataDir, seed: 0, size, imageSize: 100 });
  const trainCount = synth.train.reduce((a, b) => a + b, 0);
  const log = (s: string): void => {
    if (!args.json) console.log(s);
  };
  log(`dataset: ${dataDir} (${synth.created ? `generated in ${((now() - t) / 1000).toFixed(1)} s` : 'reused'}; ${trainCount} train images, 100x100 JPEG)`);
  log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  log(
    `pipeline: decode (sharp) + bicubic resize to ${imageSize} + hflip + RandAugment rand-m9-mstd0.5-inc1 + normalise + random erasing 0.25 pixel -> Float32Array [${batchSize},${imageSize},${imageSize},3]; prefetch ${prefetch}; warm-up ${warmupImages} images, timed ${Math.ceil(imageCount / batchSize) * batchSize}`,
  );

  const self = fileURLToPath(import.meta.url);
  const runTs = resolve(fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url)));
  const results: ThroughputResult[] = [];
  for (const w of workerList) {
    const child = spawnSync(
      process.execPath,
      [runTs, self, '--child', '--workers', String(w), '--size', String(size), '--batch', String(batchSize), '--images', String(imageCount), '--warmup', String(warmupImages), '--prefetch', String(prefetch), '--cache-mb', String(cacheMb), '--image-size', String(imageSize), '--data', dataDir],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    if (child.status !== 0) throw new Error(`child for workers=${w} failed (${child.status}):\n${child.stderr}`);
    const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as ThroughputResult;
    results.push(r);
    log(
      `workers ${w}: ${fmt(r.imagesPerSec)} images/s (${r.images} images in ${fmt(r.seconds, 2)} s; ${fmt(r.cpuMsPerImage, 2)} CPU-ms/image; peak RSS ${fmt(r.peakRssMiB, 0)} MiB; warm-up ${fmt(r.warmupSeconds, 2)} s)`,
    );
  }

  let stages: Awaited<ReturnType<typeof stageTimings>> | null = null;
  if (stageImages > 0) {
    stages = await stageTimings();
    log(`\nper-stage cost, one image at a time on one thread (${stageImages} images, µs/image):`);
    for (const s of stages.rows) log(`  ${s.stage.padEnd(72)} ${fmt(s.usPerImage).padStart(8)}${s.note ? `   (${s.note})` : ''}`);
    log(`RandAugment ops on ${imageSize} px (µs per call; the pipeline averages 1 op per image):`);
    for (const s of stages.ops) log(`  ${s.stage.padEnd(24)} ${fmt(s.usPerImage).padStart(8)}`);
    log('tensor creation (loader.next() on top of nextHost()):');
    for (const s of stages.tensors) log(`  ${s.stage.padEnd(56)} ${fmt(s.usPerImage, 2).padStart(8)} µs/image${s.note ? `   (${s.note})` : ''}`);
  }

  if (args.json) {
    console.log(
      JSON.stringify({
        tool: 'mek',
        dataset: dataDir,
        trainImages: trainCount,
        cores: cpus().length,
        node: process.version,
        imageSize,
        results,
        stages,
      }),
    );
  }
}

await main();
