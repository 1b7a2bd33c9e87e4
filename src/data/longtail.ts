// A long-tailed benchmark on real images: Fashion-MNIST (or any MNIST-style IDX dataset) cut to
// the exponential profile of the long-tailed literature (Cao et al. 2019, CIFAR-LT), so MEK's
// claim, better rare-class accuracy at no cost to overall accuracy, can be checked on data whose
// labels are clean and whose classes are known to be learnable. Class i (index order) keeps
//   n_i = floor(n_max * R^(-i / (K - 1)))
// training images, drawn without replacement with the seeded Rng; or, with given counts (RAF-DB's,
// so that a proxy has RAF-DB's class count, imbalance and hence the release's balance weights),
// class i < K keeps counts[i] and the source's other classes are left out. The test split follows
// the same profile relative to its own class size (`same`, imbalanced like RAF-DB's test set) or
// is the whole balanced test set of those classes (`balanced`).
//
// Layout written under `out`, read unchanged by data.format rafdb (flat layout: data.root is
// <out>/images):
//   list_patition_label.txt   `train_00001.png 3` (1-based labels), train then test
//   images/<name>.png         the images, grayscale PNG at the source size (mek decodes to RGB)
//   classes.txt               the class names, one a line, in label order (label 1 first)
//   longtail.json             what was written: source, ratio, seed, test mode, counts
//   source_index.txt          `<name> <index>`: each image's 0-based index in its source IDX file
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { DataError, UsageError } from '../errors.ts';
import { Rng } from '../random.ts';
import { readIdxDataset, type IdxDataset, type IdxSplit } from './idx-dataset.ts';
import { LABEL_FILE } from './synth.ts';

/** Fashion-MNIST's classes in label order (Zalando's README). */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** RAF-DB's training images per class (Surprise, Fear, Disgust, Happiness, Sadness, Anger, Neutral). */
export const RAFDB_TRAIN_COUNTS: readonly number[] = [1290, 281, 717, 4772, 1982, 705, 2524];

export type TestMode = 'same' | 'balanced';
export const TEST_MODES: readonly TestMode[] = ['same', 'balanced'];

export const LONGTAIL_IMAGE_DIR = 'images';
export const LONGTAIL_MANIFEST = 'longtail.json';
export const CLASSES_FILE = 'classes.txt';
export const SOURCE_INDEX_FILE = 'source_index.txt';
/** Bumped whenever the selection or the files change, so an old set is not taken for a current one. */
const GENERATOR_VERSION = 1;
/** PNG encodes in flight; sharp runs each on its own thread pool. */
const WRITE_CONCURRENCY = 4;

/**
 * Images per class of the exponential profile: n_max * ratio^(-i / (K - 1)), floored. A value
 * within 1e-9 of an integer counts as that integer, so 6000 / 50 stays 120 whatever the
 * rounding of the power.
 */
export function longTailCounts(nMax: number, ratio: number, classes: number): number[] {
  return Array.from({ length: classes }, (_, i) => {
    const x = classes === 1 ? nMax : nMax * Math.pow(ratio, -i / (classes - 1));
    return Math.floor(x + 1e-9);
  });
}

/** Images per class below `classes`; labels from `classes` on (classes left out) are not counted. */
function classCounts(labels: Uint8Array, classes: number): number[] {
  const counts = Array<number>(classes).fill(0);
  for (const l of labels) if (l < classes) counts[l]! += 1;
  return counts;
}

/** Given counts scaled to a split whose classes hold `nMax` images where the training split's hold `nTrainMax`. */
function scaledCounts(counts: readonly number[], nMax: number, nTrainMax: number): number[] {
  return counts.map((c) => Math.floor((c * nMax) / nTrainMax + 1e-9));
}

export interface LongTailOptions {
  /** Largest over smallest class (the profile); with `counts`, that of the counts. */
  ratio: number;
  /** Training images per class, overriding the profile; null: the ratio's profile. */
  counts: readonly number[] | null;
  seed: number;
  test: TestMode;
  classes: readonly string[];
}

export interface LongTailPlan {
  /** Source indices of the chosen images, ascending (the source order). */
  train: number[];
  test: number[];
  trainCounts: number[];
  testCounts: number[];
  /** The class size the profile starts from in each split (the smallest class of the source). */
  nMax: { train: number; test: number };
}

