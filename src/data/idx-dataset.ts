// An MNIST-style dataset (MNIST, Fashion-MNIST): the IDX files (idx.ts) of its train and test
// images and labels in one folder, checked against each other and the class count.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.ts';
import { readIdx } from './idx.ts';

/** The IDX files of a split, as the MNIST family names them (plain or gzipped; `-idx` or `.idx`). */
const SOURCE_FILES = {
  trainImages: ['train-images-idx3-ubyte', 'train-images.idx3-ubyte'],
  trainLabels: ['train-labels-idx1-ubyte', 'train-labels.idx1-ubyte'],
  testImages: ['t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte'],
  testLabels: ['t10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte'],
} as const;

export interface IdxSplit {
  /** The image file, for messages and the manifest. */
  imageFile: string;
  labelFile: string;
  count: number;
  rows: number;
  cols: number;
  /** count * rows * cols bytes, row-major. */
  pixels: Uint8Array;
  /** count labels, 0-based. */
  labels: Uint8Array;
}

export interface IdxDataset {
  dir: string;
  train: IdxSplit;
  test: IdxSplit;
}

function findSource(dir: string, names: readonly string[]): string {
  const tried = names.flatMap((n) => [n, `${n}.gz`]);
  for (const name of tried) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new DataError(`${dir}: no ${tried[0]} (looked for ${tried.join(', ')})`);
}

function readSplit(dir: string, imageNames: readonly string[], labelNames: readonly string[], classes: number, otherClasses: boolean): IdxSplit {
  const imageFile = findSource(dir, imageNames);
  const labelFile = findSource(dir, labelNames);
  const images = readIdx(imageFile, 3);
  const labels = readIdx(labelFile, 1);
  const [count, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new DataError(`${labelFile}: ${labels.dims[0]} labels for the ${count} images of ${imageFile}`);
  }
  const bad = otherClasses ? -1 : labels.data.findIndex((l) => l >= classes);
  if (bad >= 0) {
    throw new DataError(`${labelFile}: label ${labels.data[bad]} at index ${bad} is not a class (${classes} classes: labels 0..${classes - 1})`);
  }
  if (rows === 0 || cols === 0) throw new DataError(`${imageFile}: images of ${rows} x ${cols} pixels`);
  return { imageFile, labelFile, count, rows, cols, pixels: images.data, labels: labels.data };
}

/** The four IDX files of an MNIST-style dataset in `dir`. Problems are DataErrors naming the file. */
/** `otherClasses`: labels from `classes` on are images the caller leaves out, not an error. */
export function readIdxDataset(dir: string, classes: number, { otherClasses = false } = {}): IdxDataset {
  if (!existsSync(dir)) throw new DataError(`${dir}: no such folder (--from: the folder holding the IDX files, e.g. /usr/share/datasets/fashion-mnist)`);
  if (!statSync(dir).isDirectory()) throw new DataError(`${dir}: not a folder (--from: the folder holding the IDX files)`);
  const train = readSplit(dir, SOURCE_FILES.trainImages, SOURCE_FILES.trainLabels, classes, otherClasses);
  const test = readSplit(dir, SOURCE_FILES.testImages, SOURCE_FILES.testLabels, classes, otherClasses);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new DataError(`${test.imageFile}: ${test.rows} x ${test.cols} images, but ${train.imageFile} holds ${train.rows} x ${train.cols}`);
  }
  return { dir, train, test };
}
