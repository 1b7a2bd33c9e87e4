// The batch loader: seeded epoch orders, samplers, repeat, drop_last, bounded prefetch,
// determinism across worker pools and resume positions, and skipping bad images.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { defaultConfig } from '../../src/config/load.ts';
import { DataError } from '../../src/errors.ts';
import type { Sample } from '../../src/data/labels.ts';
import { BatchLoader, epochOrder, type LoaderOptions } from '../../src/data/loader.ts';
import { PreparePool } from '../../src/data/pool.ts';
import type { PrepareJob } from '../../src/data/prepare.ts';

const dir = mkdtempSync(join(tmpdir(), 'mek-loader-'));
const samples: Sample[] = [];
const inProcess = new PreparePool(0);

beforeAll(async () => {
  await selectBackend('cpu');
  for (let i = 0; i < 12; i++) {
    const path = join(dir, `img_${i}.png`);
    const pixels = Buffer.alloc(20 * 20 * 3, (i * 20) % 256);
    await sharp(pixels, { raw: { width: 20, height: 20, channels: 3 } }).png().toFile(path);
    samples.push({ path, label: i % 3, origin: path });
  }
});

function options(overrides: Partial<LoaderOptions> = {}): LoaderOptions {
  const cfg = defaultConfig();
  return {
    samples,
    numClasses: 3,
    batchSize: 4,
    imageSize: 16,
    mode: 'train',
    interpolation: 'bicubic',
    augment: cfg.augment,
    seed: 7,
    sampler: 'shuffle',
    repeatTo: 0,
    dropLast: true,
    prefetch: 2,
    onBadImage: 'error',
    pool: inProcess,
    ...overrides,
  };
}

describe('epoch order', () => {
  it('is a seeded permutation that changes every epoch', () => {
    const o = options();
    const e0 = Array.from(epochOrder(o, 0));
    expect([...e0].sort((a, b) => a - b)).toEqual(samples.map((_, i) => i));
    expect(Array.from(epochOrder(o, 0))).toEqual(e0);
    expect(Array.from(epochOrder(o, 1))).not.toEqual(e0);
    expect(Array.from(epochOrder({ ...o, seed: 8 }, 0))).not.toEqual(e0);
  });

  it('repeats the list to repeat_to samples, each sample as often as the others (+-1)', () => {
    const order = epochOrder(options({ repeatTo: 40 }), 0);
    expect(order.length).toBe(40);
    const times = samples.map((_, i) => order.filter((x) => x === i).length);
    expect(Math.max(...times) - Math.min(...times)).toBeLessThanOrEqual(1);
  });

  it('the balanced sampler draws classes uniformly whatever their sizes', () => {
    const skewed = samples.map((s, i) => ({ ...s, label: i < 10 ? 0 : i === 10 ? 1 : 2 }));
    const order = epochOrder(options({ samples: skewed, sampler: 'balanced', repeatTo: 3000 }), 0);
    const perClass = [0, 0, 0];
    for (const i of order) perClass[skewed[i]!.label]!++;
    for (const n of perClass) expect(Math.abs(n / 3000 - 1 / 3)).toBeLessThan(0.04);
  });
});

