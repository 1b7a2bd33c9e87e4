// The rotation pretext task (Gidaris et al., "Unsupervised Representation Learning by
// Predicting Image Rotations", ICLR 2018): an image turned by 0, 90, 180 or 270 degrees, and
// the turn as its label. The turns act on prepared batches (augmented, normalised, HWC): a
// quarter turn of a square grid moves pixels to pixels, so no value is interpolated.
import type { BatchTransform, HostBatch } from '../data/loader.ts';
import { mixSeed } from '../data/loader.ts';

/** The pretext task's classes, in label order: quarter turns counter-clockwise. */
export const ROTATION_CLASSES = ['rot0', 'rot90', 'rot180', 'rot270'];

/**
 * `image` ([size, size, channels], row-major) turned `quarters` x 90 degrees counter-clockwise,
 * as numpy's rot90(image, quarters) and torch.rot90(image, quarters, (0, 1)) turn it.
 */
export function rot90(image: Float32Array, size: number, quarters: number, channels = 3): Float32Array {
  const k = ((quarters % 4) + 4) % 4;
  if (image.length !== size * size * channels) throw new Error(`rot90: ${image.length} values are not a ${size}x${size}x${channels} image`);
  const out = new Float32Array(image.length);
  const last = size - 1;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      // The source pixel of output pixel (r, c).
      const [sr, sc] = k === 0 ? [r, c] : k === 1 ? [c, last - r] : k === 2 ? [last - r, last - c] : [last - c, r];
      const from = (sr * size + sc) * channels;
      out.set(image.subarray(from, from + channels), (r * size + c) * channels);
    }
  }
  return out;
}

/**
 * Every image of the batch in all four rotations, image by image (4B images, labels 0 1 2 3
 * repeated): each step then compares the four views of the same picture, which Gidaris et al.
 * found trains better than one view per image at the same number of images seen; the labels
 * are balanced exactly.
 */
export function allRotations(batch: HostBatch, size: number): HostBatch {
  return rotated(batch, size, () => [0, 1, 2, 3], 4);
}

/**
 * One rotation per image, drawn from (seed, epoch, position) like every augmentation draw, so a
 * resumed run turns each image as the uninterrupted one did.
 */
export function randomRotations(batch: HostBatch, size: number, seed: number): HostBatch {
  const draw = (i: number) => [mixSeed(mixSeed(seed, 0x726f74, batch.epoch), batch.next.index, i) & 3];
  return rotated(batch, size, draw, 1);
}

function rotated(batch: HostBatch, size: number, turns: (i: number) => number[], perImage: number): HostBatch {
  const pixels = size * size * 3;
  const count = batch.size * perImage;
  const images = new Float32Array(count * pixels);
  const labels = new Int32Array(count);
  let k = 0;
  for (let i = 0; i < batch.size; i++) {
    const image = batch.images.subarray(i * pixels, (i + 1) * pixels);
    for (const quarters of turns(i)) {
      images.set(rot90(image, size, quarters), k * pixels);
      labels[k++] = quarters;
    }
  }
  return { ...batch, images, labels, size: count };
}

/** The transforms of the training stream (`pretrain.rotations`) and of evaluations (always all four). */
export function rotationTransforms(mode: 'all' | 'random', size: number, seed: number): { train: BatchTransform; eval: BatchTransform } {
  const all: BatchTransform = (b) => allRotations(b, size);
  return { train: mode === 'all' ? all : (b) => randomRotations(b, size, seed), eval: all };
}
