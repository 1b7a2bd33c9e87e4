// What a report draws for one image: the face as the model saw it (the normalised input turned
// back into pixels), and the class attention maps of two classes over it and over its mirror
// image, as one strip of five tiles: face | CAM a | CAM b | mirrored CAM a | mirrored CAM b.
// MEK's consistency term asks each map of the mirror image to be the mirror of the map of the
// image; the strip lets a reader see whether it is.
import sharp from 'sharp';
import type { RgbImage } from '../data/image.ts';
import { hflip } from '../data/augment/flip.ts';
import { camOverlay } from '../eval/cam.ts';

export const STRIP_TILES = 5;

/** The pixels behind a normalised HWC image ((x / 255 - mean) / std), rounded to bytes. */
export function denormalize(values: Float32Array, size: number, mean: readonly number[], std: readonly number[]): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) {
    const c = i % 3;
    const v = Math.round((values[i]! * std[c]! + mean[c]!) * 255);
    data[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { width: size, height: size, data };
}

/** The G x G map of class c in a [K, G, G] block. */
function classMap(cams: Float32Array, k: number, c: number): Float32Array {
  const n = cams.length / k;
  return cams.subarray(c * n, (c + 1) * n);
}

export interface StripInput {
  face: RgbImage;
  /** [K, G, G] maps of the face and of its mirror image. */
  cams: Float32Array;
  mirroredCams: Float32Array;
  k: number;
  /** The two classes drawn (the true and the predicted one, or the top two). */
  classes: [number, number];
}

/** The five tiles side by side, as a JPEG. */
export async function stripJpeg(input: StripInput, quality = 82): Promise<Buffer> {
  const { face, cams, mirroredCams, k, classes } = input;
  const flipped = hflip(face);
  const tiles = [
    face,
    camOverlay(face, classMap(cams, k, classes[0])),
    camOverlay(face, classMap(cams, k, classes[1])),
    camOverlay(flipped, classMap(mirroredCams, k, classes[0])),
    camOverlay(flipped, classMap(mirroredCams, k, classes[1])),
  ];
  const { width: w, height: h } = face;
  const row = w * STRIP_TILES * 3;
  const data = new Uint8Array(row * h);
  tiles.forEach((tile, t) => {
    for (let y = 0; y < h; y++) data.set(tile.data.subarray(y * w * 3, (y + 1) * w * 3), y * row + t * w * 3);
  });
  return sharp(data, { raw: { width: w * STRIP_TILES, height: h, channels: 3 } }).jpeg({ quality }).toBuffer();
}
