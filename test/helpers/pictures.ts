// Checks on the PNG files mek writes (plots, attention-map overlays): they decode, have the
// expected size and show something, without pinning pixels that a font or library update moves.
import sharp from 'sharp';
import { expect } from 'vitest';

/** Decodes a PNG and checks its size and that it is not one flat colour. */
export async function expectPicture(path: string, size?: { width: number; height: number }): Promise<{ width: number; height: number }> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (size) expect({ width: info.width, height: info.height }).toEqual(size);
  let sum = 0;
  let sumSq = 0;
  for (const v of data) {
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / data.length;
  expect(sumSq / data.length - mean * mean).toBeGreaterThan(50);
  return { width: info.width, height: info.height };
}
