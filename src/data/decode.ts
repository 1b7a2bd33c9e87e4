// Reading an image file into the pipeline's RgbImage: the RGB channels (alpha dropped,
// grayscale and CMYK converted to sRGB), the whole image resized to size x size with the named
// filter, 8-bit: PIL's `Image.open(p).convert('RGB').resize((s, s), filter)` of the reference.
// sharp (libvips) decodes; bilinear and bicubic resizing is resize.ts, bit-identical to PIL's
// (libvips' cubic kernel differs from PIL's BICUBIC by up to 25 levels and was slower here);
// BMPs, which libvips cannot read, are bmp.ts.
import sharp from 'sharp';
import { MiB, readRegularFile } from '../io/read-file.ts';
import { DataError } from '../errors.ts';
import { decodeBmp, TooLarge } from './bmp.ts';
import type { RgbImage } from './image.ts';
import { resizeLikePil, type Interpolation } from './resize.ts';

/** An image file larger than this is not a face photo (a 16-megapixel JPEG is ~5 MB). */
const MAX_IMAGE_FILE_BYTES = 256 * MiB;
// Images are read once, top to bottom: sequential access lets libvips stream the decode.
const OPEN: sharp.SharpOptions = { sequentialRead: true };

/**
 * Decoding holds the whole image in memory (3 bytes a pixel, more while converting), whatever
 * the model's input size: a 250 kB PNG can claim 16000 x 16000 pixels. Larger images are
 * refused (data.max_image_pixels); 40 megapixels is far above any face dataset's photos.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 40_000_000;

/** The image at `path` as size x size RGB. A missing, undecodable or oversized file is a DataError naming it. */
export async function decodeImage(path: string, size: number, interpolation: Interpolation, maxPixels = DEFAULT_MAX_IMAGE_PIXELS): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path, { maxBytes: MAX_IMAGE_FILE_BYTES, what: 'image' }, (p) => {
      throw new DataError(`${path}: ${p}`);
    });
  } catch (err) {
    if (err instanceof DataError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(`${path}: cannot read image (${code === 'ENOENT' ? 'no such file' : code ?? String(err)})`);
  }
  try {
    return await decodeBytes(bytes, size, interpolation, maxPixels);
  } catch (err) {
    if (err instanceof TooLarge || /pixel limit/.test(String(err))) {
      throw new DataError(`${path}: the image has more than ${maxPixels} pixels (data.max_image_pixels); shrink it, or raise the key`);
    }
    const message = (err instanceof Error ? err.message : String(err)).trim().split('\n')[0];
    throw new DataError(`${path}: cannot decode image (${message})`);
  }
}

async function decodeBytes(bytes: Buffer, size: number, interpolation: Interpolation, maxPixels: number): Promise<RgbImage> {
  // Decoding to plain RGB first also drops any alpha before resizing, as the reference's
  // convert('RGB') does (sharp would otherwise resize premultiplied colours).
  const full = isBmp(bytes) ? decodeBmp(bytes, maxPixels) : await plainRgb(bytes, maxPixels);
  if (full.width === size && full.height === size) return full;
  if (interpolation !== 'nearest') return resizeLikePil(full, size, size, interpolation);
  const out = await sharp(full.data, { raw: { width: full.width, height: full.height, channels: 3 } })
    .resize({ width: size, height: size, fit: 'fill', kernel: 'nearest' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return rgbImage(out.data, out.info);
}

async function plainRgb(bytes: Buffer, maxPixels: number): Promise<RgbImage> {
  const out = await sharp(bytes, { ...OPEN, limitInputPixels: maxPixels }).toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return rgbImage(out.data, out.info);
}

function rgbImage(data: Buffer, info: sharp.OutputInfo): RgbImage {
  if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function isBmp(b: Buffer): boolean {
  return b.length > 2 && b[0] === 0x42 && b[1] === 0x4d;
}