/**
 * Which source images each split keeps. Class by class in index order, the class's images are
 * shuffled by one Rng(seed) and the first n_i kept (train first, then test for `same`); the
 * result is put back in source order, so the choice depends on the seed alone and the set grows
 * no order of its own (the loader shuffles). n_max is the smallest class of the source split,
 * so every class has the images its profile asks for (Fashion-MNIST: 6000 and 1000, all equal).
 */
export function planLongTail(src: IdxDataset, opts: LongTailOptions): LongTailPlan {
  const K = opts.classes.length;
  const rng = new Rng(opts.seed);
  const nTrainMax = Math.min(...classCounts(src.train.labels, K));
  const pick = (split: IdxSplit, which: 'train' | 'test') => {
    const available = classCounts(split.labels, K);
    const nMax = Math.min(...available);
    if (nMax === 0) {
      const empty = available.indexOf(0);
      throw new DataError(`${split.labelFile}: class ${empty} ('${opts.classes[empty]}') has no ${which} images`);
    }
    const counts = opts.counts ? scaledCounts(opts.counts, nMax, nTrainMax) : longTailCounts(nMax, opts.ratio, K);
    checkCounts(counts, available, which, opts);
    const byClass: number[][] = Array.from({ length: K }, () => []);
    split.labels.forEach((l, i) => l < K && byClass[l]!.push(i));
    const chosen = byClass.flatMap((indices, k) => rng.shuffle(indices).slice(0, counts[k]));
    return { indices: chosen.sort((a, b) => a - b), counts, nMax };
  };
  const train = pick(src.train, 'train');
  const wholeTest = () => {
    const counts = classCounts(src.test.labels, K);
    const indices = Array.from({ length: src.test.count }, (_, i) => i).filter((i) => src.test.labels[i]! < K);
    return { indices, counts, nMax: Math.max(...counts) };
  };
  const test = opts.test === 'same' ? pick(src.test, 'test') : wholeTest();
  return { train: train.indices, test: test.indices, trainCounts: train.counts, testCounts: test.counts, nMax: { train: train.nMax, test: test.nMax } };
}

/** A UsageError when the profile leaves a class empty or asks for more images than the source holds. */
function checkCounts(counts: readonly number[], available: readonly number[], which: 'train' | 'test', opts: LongTailOptions): void {
  const rarest = counts.indexOf(0);
  const nMax = Math.min(...available);
  if (rarest >= 0) {
    const hint = which === 'test' ? '; use --test balanced or' : '; use';
    const what = opts.counts ? `--counts ${opts.counts.join(',')}` : `--ratio ${opts.ratio}`;
    throw new UsageError(`${what} leaves class ${rarest} ('${opts.classes[rarest]}') with no ${which} images (largest class ${nMax}${hint} ${opts.counts ? 'larger counts' : `a ratio <= ${nMax}`})`);
  }
  const over = counts.findIndex((c, k) => c > available[k]!);
  if (over >= 0) {
    throw new UsageError(`--counts asks for ${counts[over]} ${which} images of class ${over} ('${opts.classes[over]}'); the source has ${available[over]}`);
  }
}

/** Label-file names: RAF-DB's `train_00001` / `test_0001` (the width grows past 99999 / 9999). */
export function imageName(which: 'train' | 'test', i: number): string {
  return `${which}_${String(i + 1).padStart(which === 'train' ? 5 : 4, '0')}.png`;
}

export interface LongTailResult {
  classes: string[];
  ratio: number;
  /** Whether the training counts were given (--counts) rather than the ratio's profile. */
  countsGiven: boolean;
  seed: number;
  test: TestMode;
  trainCounts: number[];
  testCounts: number[];
  /** Side of the images written. */
  rows: number;
  cols: number;
  /** False when `out` already held this very set and nothing was written. */
  created: boolean;
}

interface Manifest {
  generator: 'mek data longtail';
  version: number;
  source: { dir: string; files: string[]; train: number; test: number };
  ratio: number;
  /** The training counts asked for; absent or null: the ratio's profile. */
  counts_given?: number[] | null;
  seed: number;
  test: TestMode;
  profile: string;
  n_max: { train: number; test: number };
  classes: string[];
  /** Rows and columns of every image. */
  image_size: [number, number];
  /** Images per class (label order) in each split. */
  counts: { train: number[]; test: number[] };
  /** False while images are being written: an interrupted run is redone, not reused. */
  complete: boolean;
}

