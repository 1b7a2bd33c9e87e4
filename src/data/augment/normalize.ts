// RgbImage -> Float32Array HWC of (x / 255 - mean) / std, per channel, computed in float32 the
// way torchvision's ToTensor + Normalize do (x / 255, then - mean, then / std, each rounded to
// float32), through a 768-entry table.

import type { RgbImage } from '../image.ts';

export type Normalizer = (img: RgbImage, out?: Float32Array) => Float32Array;

/** The 768-entry table (R, G, B blocks of 256) of normalised values. */
export function normalizationTable(mean: readonly number[], std: readonly number[]): Float32Array {
  if (mean.length !== 3 || std.length !== 3) {
    throw new Error(`normalize: mean and std need 3 values each, got ${mean.length} and ${std.length}`);
  }
  const table = new Float32Array(768);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]!);
    const s = Math.fround(std[c]!);
    if (!Number.isFinite(m) || !Number.isFinite(s) || s === 0) {
      throw new Error(`normalize: bad mean/std for channel ${c}: ${mean[c]}, ${std[c]}`);
    }
    for (let v = 0; v < 256; v++) table[c * 256 + v] = Math.fround(Math.fround(Math.fround(v / 255) - m) / s);
  }
  return table;
}

/** A normaliser for fixed mean/std; `out` (length w*h*3) is filled when given. */
export function createNormalizer(mean: readonly number[], std: readonly number[]): Normalizer {
  const table = normalizationTable(mean, std);
  return (img, out) => {
    const src = img.data;
    const n = src.length;
    if (n !== img.width * img.height * 3) throw new Error('normalize: image data does not match its size');
    const dst = out ?? new Float32Array(n);
    if (dst.length !== n) throw new Error(`normalize: output has ${dst.length} values, expected ${n}`);
    for (let i = 0; i < n; i += 3) {
      dst[i] = table[src[i]!]!;
      dst[i + 1] = table[256 + src[i + 1]!]!;
      dst[i + 2] = table[512 + src[i + 2]!]!;
    }
    return dst;
  };
}

/** One-off normalisation of `img`. */
export function normalize(img: RgbImage, mean: readonly number[], std: readonly number[], out?: Float32Array): Float32Array {
  return createNormalizer(mean, std)(img, out);
}
