// BMP decoding: libvips (as bundled with sharp) has no BMP loader, so uncompressed BMPs, the
// only kind face datasets ship, are read here. RLE-compressed files are reported as unsupported.
import type { RgbImage } from './image.ts';

/** An image with more pixels than the caller allows (decode.ts turns it into a DataError). */
export class TooLarge extends Error {}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

interface BmpHeader {
  dataOffset: number;
  headerSize: number;
  width: number;
  /** As stored: negative when rows are stored top-down. */
  rawHeight: number;
  bpp: number;
  compression: number;
  paletteSize: number;
}

type Masks = [number, number, number];

export function decodeBmp(b: Buffer, maxPixels: number): RgbImage {
  const header = readHeader(b);
  const { width, rawHeight, bpp, dataOffset } = header;
  // A negative height means rows are stored top-down.
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0) throw new Error(`BMP of size ${width}x${rawHeight}`);
  if (width * height > maxPixels) throw new TooLarge();
  const masks = colourMasks(b, header);
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new Error(`BMP with ${bpp} bits per pixel`);
  if ((bpp === 16 || bpp === 32) && !masks) throw new Error('BMP without colour masks');
  const palette = bpp <= 8 ? readPalette(b, header) : null;

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

/** The file header and either info header: the 12-byte OS/2 one or a 40-byte (or longer) Windows one. */
function readHeader(b: Buffer): BmpHeader {
  if (b.length < 26) throw new Error('truncated BMP header');
  const dataOffset = b.readUInt32LE(10);
  const headerSize = b.readUInt32LE(14);
  if (headerSize === 12) {
    return { dataOffset, headerSize, width: b.readUInt16LE(18), rawHeight: b.readInt16LE(20), bpp: b.readUInt16LE(24), compression: BI_RGB, paletteSize: 0 };
  }
  if (headerSize >= 40 && b.length >= 54) {
    return {
      dataOffset,
      headerSize,
      width: b.readInt32LE(18),
      rawHeight: b.readInt32LE(22),
      bpp: b.readUInt16LE(28),
      compression: b.readUInt32LE(30),
      paletteSize: b.readUInt32LE(46),
    };
  }
  throw new Error(`unknown BMP header size ${headerSize}`);
}

/** Where the red, green and blue bits of a 16- or 32-bit pixel are; null for other depths. */
function colourMasks(b: Buffer, { compression, bpp }: BmpHeader): Masks | null {
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    // The masks follow the 40-byte header (and sit inside the longer V4/V5 headers there too).
    if (b.length < 66) throw new Error('truncated BMP colour masks');
    return [b.readUInt32LE(54), b.readUInt32LE(58), b.readUInt32LE(62)];
  }
  if (compression !== BI_RGB) throw new Error(`compressed BMP (method ${compression}) is not supported; save it uncompressed or as PNG`);
  if (bpp === 16) return [0x7c00, 0x03e0, 0x001f];
  if (bpp === 32) return [0xff0000, 0x00ff00, 0x0000ff];
  return null;
}

/** The colour table of a 1-, 4- or 8-bit image as R, G, B triples. */
function readPalette(b: Buffer, { headerSize, paletteSize, bpp }: BmpHeader): Uint8Array {
  const entry = headerSize === 12 ? 3 : 4;
  const count = paletteSize || 1 << bpp;
  const start = 14 + headerSize;
  if (start + count * entry > b.length) throw new Error('truncated BMP palette');
  const palette = new Uint8Array(count * 3);
  for (let i = 0; i < count; i++) {
    // Palette entries are stored B, G, R (, reserved).
    palette[i * 3] = b[start + i * entry + 2]!;
    palette[i * 3 + 1] = b[start + i * entry + 1]!;
    palette[i * 3 + 2] = b[start + i * entry]!;
  }
  return palette;
}

/** Extracts one mask's bits from a pixel, scaled to 0..255. */
function maskChannel(mask: number): (pixel: number) => number {
  if (mask === 0) return () => 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  return (pixel) => Math.round((((pixel & mask) >>> shift) * 255) / max);
}