async function readManifest(out: string): Promise<Manifest | null> {
  try {
    const m = JSON.parse(await readFile(join(out, LONGTAIL_MANIFEST), 'utf8')) as Manifest;
    return m.generator === 'mek data longtail' ? m : null;
  } catch {
    return null;
  }
}

function sameSet(m: Manifest, src: IdxDataset, opts: LongTailOptions): boolean {
  return (
    m.version === GENERATOR_VERSION &&
    m.ratio === opts.ratio &&
    JSON.stringify(m.counts_given ?? null) === JSON.stringify(opts.counts) &&
    m.seed === opts.seed &&
    m.test === opts.test &&
    m.source.train === src.train.count &&
    m.source.test === src.test.count &&
    JSON.stringify(m.classes) === JSON.stringify(opts.classes)
  );
}

export interface WriteLongTailOptions extends Partial<LongTailOptions> {
  /** The folder holding the IDX files. */
  from: string;
  out: string;
  /** Replace a different dataset in `out` instead of refusing. */
  force?: boolean;
  /** Called after each image with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
}

function checkOptions(opts: LongTailOptions): void {
  if (opts.counts && (opts.counts.length !== opts.classes.length || opts.counts.some((c) => !Number.isInteger(c) || c < 1))) {
    throw new UsageError(`--counts ${opts.counts.join(',')}: one whole number >= 1 per class (${opts.classes.length} classes)`);
  }
  if (!Number.isFinite(opts.ratio) || opts.ratio < 1) {
    throw new UsageError(`--ratio must be a number >= 1 (largest over smallest class size), got ${opts.ratio}`);
  }
  if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 2 ** 32 - 1) {
    throw new UsageError(`--seed must be an integer in [0, ${2 ** 32 - 1}], got ${opts.seed}`);
  }
  if (!TEST_MODES.includes(opts.test)) throw new UsageError(`--test must be one of ${TEST_MODES.join(', ')}, got '${opts.test}'`);
  if (opts.classes.length < 2 || opts.classes.length > 255) throw new UsageError(`--classes: 2 to 255 class names, got ${opts.classes.length}`);
}

/** The options with their defaults: with counts, the ratio is theirs and the classes the source's first. */
function resolveOptions(options: WriteLongTailOptions): LongTailOptions {
  const counts = options.counts ?? null;
  const classes = options.classes ?? (counts ? FASHION_MNIST_CLASSES.slice(0, counts.length) : FASHION_MNIST_CLASSES);
  const ratio = counts ? Math.max(...counts) / Math.min(...counts) : (options.ratio ?? 50);
  return { ratio, counts, seed: options.seed ?? 0, test: options.test ?? 'same', classes };
}

/**
 * Writes the long-tailed set of the IDX dataset in `from` to `out` (deterministic in ratio,
 * seed and test mode). Refuses with a UsageError when `out` holds anything else unless `force`;
 * returns at once when it already holds this very set.
 */
export async function writeLongTail(options: WriteLongTailOptions): Promise<LongTailResult> {
  const opts = resolveOptions(options);
  checkOptions(opts);
  const { out, force = false, onProgress } = options;
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`${out} exists and is not a folder`);
  // With given counts the source's classes beyond them are left out, not an error.
  const src = readIdxDataset(options.from, opts.classes.length, { otherClasses: opts.counts !== null });
  const plan = planLongTail(src, opts);
  const result = (created: boolean): LongTailResult => ({
    classes: [...opts.classes],
    ratio: opts.ratio,
    countsGiven: opts.counts !== null,
    seed: opts.seed,
    test: opts.test,
    trainCounts: plan.trainCounts,
    testCounts: plan.testCounts,
    rows: src.train.rows,
    cols: src.train.cols,
    created,
  });

