// Decoding with sharp: whole-image resize to size x size, RGB out of any input (grayscale,
// alpha, CMYK, 16-bit, uncompressed BMP), the named filter, and DataErrors naming the file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/data/decode.ts';
import { DataError } from '../../src/errors.ts';
import { expectOneLineError, rejectionOf } from '../helpers/errors.ts';

const temp = mkdtempSync(join(tmpdir(), 'mek-decode-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Deterministic texture so that filters have something to disagree about. */
function texture(width: number, height: number, channels: number): Buffer {
  const out = Buffer.alloc(width * height * channels);
  for (let i = 0; i < out.length; i++) out[i] = (i * 2654435761) >>> 24;
  return out;
}

async function write(name: string, pixels: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4, as: 'png' | 'jpeg'): Promise<string> {
  const path = join(temp, name);
  const img = sharp(pixels, { raw: { width, height, channels } });
  await (as === 'png' ? img.png() : img.jpeg({ quality: 95 })).toFile(path);
  return path;
}

const rejection = async (p: Promise<unknown>): Promise<DataError> => expectOneLineError(await rejectionOf(p), DataError);

const maxDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('decodeImage', () => {
  it('resizes the whole image to size x size (no crop) as 8-bit RGB', async () => {
    // Left half red, right half blue: a crop to square would lose one side.
    const w = 40;
    const h = 20;
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set(x < w / 2 ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3);
    const path = await write('wide.png', px, w, h, 3, 'png');
    const img = await decodeImage(path, 8, 'bilinear');
    expect([img.width, img.height, img.data.length]).toEqual([8, 8, 8 * 8 * 3]);
    expect(img.data).toBeInstanceOf(Uint8Array);
    expect([...img.data.subarray(0, 3)]).toEqual([255, 0, 0]);
    expect([...img.data.subarray(7 * 3, 8 * 3)]).toEqual([0, 0, 255]);
    const jpeg = await decodeImage(await write('wide.jpg', px, w, h, 3, 'jpeg'), 12, 'bicubic');
    expect([jpeg.width, jpeg.height, jpeg.data.length]).toEqual([12, 12, 12 * 12 * 3]);
  });

  it('turns grayscale (PNG, JPEG, 16-bit PNG) into three equal channels', async () => {
    const gray = texture(16, 16, 1);
    for (const path of [await write('gray.png', gray, 16, 16, 1, 'png'), await write('gray.jpg', gray, 16, 16, 1, 'jpeg')]) {
      const img = await decodeImage(path, 16, 'bilinear');
      expect(img.data.length).toBe(16 * 16 * 3);
      for (let i = 0; i < 16 * 16; i++) {
        expect(img.data[i * 3]).toBe(img.data[i * 3 + 1]);
        expect(img.data[i * 3]).toBe(img.data[i * 3 + 2]);
      }
      if (path.endsWith('.png')) expect([...img.data.filter((_, i) => i % 3 === 0)]).toEqual([...gray]);
    }
    const wide = new Uint16Array(8 * 8).map((_, i) => i * 1000);
    const path16 = join(temp, 'gray16.png');
    await sharp(wide, { raw: { width: 8, height: 8, channels: 1 } }).toColourspace('grey16').png().toFile(path16);
    const meta = await sharp(path16).metadata();
    expect([meta.depth, meta.channels]).toEqual(['ushort', 1]);
    const img16 = await decodeImage(path16, 8, 'nearest');
    expect(img16.data.length).toBe(8 * 8 * 3);
    expect(Math.abs(img16.data[3 * 63]! - (63000 / 65535) * 255)).toBeLessThanOrEqual(1);
    expect(img16.data[3 * 63 + 1]).toBe(img16.data[3 * 63]);
  });

  it('drops alpha before resizing, as PIL convert("RGB") does', async () => {
    const rgba = texture(24, 24, 4);
    const rgb = Buffer.alloc(24 * 24 * 3);
    for (let i = 0; i < 24 * 24; i++) rgba.copy(rgb, i * 3, i * 4, i * 4 + 3);
    const withAlpha = await decodeImage(await write('rgba.png', rgba, 24, 24, 4, 'png'), 10, 'bicubic');
    const plain = await decodeImage(await write('rgb.png', rgb, 24, 24, 3, 'png'), 10, 'bicubic');
    expect(withAlpha.data.length).toBe(10 * 10 * 3);
    expect(maxDiff(withAlpha.data, plain.data)).toBe(0);
    const sameSize = await decodeImage(join(temp, 'rgba.png'), 24, 'bilinear');
    expect(Buffer.from(sameSize.data).equals(rgb)).toBe(true);
  });

  it('converts CMYK to sRGB', async () => {
    const path = join(temp, 'cmyk.jpg');
    const red = Buffer.alloc(8 * 8 * 3);
    for (let i = 0; i < 64; i++) red.set([220, 20, 30], i * 3);
    await sharp(red, { raw: { width: 8, height: 8, channels: 3 } }).toColourspace('cmyk').jpeg({ quality: 100 }).toFile(path);
    expect((await sharp(path).metadata()).space).toBe('cmyk');
    const img = await decodeImage(path, 4, 'bilinear');
    expect(img.data.length).toBe(4 * 4 * 3);
    expect(img.data[0]).toBeGreaterThan(180);
    expect(img.data[1]).toBeLessThan(70);
    expect(img.data[2]).toBeLessThan(80);
  });

  it('uses the named filter: bicubic, bilinear and nearest differ', async () => {
    // Upsampling shows the kernels most clearly (bicubic overshoots where bilinear cannot).
    const source = texture(6, 6, 3);
    const path = await write('noise.png', source, 6, 6, 3, 'png');
    const [cubic, linear, nearest] = await Promise.all(
      (['bicubic', 'bilinear', 'nearest'] as const).map((k) => decodeImage(path, 20, k)),
    );
    expect(maxDiff(cubic!.data, linear!.data)).toBeGreaterThan(10);
    expect(maxDiff(linear!.data, nearest!.data)).toBeGreaterThan(10);
    // Nearest picks source pixels, so every output pixel exists in the source.
    const pixels = new Set<number>();
    for (let i = 0; i < source.length; i += 3) pixels.add(source.readUIntBE(i, 3));
    for (let i = 0; i < nearest!.data.length; i += 3) expect(pixels.has(Buffer.from(nearest!.data).readUIntBE(i, 3))).toBe(true);
    // Repeatable.
    expect(maxDiff((await decodeImage(path, 20, 'bicubic')).data, cubic!.data)).toBe(0);
  });

  it('a corrupt, truncated or missing file is a DataError naming it', async () => {
    const corrupt = join(temp, 'corrupt.jpg');
    writeFileSync(corrupt, Buffer.from('this is not an image at all'));
    expect((await rejection(decodeImage(corrupt, 8, 'bilinear'))).message).toMatch(new RegExp(`^${corrupt}: cannot decode image \\(`));
    const good = await sharp(texture(32, 32, 3), { raw: { width: 32, height: 32, channels: 3 } }).jpeg().toBuffer();
    const truncated = join(temp, 'truncated.jpg');
    writeFileSync(truncated, good.subarray(0, good.length >> 1));
    expect((await rejection(decodeImage(truncated, 8, 'bilinear'))).message).toContain(`${truncated}: cannot decode image`);
    const missing = join(temp, 'absent.png');
    expect((await rejection(decodeImage(missing, 8, 'bilinear'))).message).toBe(`${missing}: cannot read image (no such file)`);
  });

  it('an image with more pixels than the bound is refused before it is decoded (a small PNG can claim 16000 x 16000)', async () => {
    const big = join(temp, 'big.png');
    await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#406080' } }).png().toFile(big);
    expect((await rejection(decodeImage(big, 8, 'bilinear', 5_000_000))).message).toBe(
      `${big}: the image has more than 5000000 pixels (data.max_image_pixels); shrink it, or raise the key`,
    );
    expect((await decodeImage(big, 8, 'bilinear', 6_000_000)).width).toBe(8);
  });
});

// ---- BMP (libvips in sharp has no BMP loader; decode.ts reads uncompressed BMPs itself) ----

interface BmpSpec {
  width: number;
  height: number;
  bpp: 8 | 24 | 32;
  topDown?: boolean;
  /** bpp 8: [r, g, b] per index. */
  palette?: number[][];
  /** Per pixel, row-major from the top: [r, g, b] (bpp 24/32) or [index] (bpp 8). */
  pixels: number[][];
}

function bmp(spec: BmpSpec): Buffer {
  const { width, height, bpp } = spec;
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  const paletteBytes = (spec.palette?.length ?? 0) * 4;
  const offset = 14 + 40 + paletteBytes;
  const b = Buffer.alloc(offset + stride * height);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(offset, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(spec.topDown ? -height : height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(bpp, 28);
  b.writeUInt32LE(spec.palette?.length ?? 0, 46);
  spec.palette?.forEach(([r, g, bl], i) => b.set([bl!, g!, r!, 0], 54 + i * 4));
  for (let y = 0; y < height; y++) {
    const row = offset + (spec.topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const p = spec.pixels[y * width + x]!;
      if (bpp === 8) b[row + x] = p[0]!;
      else b.set([p[2]!, p[1]!, p[0]!], row + x * (bpp / 8));
    }
  }
  return b;
}

describe('decodeImage on BMP files', () => {
  const colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30], [200, 100, 50], [1, 2, 3], [90, 80, 70], [7, 7, 7], [250, 251, 252]];

  for (const [name, spec] of [
    ['24-bit bottom-up', { width: 3, height: 3, bpp: 24, pixels: colours }],
    ['32-bit top-down', { width: 3, height: 3, bpp: 32, topDown: true, pixels: colours }],
    ['8-bit palette', { width: 3, height: 3, bpp: 8, palette: colours, pixels: colours.map((_, i) => [8 - i]) }],
  ] as const) {
    it(`reads ${name} pixels exactly`, async () => {
      const path = join(temp, `${name.replace(/\W/g, '_')}.bmp`);
      writeFileSync(path, bmp(spec as BmpSpec));
      const img = await decodeImage(path, 3, 'bicubic');
      const expected = spec.bpp === 8 ? spec.pixels.map(([i]) => colours[i!]!) : spec.pixels;
      expect([...img.data]).toEqual(expected.flat());
    });
  }

  it('resizes a BMP like any other image, and reports a truncated one', async () => {
    const pixels = Array.from({ length: 36 }, (_, i) => [i * 7, 255 - i * 7, (i * 31) % 256]);
    const path = join(temp, 'resize.bmp');
    writeFileSync(path, bmp({ width: 6, height: 6, bpp: 24, pixels }));
    const png = await write('resize.png', Buffer.from(pixels.flat()), 6, 6, 3, 'png');
    const [fromBmp, fromPng] = await Promise.all([decodeImage(path, 4, 'bilinear'), decodeImage(png, 4, 'bilinear')]);
    expect(maxDiff(fromBmp.data, fromPng.data)).toBe(0);
    const cut = join(temp, 'cut.bmp');
    writeFileSync(cut, bmp({ width: 6, height: 6, bpp: 24, pixels }).subarray(0, 80));
    expect((await rejection(decodeImage(cut, 4, 'bilinear'))).message).toBe(`${cut}: cannot decode image (truncated BMP pixel data)`);
  });
});
