// The synthetic face dataset: RAF-DB layout and proportions, byte-for-byte determinism, safe
// rewrites (refuse, reuse, --force, redo an interrupted run), images that decode, and
// expressions that are really in the pixels. Small datasets (120 images of 48 px) keep it fast.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.ts';
import {
  IMAGE_DIR,
  LABEL_FILE,
  MANIFEST_FILE,
  RAFDB_TEST_COUNTS,
  RAFDB_TRAIN_COUNTS,
  renderFace,
  synthCounts,
  synthesizeDataset,
} from '../../src/data/synth.ts';
import { sampleFace, type FaceSpec } from '../../src/data/synth/face.ts';
import { identitySpread } from '../../src/data/synth/identity.ts';
import { Rng } from '../../src/random.ts';
import { snapshot } from '../helpers/files.ts';
import { labelLines } from '../helpers/rafdb.ts';

const SURPRISE = 0;
const FEAR = 1;
const HAPPINESS = 3;
const SADNESS = 4;
const NEUTRAL = 6;
const SIZE = 120;
const PX = 48;

let root: string;
const dir = (name: string) => join(root, name);
const small = (out: string, seed: number, extra: { size?: number; force?: boolean } = {}) =>
  synthesizeDataset({ out, seed, size: SIZE, imageSize: PX, ...extra });