  const existing = existsSync(out) ? await readManifest(out) : null;
  if (existing?.complete && sameSet(existing, src, opts)) return result(false);
  refuseOccupied(out, existing, src, opts, force);
  const imageDir = await clearOutput(out);
  const manifest = manifestFor(src, plan, opts);
  await writeAtomic(join(out, LONGTAIL_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');

  const items = [
    ...plan.train.map((index, i) => ({ name: imageName('train', i), split: src.train, index })),
    ...plan.test.map((index, i) => ({ name: imageName('test', i), split: src.test, index })),
  ];
  await writeImages(items, imageDir, onProgress);
  await writeAtomic(join(out, CLASSES_FILE), opts.classes.join('\n') + '\n');
  await writeAtomic(join(out, SOURCE_INDEX_FILE), items.map((it) => `${it.name} ${it.index}\n`).join(''));
  await writeAtomic(join(out, LABEL_FILE), items.map((it) => `${it.name} ${it.split.labels[it.index]! + 1}\n`).join(''));
  await writeAtomic(join(out, LONGTAIL_MANIFEST), JSON.stringify({ ...manifest, complete: true }, null, 2) + '\n');
  return result(true);
}

/** A UsageError unless `out` is empty, holds this set (an interrupted run is simply redone) or `force` says to replace it. */
function refuseOccupied(out: string, existing: Manifest | null, src: IdxDataset, opts: LongTailOptions, force: boolean): void {
  const occupied = existsSync(out) && readdirSync(out).length > 0;
  if (occupied && !(existing && sameSet(existing, src, opts)) && !force) {
    const what = existing
      ? `a different long-tailed set (ratio ${existing.ratio}, seed ${existing.seed}, test ${existing.test})`
      : 'files that are not a long-tailed set';
    throw new UsageError(`${out} already holds ${what}; choose another --out or pass --force to replace it`);
  }
}

/** Removes what an earlier run wrote to `out` and returns the (new, empty) image folder. */
async function clearOutput(out: string): Promise<string> {
  // Only what this command writes is removed: a different set's images would otherwise linger.
  for (const f of [LONGTAIL_MANIFEST, LABEL_FILE, CLASSES_FILE, SOURCE_INDEX_FILE]) await rm(join(out, f), { force: true });
  await rm(join(out, LONGTAIL_IMAGE_DIR), { recursive: true, force: true });
  const imageDir = join(out, LONGTAIL_IMAGE_DIR);
  await mkdir(imageDir, { recursive: true });
  return imageDir;
}

/** The manifest of the set about to be written, still marked incomplete. */
function manifestFor(src: IdxDataset, plan: LongTailPlan, opts: LongTailOptions): Manifest {
  return {
    generator: 'mek data longtail',
    version: GENERATOR_VERSION,
    source: {
      dir: resolve(src.dir),
      files: [src.train.imageFile, src.train.labelFile, src.test.imageFile, src.test.labelFile].map((f) => resolve(f)),
      train: src.train.count,
      test: src.test.count,
    },
    ratio: opts.ratio,
    counts_given: opts.counts ? [...opts.counts] : null,
    seed: opts.seed,
    test: opts.test,
    profile: opts.counts ? 'n_i = counts_given[i] (test: scaled by the test split\'s class size), class i in label order' : 'n_i = floor(n_max * ratio^(-i/(K-1))), class i in label order',
    n_max: plan.nMax,
    classes: [...opts.classes],
    image_size: [src.train.rows, src.train.cols],
    counts: { train: plan.trainCounts, test: plan.testCounts },
    complete: false,
  };
}

interface ImageItem {
  name: string;
  split: IdxSplit;
  /** Index of the image in its source split. */
  index: number;
}

/** Encodes and writes every item, WRITE_CONCURRENCY at a time. */
async function writeImages(items: ImageItem[], imageDir: string, onProgress?: (done: number, total: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await writeFile(join(imageDir, item.name), await encodePng(item.split, item.index));
      onProgress?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, items.length) }, worker));
}

/** One source image as a grayscale PNG. */
function encodePng(split: IdxSplit, index: number): Promise<Buffer> {
  const size = split.rows * split.cols;
  const pixels = split.pixels.subarray(index * size, (index + 1) * size);
  return sharp(pixels, { raw: { width: split.cols, height: split.rows, channels: 1 } }).toColourspace('b-w').png().toBuffer();
}

/** Writes through a temporary file and a rename, so a file is either whole or absent. */
async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
