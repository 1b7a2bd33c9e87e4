// Horizontal flips: of an 8-bit RGB image (the training augmentation, torchvision's
// RandomHorizontalFlip: flipped when u < p) and of a float HWC image (for the flipped copy that
// RAC needs, taken after augmentation).

import type { Rng } from '../../random.ts';
import type { RgbImage } from '../image.ts';
import { blankLike } from './util.ts';

/** Mirror left-right: pixel (x, y) goes to (w - 1 - x, y). Returns a new image. */
export function hflip(img: RgbImage): RgbImage {
  const { width: w, height: h } = img;
  const src = img.data;
  const out = blankLike(img);
  const dst = out.data;
  const row = w * 3;
  for (let y = 0; y < h; y++) {
    const base = y * row;
    for (let x = 0; x < w; x++) {
      const s = base + x * 3;
      const d = base + (w - 1 - x) * 3;
      dst[d] = src[s]!;
      dst[d + 1] = src[s + 1]!;
      dst[d + 2] = src[s + 2]!;
    }
  }
  return out;
}

/**
 * Flip with probability p (one draw from `rng`; none when p <= 0). Returns `img` itself when
 * not flipped.
 */
export function randomHflip(img: RgbImage, p: number, rng: Rng): RgbImage {
  if (p <= 0) return img;
  return rng.uniform() < p ? hflip(img) : img;
}

/**
 * Mirror a float HWC image left-right into `out` (a new array by default; must not alias
 * `data`).
 */
export function hflipFloat(
  data: Float32Array,
  width: number,
  height: number,
  channels: number,
  out: Float32Array = new Float32Array(data.length),
): Float32Array {
  if (data.length !== width * height * channels) {
    throw new Error(`hflipFloat: ${data.length} values, expected ${width}x${height}x${channels}`);
  }
  if (out.length !== data.length) throw new Error('hflipFloat: output has the wrong length');
  const row = width * channels;
  for (let y = 0; y < height; y++) {
    const base = y * row;
    for (let x = 0; x < width; x++) {
      const s = base + x * channels;
      const d = base + (width - 1 - x) * channels;
      for (let c = 0; c < channels; c++) out[d + c] = data[s + c]!;
    }
  }
  return out;
}
