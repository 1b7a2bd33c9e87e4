// Shared inputs of the eval tests.
import sharp from 'sharp';
import { expect } from 'vitest';

export const RAFDB_CLASSES = ['Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger', 'Neutral'];

/**
 * A RAF-DB test confusion matrix whose rows have the real test counts and whose diagonal gives
 * the released checkpoint's per-class figures (92.7, 74.3, 85.6, 96.9, 90.0, 86.4, 92.5):
 * overall 92.70%, mean-class 88.34%. The off-diagonal split is made up.
 */
export const RAFDB_CONFUSION = [
  [305, 4, 2, 6, 3, 2, 7],
  [6, 55, 2, 2, 5, 1, 3],
  [3, 1, 137, 4, 5, 3, 7],
  [5, 0, 3, 1148, 6, 4, 19],
  [2, 3, 6, 10, 430, 2, 25],
  [3, 1, 8, 3, 3, 140, 4],
  [6, 1, 6, 18, 19, 1, 629],
];

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