function imagePath(out: string, name: string): string {
  return join(out, IMAGE_DIR, name.replace(/\.jpg$/, '_aligned.jpg'));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mek-synth-'));
  await Promise.all([small(dir('a'), 1), small(dir('b'), 1), small(dir('c'), 2)]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('synthCounts', () => {
  it('reproduces RAF-DB exactly at RAF-DB size', () => {
    const total = [...RAFDB_TRAIN_COUNTS, ...RAFDB_TEST_COUNTS].reduce((a, b) => a + b, 0);
    expect(synthCounts(total)).toEqual({ train: RAFDB_TRAIN_COUNTS, test: RAFDB_TEST_COUNTS });
  });

  it.each([100, SIZE, 333, 1400])('keeps RAF-DB proportions and every class in both splits (size %i)', (size) => {
    const { train, test } = synthCounts(size);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(train) + sum(test)).toBe(size);
    expect(sum(test)).toBe(Math.round(size * 0.2));
    for (const [counts, raf, min] of [[train, RAFDB_TRAIN_COUNTS, 3], [test, RAFDB_TEST_COUNTS, 2]] as const) {
      const rafTotal = sum([...raf]);
      const ideal = raf.map((r) => (sum(counts) * r) / rafTotal);
      // Lifting rare classes to the floor takes that many images from the others.
      const lifted = sum(ideal.map((x) => Math.max(0, min - x)));
      counts.forEach((n, k) => {
        expect(n).toBeGreaterThanOrEqual(min);
        expect(Math.abs(n - ideal[k]!)).toBeLessThanOrEqual(1 + lifted);
      });
      expect(Math.max(...counts)).toBe(counts[HAPPINESS]);
      expect(counts.filter((n) => n === counts[HAPPINESS])).toHaveLength(1);
      expect(Math.min(...counts)).toBe(counts[FEAR]);
    }
  });
});

describe('synthesizeDataset', () => {
  it('writes RAF-DB layout: label lines and aligned images that agree', async () => {
    const out = dir('a');
    const lines = labelLines(out);
    expect(lines).toHaveLength(SIZE);
    const { train, test } = synthCounts(SIZE);
    const nTrain = train.reduce((a, b) => a + b, 0);
    lines.forEach(({ name, label }, i) => {
      const expected = i < nTrain ? `train_${String(i + 1).padStart(5, '0')}.jpg` : `test_${String(i - nTrain + 1).padStart(4, '0')}.jpg`;
      expect(name).toBe(expected);
      expect(Number.isInteger(label) && label >= 1 && label <= 7).toBe(true);
    });
    const perClass = (split: string) =>
      Array.from({ length: 7 }, (_, k) => lines.filter((l) => l.name.startsWith(split) && l.label === k + 1).length);
    expect(perClass('train_')).toEqual(train);
    expect(perClass('test_')).toEqual(test);
    const images = readdirSync(join(out, IMAGE_DIR)).sort();
    expect(images).toEqual(lines.map((l) => l.name.replace('.jpg', '_aligned.jpg')).sort());
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST_FILE), 'utf8'));
    expect(manifest).toMatchObject({ seed: 1, size: SIZE, imageSize: PX, train, test, complete: true });
  });

  it('writes JPEGs that decode to the requested size', async () => {
    const out = dir('a');
    for (const { name } of labelLines(out)) {
      const meta = await sharp(imagePath(out, name)).metadata();
      expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['jpeg', PX, PX, 3]);
    }
  });

  it('is deterministic: the same seed gives the same bytes, another seed other images', () => {
    const a = snapshot(dir('a'));
    const b = snapshot(dir('b'));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [path, bytes] of a) expect(bytes.equals(b.get(path)!), path).toBe(true);

    const c = snapshot(dir('c'));
    expect(c.get(LABEL_FILE)!.equals(a.get(LABEL_FILE)!)).toBe(false);
    const images = [...a.keys()].filter((p) => p.endsWith('.jpg'));
    const same = images.filter((p) => c.get(p)?.equals(a.get(p)!)).length;
    expect(same).toBe(0);
  });

  it('reuses a complete dataset with the same seed and size without touching it', async () => {
    const out = dir('a');
    const before = statSync(join(out, LABEL_FILE)).mtimeMs;
    const result = await small(out, 1);
    expect(result).toEqual({ ...synthCounts(SIZE), created: false });
    expect(statSync(join(out, LABEL_FILE)).mtimeMs).toBe(before);
  });

  it('refuses to overwrite a different dataset or foreign files without force', async () => {
    await expect(small(dir('a'), 2)).rejects.toThrow(UsageError);
    await expect(small(dir('a'), 2)).rejects.toThrow(/--force/);
    await expect(small(dir('a'), 1, { size: 100 })).rejects.toThrow(/different synthetic dataset/);

    const foreign = dir('foreign');
    await mkdir(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    await expect(small(foreign, 1)).rejects.toThrow(/not a synthetic dataset/);
    await expect(small(join(foreign, 'notes.txt'), 1)).rejects.toThrow(/not a folder/);
    expect(readdirSync(foreign)).toEqual(['notes.txt']);
  });

  it('replaces a different dataset with --force, leaving no stale images', async () => {
    const out = dir('forced');
    await small(out, 1);
    const result = await small(out, 2, { size: 100, force: true });
    expect(result.created).toBe(true);
    const lines = labelLines(out);
    expect(lines).toHaveLength(100);
    expect(readdirSync(join(out, IMAGE_DIR)).sort()).toEqual(lines.map((l) => l.name.replace('.jpg', '_aligned.jpg')).sort());
    const fresh = dir('fresh');
    await small(fresh, 2, { size: 100 });
    const [x, y] = [snapshot(out), snapshot(fresh)];
    for (const [path, bytes] of y) expect(bytes.equals(x.get(path)!), path).toBe(true);
  });

  it('redoes an interrupted run of the same dataset without --force', async () => {
    const out = dir('a-copy');
    await small(out, 1);
    const manifest = join(out, MANIFEST_FILE);
    writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), complete: false }));
    const lost = imagePath(out, 'test_0001.jpg');
    await rm(lost);
    expect((await small(out, 1)).created).toBe(true);
    expect(readFileSync(lost).equals(readFileSync(imagePath(dir('a'), 'test_0001.jpg')))).toBe(true);
    expect(JSON.parse(readFileSync(manifest, 'utf8')).complete).toBe(true);
  });

  it('rejects sizes and seeds it cannot honour', async () => {
    await expect(synthesizeDataset({ out: dir('bad'), size: 50 })).rejects.toThrow(UsageError);
    await expect(synthesizeDataset({ out: dir('bad'), seed: -1, size: SIZE })).rejects.toThrow(/seed/);
    await expect(synthesizeDataset({ out: dir('bad'), imageSize: 2.5, size: SIZE })).rejects.toThrow(/image size/);
    expect(existsSync(dir('bad'))).toBe(false);
  });
});

