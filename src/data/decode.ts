// Reading an image file into the pipeline's RgbImage: the RGB channels (alpha dropped,
// grayscale and CMYK converted to sRGB), the whole image resized to size x size with the named
// filter, 8-bit: PIL's `Image.open(p).convert('RGB').resize((s, s), filter)` of the reference.
// sharp (libvips) decodes; bilinear and bicubic resizing is resize.ts, bit-identical to PIL's
// (libvips' cubic kernel differs from PIL's BICUBIC by up to 25 levels and was slower here).
import sharp from 'sharp';
import { MiB, readRegularFile } from '../io/read-file.ts';
import { DataError } from '../errors.ts';
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

class TooLarge extends Error {}

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

// ---- BMP: libvips (as bundled with sharp) has no BMP loader, so uncompressed BMPs, the only
// kind face datasets ship, are read here. RLE-compressed files are reported as unsupported.

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

function decodeBmp(b: Buffer, maxPixels: number): RgbImage {
  if (b.length < 26) throw new Error('truncated BMP header');
  const dataOffset = b.readUInt32LE(10);
  const headerSize = b.readUInt32LE(14);
  let width: number;
  let rawHeight: number;
  let bpp: number;
  let compression = BI_RGB;
  let paletteSize = 0;
  if (headerSize === 12) {
    width = b.readUInt16LE(18);
    rawHeight = b.readInt16LE(20);
    bpp = b.readUInt16LE(24);
  } else if (headerSize >= 40 && b.length >= 54) {
    width = b.readInt32LE(18);
    rawHeight = b.readInt32LE(22);
    bpp = b.readUInt16LE(28);
    compression = b.readUInt32LE(30);
    paletteSize = b.readUInt32LE(46);
  } else {
    throw new Error(`unknown BMP header size ${headerSize}`);
  }
  // A negative height means rows are stored top-down.
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0) throw new Error(`BMP of size ${width}x${rawHeight}`);
  if (width * height > maxPixels) throw new TooLarge();

  let masks: [number, number, number] | null = null;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    // The masks follow the 40-byte header (and sit inside the longer V4/V5 headers there too).
    if (b.length < 66) throw new Error('truncated BMP colour masks');
    masks = [b.readUInt32LE(54), b.readUInt32LE(58), b.readUInt32LE(62)];
  } else if (compression !== BI_RGB) {
    throw new Error(`compressed BMP (method ${compression}) is not supported; save it uncompressed or as PNG`);
  } else if (bpp === 16) {
    masks = [0x7c00, 0x03e0, 0x001f];
  } else if (bpp === 32) {
    masks = [0xff0000, 0x00ff00, 0x0000ff];
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new Error(`BMP with ${bpp} bits per pixel`);
  if ((bpp === 16 || bpp === 32) && !masks) throw new Error('BMP without colour masks');

  let palette: Uint8Array | null = null;
  const entry = headerSize === 12 ? 3 : 4;
  if (bpp <= 8) {
    const count = paletteSize || 1 << bpp;
    const start = 14 + headerSize;
    if (start + count * entry > b.length) throw new Error('truncated BMP palette');
    palette = new Uint8Array(count * 3);
    for (let i = 0; i < count; i++) {
      // Palette entries are stored B, G, R (, reserved).
      palette[i * 3] = b[start + i * entry + 2]!;
      palette[i * 3 + 1] = b[start + i * entry + 1]!;
      palette[i * 3 + 2] = b[start + i * entry]!;
    }
  }

  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (dataOffset + stride * height > b.length) throw new Error('truncated BMP pixel data');
  const channels = masks?.map(maskChannel);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (rawHeight < 0 ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (palette) {
        const perByte = 8 / bpp;
        const byte = b[row + Math.floor(x / perByte)]!;
        const shift = 8 - bpp * ((x % perByte) + 1);
        const index = (byte >> shift) & ((1 << bpp) - 1);
        if (index * 3 >= palette.length) throw new Error(`BMP palette index ${index} past its ${palette.length / 3} colours`);
        out[o] = palette[index * 3]!;
        out[o + 1] = palette[index * 3 + 1]!;
        out[o + 2] = palette[index * 3 + 2]!;
      } else if (bpp === 24) {
        const p = row + x * 3;
        out[o] = b[p + 2]!;
        out[o + 1] = b[p + 1]!;
        out[o + 2] = b[p]!;
      } else {
        const pixel = bpp === 16 ? b.readUInt16LE(row + x * 2) : b.readUInt32LE(row + x * 4);
        for (let c = 0; c < 3; c++) out[o + c] = channels![c]!(pixel);
      }
    }
  }
  return { width, height, data: out };
}

/** Extracts one mask's bits from a pixel, scaled to 0..255. */
function maskChannel(mask: number): (pixel: number) => number {
  if (mask === 0) return () => 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  return (pixel) => Math.round((((pixel & mask) >>> shift) * 255) / max);
}
