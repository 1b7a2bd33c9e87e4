// Tiny MNIST-style IDX datasets for the long-tailed benchmark's tests (CI has no Fashion-MNIST).
// Each image carries its label and source index in its first pixels, so a test can check that
// every written PNG is the source image its label file line says.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from '../../src/data/idx.ts';

export interface FakeIdxOptions {
  classes?: number;
  trainPerClass?: number;
  testPerClass?: number;
  /** Image side in pixels (>= 3). */
  size?: number;
  /** Gzip the training files (the test files stay plain, so both readers are exercised). */
  gzipTrain?: boolean;
}

/** Pixel 0: label * 20, pixels 1-2: the source index (little-endian); a label-coloured block after. */
export function fakeImage(label: number, index: number, size: number): Uint8Array {
  const px = new Uint8Array(size * size);
  px[0] = label * 20;
  px[1] = index & 255;
  px[2] = index >> 8;
  for (let r = Math.floor(size / 2); r < size; r++) for (let c = 0; c < size; c++) px[r * size + c] = 40 + 20 * label;
  return px;
}

/** Labels cycle through the classes (0, 1, ..., K-1, 0, ...), as the source's classes interleave. */
function split(perClass: number, classes: number, size: number): { images: Uint8Array; labels: Uint8Array } {
  const n = perClass * classes;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % classes);
  const images = new Uint8Array(n * size * size);
  labels.forEach((l, i) => images.set(fakeImage(l, i, size), i * size * size));
  return { images, labels };
}

/** Writes train/t10k images and labels to `dir` as the MNIST family names them. */
export function writeFakeIdx(dir: string, opts: FakeIdxOptions = {}): void {
  const { classes = 10, trainPerClass = 40, testPerClass = 10, size = 6, gzipTrain = true } = opts;
  mkdirSync(dir, { recursive: true });
  const train = split(trainPerClass, classes, size);
  const test = split(testPerClass, classes, size);
  const put = (name: string, bytes: Uint8Array, gz: boolean) => writeFileSync(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(bytes) : bytes);
  put('train-images-idx3-ubyte', encodeIdx([train.labels.length, size, size], train.images), gzipTrain);
  put('train-labels-idx1-ubyte', encodeIdx([train.labels.length], train.labels), gzipTrain);
  put('t10k-images-idx3-ubyte', encodeIdx([test.labels.length, size, size], test.images), false);
  put('t10k-labels-idx1-ubyte', encodeIdx([test.labels.length], test.labels), false);
}