describe('batch loader', () => {
  it('serves batches of normalised images with their labels, epoch after epoch', async () => {
    const loader = new BatchLoader(options());
    expect(loader.batchesPerEpoch).toBe(3);
    const seen: number[] = [];
    for (let b = 0; b < 4; b++) {
      const batch = (await loader.next())!;
      expect(batch.images.shape).toEqual([4, 16, 16, 3]);
      expect(batch.labels.dtype).toBe('int32');
      const values = batch.images.dataSync();
      expect(Math.min(...values)).toBeGreaterThanOrEqual(-5);
      expect(Math.max(...values)).toBeLessThanOrEqual(5);
      seen.push(batch.epoch);
      batch.images.dispose();
      batch.labels.dispose();
    }
    expect(seen).toEqual([0, 0, 0, 1]);
  });

  it('is repeatable, and identical with worker threads and in-process', async () => {
    const pool = new PreparePool(1);
    const a = new BatchLoader(options());
    const b = new BatchLoader(options({ pool }));
    for (let i = 0; i < 3; i++) {
      const x = (await a.nextHost())!;
      const y = (await b.nextHost())!;
      expect(Array.from(y.labels)).toEqual(Array.from(x.labels));
      expect(y.images).toEqual(x.images);
    }
    await pool.close();
  });

  it('continues the same stream from a saved position (resume)', async () => {
    const full = new BatchLoader(options());
    const batches = [];
    for (let i = 0; i < 5; i++) batches.push((await full.nextHost())!);
    const resumed = new BatchLoader(options(), batches[1]!.next);
    for (let i = 2; i < 5; i++) {
      const r = (await resumed.nextHost())!;
      expect(r.images).toEqual(batches[i]!.images);
      expect(r.epoch).toBe(batches[i]!.epoch);
    }
  });

  it('keeps no more than prefetch batches in preparation', async () => {
    let inFlight = 0;
    let peak = 0;
    const counting = {
      prepare: async (job: PrepareJob) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return new Float32Array(job.size * job.size * 3);
      },
    } as unknown as PreparePool;
    const loader = new BatchLoader(options({ pool: counting, prefetch: 2, repeatTo: 400 }));
    for (let i = 0; i < 30; i++) await loader.nextHost();
    expect(peak).toBeLessThanOrEqual(2 * 4);
  });

  it('a single-epoch evaluation loader ends, keeping the last partial batch', async () => {
    const loader = new BatchLoader(options({ mode: 'eval', sampler: 'sequential', batchSize: 5, dropLast: false }), undefined, true);
    const sizes = [];
    for (;;) {
      const b = await loader.nextHost();
      if (!b) break;
      sizes.push(b.size);
    }
    expect(sizes).toEqual([5, 5, 2]);
  });

  it('an unreadable image stops the run by default, or is skipped and counted', async () => {
    const broken = join(dir, 'broken.jpg');
    writeFileSync(broken, 'not an image');
    const withBad = [...samples.slice(0, 3), { path: broken, label: 0, origin: broken }];
    const strict = new BatchLoader(options({ samples: withBad, sampler: 'sequential' }));
    await expect(strict.nextHost()).rejects.toThrow(DataError);
    await expect(strict.nextHost().catch((e) => e.message)).resolves.toContain('broken.jpg');
    const lenient = new BatchLoader(options({ samples: withBad, sampler: 'sequential', onBadImage: 'skip' }));
    const batch = (await lenient.nextHost())!;
    expect(batch.size).toBe(3);
    expect(lenient.skippedImages).toContain(broken);
  });

  it('counts each unreadable image once, however often epochs ask for it', async () => {
    const broken = join(dir, 'broken.jpg');
    writeFileSync(broken, 'not an image');
    const withBad = [...samples.slice(0, 3), { path: broken, label: 0, origin: broken }];
    const loader = new BatchLoader(options({ samples: withBad, sampler: 'shuffle', batchSize: 2, onBadImage: 'skip' }));
    for (let i = 0; i < 8; i++) await loader.next().then((b) => b && (b.images.dispose(), b.labels.dispose()));
    expect(loader.skippedImages).toEqual([broken]);
  });

  it('stops, instead of asking for batches forever, when no image of an epoch can be read', async () => {
    const none = [0, 1, 2].map((i) => ({ path: join(dir, `missing-${i}.jpg`), label: i, origin: `list:${i}` }));
    const loader = new BatchLoader(options({ samples: none, batchSize: 2, onBadImage: 'skip', dropLast: false }));
    let error: Error | null = null;
    for (let i = 0; i < 10 && !error; i++) await loader.next().catch((e: Error) => (error = e));
    expect(error).toBeInstanceOf(DataError);
    expect(error!.message).toMatch(/^no image of an epoch could be read \(3 unreadable, data\.on_bad_image: skip\), e\.g\. .*missing-.*; nothing to train on$/);
  });

  it('stops once more than data.max_skip_fraction of the samples proved unreadable', async () => {
    const many = [...samples.slice(0, 6), ...[0, 1, 2].map((i) => ({ path: join(dir, `gone-${i}.jpg`), label: 0, origin: `list:${i}` }))];
    const loader = new BatchLoader(options({ samples: many, sampler: 'sequential', batchSize: 9, onBadImage: 'skip', maxSkipFraction: 0.25 }));
    await expect(loader.nextHost()).rejects.toThrow(/3 of 9 images \(33\.3%\) are unreadable, more than data\.max_skip_fraction 0\.25 allows/);
    const tolerant = new BatchLoader(options({ samples: many, sampler: 'sequential', batchSize: 9, onBadImage: 'skip', maxSkipFraction: 0.5 }));
    expect((await tolerant.nextHost())!.size).toBe(6);
  });
});

afterAll(async () => {
  await inProcess.close();
});

describe('decoded-image cache', () => {
  it('gives the same batches with and without it, in-process and across workers', async () => {
    const pool = new PreparePool(2);
    const plain = new BatchLoader(options());
    const cached = new BatchLoader(options({ cacheBytes: 1 << 20 }));
    const workers = new BatchLoader(options({ cacheBytes: 1 << 20, pool }));
    // Two epochs: the second is served from the caches.
    for (let i = 0; i < 6; i++) {
      const a = (await plain.nextHost())!;
      expect((await cached.nextHost())!.images).toEqual(a.images);
      expect((await workers.nextHost())!.images).toEqual(a.images);
    }
    await pool.close();
  });
});
