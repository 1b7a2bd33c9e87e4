import { describe, expect, it } from 'vitest';
import type { AugmentConfig } from '../../../src/config/schema.ts';
import { normalize } from '../../../src/data/augment/normalize.ts';
import { evalTransform, trainTransform } from '../../../src/data/augment/transform.ts';
import { Rng } from '../../../src/random.ts';
import { textured } from '../../helpers/images.ts';

const SIZE = 112;

/** The release's augmentation settings. */
const RELEASE_AUGMENT: AugmentConfig = {
  interpolation: 'bicubic',
  hflip: 0.5,
  randaugment: 'rand-m9-mstd0.5-inc1',
  erasing: 0.25,
  erasing_mode: 'pixel',
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
};

describe('normalize', () => {
  it('computes (x / 255 - mean) / std in float32, HWC', () => {
    const img = textured(3, 2);
    const out = normalize(img, [0.5, 0.4, 0.3], [0.5, 0.2, 0.1]);
    expect(out.length).toBe(18);
    for (let i = 0; i < 18; i++) {
      const c = i % 3;
      const expected = (img.data[i]! / 255 - [0.5, 0.4, 0.3][c]!) / [0.5, 0.2, 0.1][c]!;
      expect(out[i]).toBeCloseTo(expected, 5);
    }
    const ends = normalize({ width: 1, height: 2, data: Uint8Array.from([0, 0, 0, 255, 255, 255]) }, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
    expect(Array.from(ends)).toEqual([-1, -1, -1, 1, 1, 1]);
  });
});

describe('eval transform', () => {
  it('normalises any size, ignores the generator and can write into a buffer', () => {
    const img = textured(20, 10);
    const t = evalTransform(RELEASE_AUGMENT);
    const expected = normalize(img, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
    expect(Array.from(t(img))).toEqual(Array.from(expected));
    const rng = new Rng(1);
    const state = rng.state();
    const buf = new Float32Array(20 * 10 * 3);
    expect(t(img, rng, buf)).toBe(buf);
    expect(Array.from(buf)).toEqual(Array.from(expected));
    expect(rng.state()).toEqual(state);
  });
});

describe('train transform', () => {
  const img = textured(SIZE, SIZE, 3);

  it('returns size*size*3 finite values; without erasing they lie in [-1, 1]', () => {
    const t = trainTransform({ ...RELEASE_AUGMENT, erasing: 0 }, SIZE);
    const rng = new Rng(1);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 20; i++) {
      const out = t(img, rng);
      expect(out.length).toBe(SIZE * SIZE * 3);
      for (const v of out) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    expect(lo).toBeGreaterThanOrEqual(-1);
    expect(hi).toBeLessThanOrEqual(1);
    const te = trainTransform(RELEASE_AUGMENT, SIZE);
    for (let i = 0; i < 20; i++) expect(te(img, rng).every((v) => Number.isFinite(v))).toBe(true);
  });

  it('same seed -> identical output; different seed -> different', () => {
    const t = trainTransform(RELEASE_AUGMENT, SIZE);
    const run = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 8 }, () => Array.from(t(img, rng)));
    };
    expect(run(2048)).toEqual(run(2048));
    expect(run(2048)).not.toEqual(run(2049));
  });

  it('with every step off it equals the eval transform and draws nothing', () => {
    const off: AugmentConfig = { ...RELEASE_AUGMENT, hflip: 0, randaugment: '', erasing: 0 };
    const rng = new Rng(3);
    const state = rng.state();
    expect(Array.from(trainTransform(off, SIZE)(img, rng))).toEqual(Array.from(evalTransform(off)(img)));
    expect(rng.state()).toEqual(state);
  });

  it('hflip 1 alone gives the mirrored normalised image', () => {
    const t = trainTransform({ ...RELEASE_AUGMENT, hflip: 1, randaugment: '', erasing: 0 }, SIZE);
    const plain = evalTransform(RELEASE_AUGMENT)(img);
    const out = t(img, new Rng(1));
    const row = SIZE * 3;
    for (const [x, y] of [[0, 0], [5, 17], [111, 60]] as const) {
      for (let c = 0; c < 3; c++) expect(out[y * row + (SIZE - 1 - x) * 3 + c]).toBe(plain[y * row + x * 3 + c]);
    }
  });

  it('writes into a given output buffer, and leaves the input image alone', () => {
    const t = trainTransform(RELEASE_AUGMENT, SIZE);
    const batch = new Float32Array(2 * SIZE * SIZE * 3);
    const before = img.data.slice();
    const view = batch.subarray(SIZE * SIZE * 3);
    expect(t(img, new Rng(4), view)).toBe(view);
    expect(batch.subarray(0, SIZE * SIZE * 3).every((v) => v === 0)).toBe(true);
    expect(Array.from(img.data)).toEqual(Array.from(before));
  });

  it('rejects a wrongly sized image and bad settings', () => {
    const t = trainTransform(RELEASE_AUGMENT, SIZE);
    expect(() => t(textured(100, 100), new Rng(1))).toThrow('112x112');
    expect(() => trainTransform({ ...RELEASE_AUGMENT, randaugment: 'rand-q1' }, SIZE)).toThrow("'q1'");
    expect(() => trainTransform({ ...RELEASE_AUGMENT, std: [0.5, 0, 0.5] }, SIZE)).toThrow('std');
  });

  it('throughput at 112x112 (printed, not asserted)', () => {
    const t = trainTransform(RELEASE_AUGMENT, SIZE);
    const rng = new Rng(2048);
    const out = new Float32Array(SIZE * SIZE * 3);
    const imgs = Array.from({ length: 8 }, (_, i) => textured(SIZE, SIZE, i + 1));
    for (let i = 0; i < 50; i++) t(imgs[i % 8]!, rng, out); // warm-up
    const n = 600;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) t(imgs[i % 8]!, rng, out);
    const s = (performance.now() - t0) / 1000;
    console.log(`[augment] train transform 112x112: ${(n / s).toFixed(0)} images/s (${((s / n) * 1000).toFixed(3)} ms/image, one core)`);
  });
});
