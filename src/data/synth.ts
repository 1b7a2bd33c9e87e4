// A synthetic facial-expression dataset in RAF-DB's layout, so the whole pipeline (loader,
// training, evaluation) can run anywhere without the real data: cartoon faces whose
// expressions are drawn from action-unit-like muscle settings (synth/face.ts) as SVG
// (synth/draw.ts) and rendered to JPEG by sharp. Class counts follow RAF-DB's imbalance, and
// weak, blended and occluded faces keep the task from being trivially separable.
//
// Layout written under `out`:
//   list_patition_label.txt            `train_00001.jpg 5` (1-based labels), train then test
//   Image/aligned/<stem>_aligned.jpg   the faces
//   synth.json                         what was generated (seed, size, image size, counts)
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { UsageError } from '../errors.ts';
import { RAFDB_CLASS_NAMES } from '../config/schema.ts';
import { Rng } from '../random.ts';
import { faceSvg } from './synth/draw.ts';
import { sampleFace, type FaceSpec } from './synth/face.ts';

/** RAF-DB basic-expression counts per class, label order (docs/method.md). */
export const RAFDB_TRAIN_COUNTS: readonly number[] = [1290, 281, 717, 4772, 1982, 705, 2524];
export const RAFDB_TEST_COUNTS: readonly number[] = [329, 74, 160, 1185, 478, 162, 680];

export const LABEL_FILE = 'list_patition_label.txt';
export const IMAGE_DIR = join('Image', 'aligned');
export const MANIFEST_FILE = 'synth.json';

export const SYNTH_DEFAULTS = { seed: 0, size: 1400, imageSize: 100 } as const;
/** Below this the rarest classes cannot keep a few images in each split with Happiness on top. */
export const MIN_SIZE = 100;
const MIN_PER_CLASS = { train: 3, test: 2 } as const;
/**
 * Bumped whenever the drawing changes, so an old dataset is not mistaken for a current one.
 * 2: sets easier than difficulty 1 frame the face tightly and hold people who look more alike.
 */
const GENERATOR_VERSION = 2;
const JPEG_QUALITY = 90;
/** Images rendered at once; sharp spreads each over its own threads as well. */
const RENDER_CONCURRENCY = 4;

export interface SynthOptions {
  out: string;
  seed?: number;
  /** Total number of images, train and test together. */
  size?: number;
  /** Side of the square images in pixels. */
  imageSize?: number;
  /** In (0, 1]: how hard the set is (nuisances, weak and blended expressions); 1 by default. */
  difficulty?: number;
  /** Replace a different dataset in `out` instead of refusing. */
  force?: boolean;
  /** Called after each image with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface SynthResult {
  /** Images per class (label order) in each split. */
  train: number[];
  test: number[];
  /** False when `out` already held this very dataset and nothing was written. */
  created: boolean;
}

interface Manifest {
  generator: 'mek data synth';
  version: number;
  seed: number;
  size: number;
  imageSize: number;
  /** Absent in manifests written before the knob existed: those are difficulty 1. */
  difficulty?: number;
  classes: string[];
  train: number[];
  test: number[];
  /** False while images are being written: an interrupted run is redone, not reused. */
  complete: boolean;
}

/**
 * Splits `total` into classes in proportion to `weights` by largest remainder, with at least
 * `min` per class (taken from the classes that are most over their share).
 */
function allocate(total: number, weights: readonly number[], min: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const ideal = weights.map((w) => (total * w) / sum);
  const counts = ideal.map((x) => Math.max(min, Math.floor(x)));
  let diff = total - counts.reduce((a, b) => a + b, 0);
  // Ties go to the lower label so the result never depends on anything but the inputs.
  const pick = (better: (a: number, b: number) => boolean, allowed: (k: number) => boolean): number => {
    let best = -1;
    for (let k = 0; k < counts.length; k++) {
      if (allowed(k) && (best < 0 || better(ideal[k]! - counts[k]!, ideal[best]! - counts[best]!))) best = k;
    }
    return best;
  };
  for (; diff > 0; diff--) counts[pick((a, b) => a > b, () => true)]! += 1;
  for (; diff < 0; diff++) counts[pick((a, b) => a < b, (k) => counts[k]! > min)]! -= 1;
  return counts;
}

/** Images per class in each split for a dataset of `size` images, as RAF-DB's proportions. */
export function synthCounts(size: number): { train: number[]; test: number[] } {
  const trainTotal = RAFDB_TRAIN_COUNTS.reduce((a, b) => a + b, 0);
  const testTotal = RAFDB_TEST_COUNTS.reduce((a, b) => a + b, 0);
  const test = Math.round((size * testTotal) / (trainTotal + testTotal));
  return {
    train: allocate(size - test, RAFDB_TRAIN_COUNTS, MIN_PER_CLASS.train),
    test: allocate(test, RAFDB_TEST_COUNTS, MIN_PER_CLASS.test),
  };
}

interface PlannedImage {
  /** Name in the label file, e.g. `train_00001.jpg`. */
  name: string;
  spec: FaceSpec;
}

/** Every image of the dataset, in label-file order; the only consumer of the seed. */
function planDataset(seed: number, counts: { train: number[]; test: number[] }, difficulty: number): PlannedImage[] {
  const rng = new Rng(seed);
  const labels = (perClass: number[]) => rng.shuffle(perClass.flatMap((n, k) => Array<number>(n).fill(k)));
  const train = labels(counts.train);
  const test = labels(counts.test);
  const named = [
    ...train.map((label, i) => ({ label, name: `train_${String(i + 1).padStart(5, '0')}.jpg` })),
    ...test.map((label, i) => ({ label, name: `test_${String(i + 1).padStart(4, '0')}.jpg` })),
  ];
  return named.map(({ label, name }) => ({ name, spec: sampleFace(rng, label, difficulty) }));
}

