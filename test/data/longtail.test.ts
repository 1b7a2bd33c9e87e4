// The long-tailed benchmark writer: the exponential profile's exact counts, IDX reading (plain
// and gzipped, and every way a file can be wrong), deterministic selection, both test modes,
// the RAF-DB layout the rafdb reader takes unchanged, and one-line errors with exit 2. Every
// dataset here is a tiny IDX set written by the test: CI has no Fashion-MNIST.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError, UsageError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import { variantFromConfig } from '../../src/config/variant.ts';
import { encodeIdx, parseIdx, readIdx } from '../../src/data/idx.ts';
import { loadSplit } from '../../src/data/labels.ts';
import {
  CLASSES_FILE,
  FASHION_MNIST_CLASSES,
  LONGTAIL_IMAGE_DIR,
  LONGTAIL_MANIFEST,
  SOURCE_INDEX_FILE,
  longTailCounts,
  writeLongTail,
} from '../../src/data/longtail.ts';
import { LABEL_FILE } from '../../src/data/synth.ts';
import { camGridSize } from '../../src/model/variants.ts';
import { snapshot } from '../helpers/files.ts';
import { writeFakeIdx } from '../helpers/idx.ts';
import { labelLines } from '../helpers/rafdb.ts';

let root: string;
let src: string;
const dir = (name: string) => join(root, name);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mek-longtail-'));
  src = dir('src');
  writeFakeIdx(src, { trainPerClass: 40, testPerClass: 10, size: 6 });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('the exponential profile', () => {
  it('R = 50 over 10 classes from 6000 (train) and 1000 (test): exact integers', () => {
    expect(longTailCounts(6000, 50, 10)).toEqual([6000, 3884, 2515, 1628, 1054, 682, 442, 286, 185, 120]);
    expect(longTailCounts(1000, 50, 10)).toEqual([1000, 647, 419, 271, 175, 113, 73, 47, 30, 20]);
  });

  it('R = 100 and R = 10 end exactly at n_max / R; R = 1 is balanced', () => {
    expect(longTailCounts(6000, 100, 10)).toEqual([6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60]);
    expect(longTailCounts(6000, 10, 10).at(-1)).toBe(600);
    expect(longTailCounts(6000, 1, 10)).toEqual(Array(10).fill(6000));
  });
});

describe('IDX files', () => {
  it('parses header and data; reads plain and gzipped files alike', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const bytes = encodeIdx([2, 3, 4], data);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 2]);
    const parsed = parseIdx(bytes, 'x', 3);
    expect(parsed.dims).toEqual([2, 3, 4]);
    expect(Array.from(parsed.data)).toEqual(Array.from(data));
    writeFileSync(dir('plain-idx3-ubyte'), bytes);
    writeFileSync(dir('zipped-idx3-ubyte.gz'), gzipSync(bytes));
    for (const file of ['plain-idx3-ubyte', 'zipped-idx3-ubyte.gz']) {
      const read = readIdx(dir(file), 3);
      expect(read.dims, file).toEqual([2, 3, 4]);
      expect(Array.from(read.data), file).toEqual(Array.from(data));
    }
  });

  it('wrong magic, truncated, trailing bytes, damaged gzip, missing file: a DataError naming the file', () => {
    const good = encodeIdx([3], Uint8Array.of(1, 2, 3));
    const bad = (bytes: Uint8Array, rank = 1) => () => parseIdx(bytes, 'labels.idx', rank);
    expect(bad(good, 3)).toThrow(/^labels\.idx: not an IDX file of unsigned bytes with 3 dimensions \(magic 0x00000801; expected 0x00000803, images\)$/);
    expect(bad(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0))).toThrow(/magic 0x89504e47; expected 0x00000801, labels/);
    expect(bad(good.subarray(0, 7))).toThrow(/^labels\.idx: truncated: 7 bytes, shorter than the 8-byte header$/);
    expect(bad(good.subarray(0, 10))).toThrow(/^labels\.idx: truncated: the header declares 3 = 3 bytes of data, the file holds 2$/);
    expect(bad(Uint8Array.of(...good, 9))).toThrow(/1 bytes after the 3 values/);
    expect(bad(good.subarray(0, 2))).toThrow(DataError);
    const gz = gzipSync(encodeIdx([100], new Uint8Array(100)));
    writeFileSync(dir('cut.gz'), gz.subarray(0, gz.length - 12));
    expect(() => readIdx(dir('cut.gz'), 1)).toThrow(/cut\.gz: cannot gunzip \(.*\); the file is damaged or truncated/);
    expect(() => readIdx(dir('absent'), 1)).toThrow(/absent: cannot read \(no such file\)/);
  });
});