describe('expressions are in the pixels', () => {
  type Region = readonly [number, number, number, number]; // rows, cols as fractions
  const MOUTH: Region = [0.6, 0.9, 0.25, 0.75];
  const EYES: Region = [0.25, 0.5, 0.15, 0.85];

  async function gray(spec: FaceSpec): Promise<Uint8Array> {
    return new Uint8Array(await sharp(await renderFace(spec, PX)).greyscale().raw().toBuffer());
  }

  function distance(a: Uint8Array, b: Uint8Array, [r0, r1, c0, c1]: Region): number {
    let s = 0;
    for (let r = Math.floor(r0 * PX); r < r1 * PX; r++) {
      for (let c = Math.floor(c0 * PX); c < c1 * PX; c++) s += (a[r * PX + c]! - b[r * PX + c]!) ** 2;
    }
    return Math.sqrt(s);
  }

  /**
   * Mean distance between faces of classes `a` and `b` over the mean distance between two faces
   * of the same class, per region. Each comparison keeps one scene (person, pose, background,
   * noise; no occluder) and swaps only the expression, so what differs is the expression; the
   * classes differ in a region when the ratio is clearly above 1 (an energy-distance check).
   */
  async function separation(a: number, b: number, scenes: number, seed: number): Promise<number[]> {
    const rng = new Rng(seed);
    const regions = [MOUTH, EYES];
    const between = regions.map(() => 0);
    const within = regions.map(() => 0);
    for (let i = 0; i < scenes; i++) {
      const scene = { ...sampleFace(rng, a), occlusions: [] };
      const expressions = [scene, sampleFace(rng, a), sampleFace(rng, b), sampleFace(rng, b)].map((s) => s.expression);
      const [a1, a2, b1, b2] = await Promise.all(expressions.map((expression) => gray({ ...scene, expression })));
      regions.forEach((region, r) => {
        between[r]! += distance(a1!, b1!, region) + distance(a2!, b2!, region);
        within[r]! += distance(a1!, a2!, region) + distance(b1!, b2!, region);
      });
    }
    return between.map((x, r) => x / within[r]!);
  }

  it('happiness and sadness differ, and mostly in the mouth', async () => {
    const [mouth, eyes] = await separation(HAPPINESS, SADNESS, 24, 11);
    expect(mouth).toBeGreaterThan(1.25);
    expect(mouth).toBeGreaterThan(eyes! + 0.15);
  });

  it('surprise differs from neutral in the eyes and brows as well as the mouth', async () => {
    const [mouth, eyes] = await separation(SURPRISE, NEUTRAL, 24, 12);
    expect(mouth).toBeGreaterThan(1.25);
    expect(eyes).toBeGreaterThan(1.25);
  });
});

describe('difficulty', () => {
  it('1 is the default set; lower values calm the nuisances and strengthen expressions', () => {
    const full = sampleFace(new Rng(9), HAPPINESS);
    expect(sampleFace(new Rng(9), HAPPINESS, 1)).toEqual(full);
    const easy = sampleFace(new Rng(9), HAPPINESS, 0.2);
    expect(Math.abs(easy.pose.angle)).toBeLessThanOrEqual(Math.abs(full.pose.angle));
    expect(easy.background.shapes.length).toBeLessThanOrEqual(full.background.shapes.length);
    // Over many faces: fewer weak and blended expressions, fewer occlusions.
    const stats = (d: number) => {
      const rng = new Rng(4);
      let weak = 0;
      let blended = 0;
      let occluded = 0;
      for (let i = 0; i < 400; i++) {
        const f = sampleFace(rng, i % 7, d);
        if (f.intensity < 0.4) weak++;
        if (f.blend) blended++;
        if (f.occlusions.length > 0) occluded++;
      }
      return { weak, blended, occluded };
    };
    const [hard, soft] = [stats(1), stats(0.2)];
    expect(soft.weak).toBeLessThan(hard.weak / 2);
    expect(soft.blended).toBeLessThan(hard.blended / 2);
    expect(soft.occluded).toBeLessThan(hard.occluded / 2);
  });

  it('below 1 frames the face tightly and draws people who look more alike', () => {
    expect(identitySpread(1)).toBe(1);
    expect(identitySpread(0.1)).toBeLessThan(0.5);
    // The same draws at both difficulties: the easy face is larger and sits higher (brows to
    // mouth centred), and over many faces the face widths spread less.
    const full = sampleFace(new Rng(11), HAPPINESS, 1);
    const easy = sampleFace(new Rng(11), HAPPINESS, 0.1);
    expect(easy.pose.scale).toBeGreaterThan(full.pose.scale * 1.5);
    expect(easy.pose.dy).toBeLessThan(0);
    const spread = (d: number) => {
      const rng = new Rng(5);
      const widths = Array.from({ length: 300 }, (_, i) => sampleFace(rng, i % 7, d).identity.faceW);
      const mean = widths.reduce((a, b) => a + b, 0) / widths.length;
      return Math.sqrt(widths.reduce((a, w) => a + (w - mean) ** 2, 0) / widths.length);
    };
    expect(spread(0.1)).toBeLessThan(spread(1) * 0.5);
  });

  it('is recorded in synth.json and out of range is a usage error', async () => {
    const out = dir('easy');
    await synthesizeDataset({ out, seed: 1, size: SIZE, imageSize: PX, difficulty: 0.5 });
    expect(JSON.parse(readFileSync(join(out, 'synth.json'), 'utf8')).difficulty).toBe(0.5);
    await expect(synthesizeDataset({ out: dir('bad'), seed: 1, size: SIZE, imageSize: PX, difficulty: 0 })).rejects.toThrow(UsageError);
  });
});
