// Small numeric helpers shared by the augmentations. They reproduce Python/PIL rounding rules
// where the reference depends on them.

import type { RgbImage } from '../image.ts';

/** Python 3 `round(x)`: to the nearest integer, ties to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** An 8-bit RGB fill colour. */
export type Fill = readonly [number, number, number];

/**
 * The fill colour timm gives RandAugment's geometric ops: `min(255, round(255 * m))` for each
 * channel mean (so mean 0.5 gives 128, Python rounding 127.5 to the even 128).
 */
export function fillFromMean(mean: readonly number[]): Fill {
  if (mean.length !== 3) throw new Error(`augment: mean must have 3 values, got ${mean.length}`);
  const f = mean.map((m) => Math.max(0, Math.min(255, roundHalfEven(255 * m))));
  return [f[0]!, f[1]!, f[2]!];
}

/** A blank image of the same size as `img`. */
export function blankLike(img: RgbImage): RgbImage {
  return { width: img.width, height: img.height, data: new Uint8Array(img.data.length) };
}

/** A deep copy of `img`. */
export function copyImage(img: RgbImage): RgbImage {
  return { width: img.width, height: img.height, data: img.data.slice() };
}

export function checkImage(img: RgbImage): void {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`augment: bad image size ${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new Error(`augment: image data has ${data.length} bytes, expected ${width * height * 3} (${width}x${height} RGB)`);
  }
}