describe('writeLongTail', () => {
  const K = 10;
  const trainProfile = longTailCounts(40, 4, K);
  const testProfile = longTailCounts(10, 4, K);

  it('writes the profile in RAF-DB layout that the rafdb reader takes unchanged', async () => {
    const out = dir('lt');
    const r = await writeLongTail({ from: src, out, ratio: 4, seed: 1 });
    expect(r.created).toBe(true);
    expect(trainProfile).toEqual([40, 34, 29, 25, 21, 18, 15, 13, 11, 10]);
    expect(r.trainCounts).toEqual(trainProfile);
    expect(r.testCounts).toEqual(testProfile);
    expect(readFileSync(join(out, CLASSES_FILE), 'utf8')).toBe(FASHION_MNIST_CLASSES.join('\n') + '\n');
    const manifest = JSON.parse(readFileSync(join(out, LONGTAIL_MANIFEST), 'utf8'));
    expect(manifest).toMatchObject({ ratio: 4, seed: 1, test: 'same', classes: FASHION_MNIST_CLASSES, complete: true, n_max: { train: 40, test: 10 } });
    expect(manifest.counts).toEqual({ train: trainProfile, test: testProfile });

    const lines = labelLines(out);
    const train = lines.filter((l) => l.name.startsWith('train_'));
    expect(train[0]!.name).toBe('train_00001.png');
    expect(lines.find((l) => l.name.startsWith('test_'))!.name).toBe('test_0001.png');
    expect(Math.min(...lines.map((l) => l.label))).toBe(1); // 1-based

    const config = loadConfig(undefined, [
      'data.format=rafdb', `data.root=${join(out, LONGTAIL_IMAGE_DIR)}`, `data.label_file=${join(out, LABEL_FILE)}`,
      `data.classes=${JSON.stringify(FASHION_MNIST_CLASSES)}`,
    ]);
    expect(loadSplit(config.data, 'train').counts).toEqual(trainProfile);
    expect(loadSplit(config.data, 'test').counts).toEqual(testProfile);

    // Every PNG is the source image its line names: the label and index are in its pixels.
    const sources = new Map(readFileSync(join(out, SOURCE_INDEX_FILE), 'utf8').trimEnd().split('\n').map((l) => l.split(' ') as [string, string]));
    for (const { name, label } of lines.filter((_, i) => i % 7 === 0)) {
      const path = join(out, LONGTAIL_IMAGE_DIR, name);
      const meta = await sharp(path).metadata();
      expect([meta.format, meta.channels, meta.width, meta.height], name).toEqual(['png', 1, 6, 6]);
      const { data } = await sharp(path).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      expect(data[0], name).toBe((label - 1) * 20);
      expect(data[1]! + 256 * data[2]!, name).toBe(Number(sources.get(name)));
    }
  });

  it('is deterministic in the seed; another seed picks other images', async () => {
    await writeLongTail({ from: src, out: dir('s1'), ratio: 4, seed: 7 });
    await writeLongTail({ from: src, out: dir('s2'), ratio: 4, seed: 7 });
    await writeLongTail({ from: src, out: dir('s3'), ratio: 4, seed: 8 });
    const a = snapshot(dir('s1'));
    const b = snapshot(dir('s2'));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [path, bytes] of a) {
      if (path === LONGTAIL_MANIFEST) continue; // names the source folder, the same here anyway
      expect(b.get(path)!.equals(bytes), path).toBe(true);
    }
    expect(readFileSync(join(dir('s3'), SOURCE_INDEX_FILE), 'utf8')).not.toBe(readFileSync(join(dir('s1'), SOURCE_INDEX_FILE), 'utf8'));
  });

  it('--test balanced keeps the whole test set in source order', async () => {
    const out = dir('balanced');
    const r = await writeLongTail({ from: src, out, ratio: 4, seed: 1, test: 'balanced' });
    expect(r.trainCounts).toEqual(trainProfile);
    expect(r.testCounts).toEqual(Array(K).fill(10));
    const test = readFileSync(join(out, SOURCE_INDEX_FILE), 'utf8').trimEnd().split('\n').filter((l) => l.startsWith('test_'));
    expect(test).toHaveLength(100);
    expect(test.slice(0, 3)).toEqual(['test_0001.png 0', 'test_0002.png 1', 'test_0003.png 2']);
    // The training choice does not depend on the test mode.
    const trainOf = (o: string) => readFileSync(join(o, SOURCE_INDEX_FILE), 'utf8').split('\n').filter((l) => l.startsWith('train_'));
    expect(trainOf(out)).toEqual(trainOf(dir('lt')));
  });

  it('reuses a finished identical set, refuses a different one without force, replaces it with force', async () => {
    const out = dir('reuse');
    await writeLongTail({ from: src, out, ratio: 4, seed: 1 });
    const before = statSync(join(out, LABEL_FILE)).mtimeMs;
    expect((await writeLongTail({ from: src, out, ratio: 4, seed: 1 })).created).toBe(false);
    expect(statSync(join(out, LABEL_FILE)).mtimeMs).toBe(before);
    await expect(writeLongTail({ from: src, out, ratio: 2, seed: 1 })).rejects.toThrow(/already holds a different long-tailed set \(ratio 4, seed 1, test same\).*--force/);
    const r = await writeLongTail({ from: src, out, ratio: 2, seed: 1, force: true });
    expect(r.trainCounts.at(-1)).toBe(20);
    expect(readdirSync(join(out, LONGTAIL_IMAGE_DIR))).toHaveLength(r.trainCounts.reduce((a, b) => a + b) + r.testCounts.reduce((a, b) => a + b));
  });

  it('rejects a ratio below 1 or one that empties a class', async () => {
    await expect(writeLongTail({ from: src, out: dir('r'), ratio: 0.5 })).rejects.toThrow(UsageError);
    await expect(writeLongTail({ from: src, out: dir('r'), ratio: 0.5 })).rejects.toThrow(/--ratio must be a number >= 1/);
    await expect(writeLongTail({ from: src, out: dir('r'), ratio: 20 })).rejects.toThrow(
      /--ratio 20 leaves class 7 \('Sneaker'\) with no test images \(largest class 10; use --test balanced or a ratio <= 10\)/,
    );
  });
});

describe('configs/fmnist-lt.yaml', () => {
  it('reads what `mek data longtail --out dataset/fmnist-lt-r50` writes, with 7x7 attention maps at 28 px', () => {
    const c = loadConfig(new URL('../../configs/fmnist-lt.yaml', import.meta.url).pathname);
    expect(c.data.classes).toEqual(FASHION_MNIST_CLASSES);
    expect(c.data.format).toBe('rafdb');
    expect(c.data.root).toBe(join('dataset/fmnist-lt-r50', LONGTAIL_IMAGE_DIR));
    expect(c.data.label_file).toBe(join('dataset/fmnist-lt-r50', LABEL_FILE));
    const v = variantFromConfig(c);
    expect([v.imgSize, v.numClasses, camGridSize(v)]).toEqual([28, 10, 7]);
    expect([c.augment.randaugment, c.augment.erasing, c.augment.hflip]).toEqual(['', 0, 0.5]);
  });
});