function alignedName(name: string): string {
  return name.replace(/\.jpg$/, '_aligned.jpg');
}

/** Renders one face to JPEG bytes: SVG raster, then pixel noise, grey, blur. */
export async function renderFace(spec: FaceSpec, imageSize: number): Promise<Buffer> {
  const { data } = await sharp(Buffer.from(faceSvg(spec, imageSize)))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const d = spec.degradation;
  if (d.grayscale) {
    for (let i = 0; i < data.length; i += 3) {
      const y = Math.round(0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!);
      data[i] = data[i + 1] = data[i + 2] = y;
    }
  }
  if (d.noise > 0) {
    const rng = new Rng(d.noiseSeed);
    for (let i = 0; i < data.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(data[i]! + d.noise * rng.normal())));
  }
  let image = sharp(data, { raw: { width: imageSize, height: imageSize, channels: 3 } });
  const sigma = (d.blur * imageSize) / 100;
  // sharp's smallest Gaussian is 0.3; anything below is no visible blur anyway.
  if (sigma >= 0.3) image = image.blur(sigma);
  return image.jpeg({ quality: JPEG_QUALITY }).toBuffer();
}

/** Writes through a temporary file and a rename, so a file is either whole or absent. */
async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

async function readManifest(out: string): Promise<Manifest | null> {
  try {
    return JSON.parse(await readFile(join(out, MANIFEST_FILE), 'utf8')) as Manifest;
  } catch {
    return null;
  }
}

function sameDataset(m: Manifest, seed: number, size: number, imageSize: number, difficulty: number): boolean {
  return (
    m.generator === 'mek data synth' &&
    m.version === GENERATOR_VERSION &&
    m.seed === seed &&
    m.size === size &&
    m.imageSize === imageSize &&
    (m.difficulty ?? 1) === difficulty
  );
}

const SYNTH_IMAGE = /^(train_\d{5}|test_\d{4})_aligned\.jpg$/;

/** Removes what an earlier synthetic (or RAF-DB-named) dataset left that this one would not overwrite. */
async function clearPrevious(out: string, keep: Set<string>): Promise<void> {
  await rm(join(out, MANIFEST_FILE), { force: true });
  const dir = join(out, IMAGE_DIR);
  if (!existsSync(dir)) return;
  for (const entry of await readdir(dir)) {
    if (SYNTH_IMAGE.test(entry) && !keep.has(entry)) await rm(join(dir, entry), { force: true });
  }
}

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/**
 * Generates the dataset into `out` (deterministic in seed, size and image size). Refuses with
 * a UsageError when `out` holds something else unless `force`; returns at once when it already
 * holds this very dataset.
 */
export async function synthesizeDataset(options: SynthOptions): Promise<SynthResult> {
  const { out, force = false, onProgress } = options;
  const seed = options.seed ?? SYNTH_DEFAULTS.seed;
  const size = options.size ?? SYNTH_DEFAULTS.size;
  const imageSize = options.imageSize ?? SYNTH_DEFAULTS.imageSize;
  const difficulty = options.difficulty ?? 1;
  if (!(difficulty > 0 && difficulty <= 1)) throw new UsageError(`difficulty must be in (0, 1], got ${difficulty}`);
  checkInt('seed', seed, 0, 2 ** 32 - 1);
  checkInt('size', size, MIN_SIZE, 10_000_000);
  checkInt('image size', imageSize, 16, 4096);

  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`${out} exists and is not a folder`);
  const existing = existsSync(out) ? await readManifest(out) : null;
  if (existing?.complete && sameDataset(existing, seed, size, imageSize, difficulty)) {
    return { train: existing.train, test: existing.test, created: false };
  }
  const occupied = existsSync(out) && (await readdir(out)).length > 0;
  // An interrupted run of the same dataset is simply redone; anything else needs --force.
  if (occupied && !(existing && sameDataset(existing, seed, size, imageSize, difficulty)) && !force) {
    const older = existing && existing.version !== GENERATOR_VERSION ? `, generator version ${existing.version}` : '';
    const what = existing
      ? `a different synthetic dataset (seed ${existing.seed}, size ${existing.size}, image size ${existing.imageSize}, difficulty ${existing.difficulty ?? 1}${older})`
      : 'files that are not a synthetic dataset';
    throw new UsageError(`${out} already holds ${what}; choose another --out or pass --force to replace it`);
  }

  const counts = synthCounts(size);
  const plan = planDataset(seed, counts, difficulty);
  const manifest: Manifest = {
    generator: 'mek data synth',
    version: GENERATOR_VERSION,
    seed,
    size,
    imageSize,
    difficulty,
    classes: [...RAFDB_CLASS_NAMES],
    ...counts,
    complete: false,
  };
  const imageDir = join(out, IMAGE_DIR);
  await mkdir(imageDir, { recursive: true });
  await clearPrevious(out, new Set(plan.map((p) => alignedName(p.name))));
  await writeAtomic(join(out, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');

  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < plan.length) {
      const item = plan[next++]!;
      await writeAtomic(join(imageDir, alignedName(item.name)), await renderFace(item.spec, imageSize));
      onProgress?.(++done, plan.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(RENDER_CONCURRENCY, plan.length) }, worker));

  const labels = plan.map((p) => `${p.name} ${p.spec.label + 1}\n`).join('');
  await writeAtomic(join(out, LABEL_FILE), labels);
  await writeAtomic(join(out, MANIFEST_FILE), JSON.stringify({ ...manifest, complete: true }, null, 2) + '\n');
  return { ...counts, created: true };
}
