// The image type the data pipeline passes around: 8-bit RGB, row-major, channels last (what
// sharp's raw output gives), so augmentations work on it the way PIL does in the reference.

export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, HWC. */
  data: Uint8Array;
}

export function createImage(width: number, height: number, fill = 0): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3).fill(fill) };
}
