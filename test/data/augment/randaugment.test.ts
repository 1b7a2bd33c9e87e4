// RandAugment: spec parsing, timm's op set and level mappings, and the sampling behaviour.
import { describe, expect, it } from 'vitest';
import {
  applyOp,
  levelToArg,
  parseRandAugmentSpec,
  RAND_INCREASING_OPS,
  RAND_OPS,
  RandAugment,
  sampleMagnitude,
  type RandOpRecord,
} from '../../../src/data/augment/randaugment.ts';
import { Rng } from '../../../src/random.ts';
import { textured } from '../../helpers/images.ts';

describe('op sets', () => {
  it('the increasing set has exactly the 15 timm ops', () => {
    expect([...RAND_INCREASING_OPS]).toEqual([
      'AutoContrast',
      'Equalize',
      'Invert',
      'Rotate',
      'PosterizeIncreasing',
      'SolarizeIncreasing',
      'SolarizeAdd',
      'ColorIncreasing',
      'ContrastIncreasing',
      'BrightnessIncreasing',
      'SharpnessIncreasing',
      'ShearX',
      'ShearY',
      'TranslateXRel',
      'TranslateYRel',
    ]);
    expect(new Set(RAND_INCREASING_OPS).size).toBe(15);
    expect(RAND_OPS.length).toBe(15);
  });
});

describe('spec parsing', () => {
  it('parses the release spec', () => {
    expect(parseRandAugmentSpec('rand-m9-mstd0.5-inc1')).toEqual({
      magnitude: 9,
      numOps: 2,
      magnitudeStd: 0.5,
      magnitudeMax: null,
      increasing: true,
      prob: 0.5,
    });
  });

  it('parses the other keys, in any order', () => {
    const s = parseRandAugmentSpec('rand-n3-mmax20-p0.7-m12-inc0');
    expect(s).toMatchObject({ numOps: 3, magnitudeMax: 20, prob: 0.7, magnitude: 12, increasing: false, magnitudeStd: 0 });
    expect(parseRandAugmentSpec('rand').magnitude).toBe(10);
    expect(parseRandAugmentSpec('rand-mstd101').magnitudeStd).toBe(Infinity);
  });

  it.each([
    ['', "must start with 'rand'"],
    ['rnd-m9', "must start with 'rand'"],
    ['augmix-m9', "must start with 'rand'"],
    ['rand-x9', "'x9'"],
    ['rand-m', "'m'"],
    ['rand-mfoo', "'mfoo'"],
    ['rand-m9.5', "'m9.5'"],
    ['rand-m9-m8', "'m8'"],
    ['rand-inc2', "'inc2'"],
    ['rand-p1.5', "'p1.5'"],
    ['rand-w0', "'w0'"],
    ['rand--m9', "''"],
    ['rand-9', "'9'"],
    ['rand-m9-mstd0.5x', "'mstd0.5x'"],
  ])('rejects %j naming the bad part', (spec, part) => {
    expect(() => parseRandAugmentSpec(spec)).toThrow(part);
  });
});

describe('level to argument (timm, level / 10)', () => {
  const rng = new Rng(1);
  it('unsigned ops at m = 9 and m = 10', () => {
    expect(levelToArg('PosterizeIncreasing', 9, rng)).toBe(1); // 4 - int(3.6)
    expect(levelToArg('PosterizeIncreasing', 10, rng)).toBe(0);
    expect(levelToArg('PosterizeIncreasing', 0, rng)).toBe(4);
    expect(levelToArg('SolarizeIncreasing', 9, rng)).toBe(26); // 256 - int(230.4)
    expect(levelToArg('SolarizeIncreasing', 0, rng)).toBe(256);
    expect(levelToArg('SolarizeAdd', 9, rng)).toBe(99);
    expect(levelToArg('Posterize', 9, rng)).toBe(3);
    expect(levelToArg('Solarize', 9, rng)).toBe(230);
    expect(levelToArg('Color', 9, rng)).toBeCloseTo(1.72, 12);
    expect(levelToArg('AutoContrast', 9, rng)).toBeNull();
  });

  it('signed ops draw both signs with the right size', () => {
    const seen = (name: Parameters<typeof levelToArg>[0], m: number) => {
      const out = new Set<number>();
      for (let i = 0; i < 200; i++) out.add(Number(levelToArg(name, m, rng)!.toFixed(10)));
      return [...out].sort((a, b) => a - b);
    };
    expect(seen('Rotate', 9)).toEqual([-27, 27]);
    expect(seen('ShearX', 9)).toEqual([-0.27, 0.27]);
    expect(seen('TranslateYRel', 9)).toEqual([-0.405, 0.405]);
    expect(seen('ContrastIncreasing', 9)).toEqual([0.19, 1.81]);
    expect(seen('SharpnessIncreasing', 10)).toEqual([0.1, 1.9]); // max(0.1, ...)
  });
});

describe('magnitude sampling', () => {
  it('m + N(0, mstd), clipped to [0, 10]', () => {
    const rng = new Rng(7);
    const spec = parseRandAugmentSpec('rand-m9-mstd0.5-inc1');
    const xs = Array.from({ length: 4000 }, () => sampleMagnitude(spec, rng));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThanOrEqual(10);
    expect(xs.some((x) => x === 10)).toBe(true); // clipped draws
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean).toBeGreaterThan(8.9);
    expect(mean).toBeLessThan(9.05);
    expect(sampleMagnitude(parseRandAugmentSpec('rand-m9'), rng)).toBe(9);
    expect(sampleMagnitude(parseRandAugmentSpec('rand-m30-mmax20'), rng)).toBe(20);
    const u = Array.from({ length: 500 }, () => sampleMagnitude(parseRandAugmentSpec('rand-m6-mstd200'), rng));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(6);
    expect(Math.max(...u)).toBeGreaterThan(5.5);
  });
});

describe('RandAugment', () => {
  const img = textured(24, 24);

  it('chooses ops uniformly with replacement and applies each with probability 0.5', () => {
    const ra = new RandAugment('rand-m9-mstd0.5-inc1', { fill: [128, 128, 128], resample: 'bicubic' });
    const rng = new Rng(3);
    const counts = new Map<string, number>();
    let applied = 0;
    let total = 0;
    let repeats = 0;
    for (let i = 0; i < 1500; i++) {
      const trace: RandOpRecord[] = [];
      ra.apply(img, rng, trace);
      expect(trace.length).toBe(2);
      if (trace[0]!.name === trace[1]!.name) repeats++;
      for (const t of trace) {
        counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
        total++;
        if (t.applied) applied++;
      }
    }
    expect(counts.size).toBe(15);
    for (const c of counts.values()) expect(Math.abs(c / total - 1 / 15)).toBeLessThan(0.025);
    expect(Math.abs(applied / total - 0.5)).toBeLessThan(0.03);
    expect(repeats).toBeGreaterThan(50); // with replacement: ~1500/15 = 100 expected
  });

  it('is deterministic under a seed and leaves its input alone', () => {
    const ra = new RandAugment('rand-m9-mstd0.5-inc1');
    const before = img.data.slice();
    const run = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 20 }, () => Array.from(ra.apply(img, rng).data));
    };
    expect(run(11)).toEqual(run(11));
    expect(run(11)).not.toEqual(run(12));
    expect(Array.from(img.data)).toEqual(Array.from(before));
  });

  it("resample 'random' picks both filters; a fixed one never draws for it", () => {
    const a = applyOp('Rotate', img, 9, new Rng(5), { resample: 'random' });
    expect(a.data.length).toBe(img.data.length);
    const seenBilinear = new Set<string>();
    for (let s = 0; s < 40; s++) {
      const out = applyOp('ShearX', img, 9, new Rng(s), { resample: 'random' });
      const bil = applyOp('ShearX', img, 9, new Rng(s), { resample: 'bilinear' });
      seenBilinear.add(Array.from(out.data).join() === Array.from(bil.data).join() ? 'bilinear' : 'other');
    }
    expect([...seenBilinear].sort()).toEqual(['bilinear', 'other']);
  });

  it('every op runs on a 1x1 and a 112x112 image', () => {
    const tiny = textured(1, 1);
    const big = textured(112, 112);
    const rng = new Rng(9);
    for (const name of [...RAND_INCREASING_OPS, ...RAND_OPS]) {
      expect(applyOp(name, tiny, 9, rng).data.length).toBe(3);
      expect(applyOp(name, big, 9, rng).data.length).toBe(112 * 112 * 3);
    }
  });

  it('rejects a bad fill', () => {
    expect(() => new RandAugment('rand-m9', { fill: [300, 0, 0] })).toThrow('fill');
  });
});
