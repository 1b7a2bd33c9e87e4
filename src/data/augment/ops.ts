// Pixel-value operations with the semantics of PIL's ImageOps and ImageEnhance on an RGB image,
// as timm's RandAugment calls them. Every op returns a new image and leaves its input alone
// (an op that is an identity for its argument may return a copy).
//
// PIL facts reproduced here:
// * LUT ops are per channel; a LUT value outside [0, 255] is clipped when applied.
// * RGB -> L is (19595 R + 38470 G + 7471 B + 32768) >> 16 (ITU-R 601-2 in 16-bit fixed point).
// * Image.blend(a, b, alpha) computes a + alpha * (b - a) in float32 (alpha is a C float),
//   clips to [0, 255] and truncates; alpha 0 and 1 return copies of a and b.
// * ImageEnhance blends a "degenerate" image with the original by the factor: Color -> the
//   grey (L) image, Contrast -> a flat grey of int(mean(L) + 0.5), Brightness -> black,
//   Sharpness -> ImageFilter.SMOOTH (3x3 [[1,1,1],[1,5,1],[1,1,1]] / 13, rounded, with the
//   outermost rows and columns copied unchanged).

import type { RgbImage } from '../image.ts';
import { blankLike, copyImage } from './util.ts';

/** Apply a 256-entry LUT to every channel, or a 768-entry LUT (R, G, B blocks) per channel. */
export function applyLut(img: RgbImage, lut: ArrayLike<number>): RgbImage {
  const out = blankLike(img);
  const src = img.data;
  const dst = out.data;
  const n = src.length;
  if (lut.length === 256) {
    const l = toByteLut(lut);
    for (let i = 0; i < n; i++) dst[i] = l[src[i]!]!;
  } else if (lut.length === 768) {
    const l = toByteLut(lut);
    for (let i = 0; i < n; i += 3) {
      dst[i] = l[src[i]!]!;
      dst[i + 1] = l[256 + src[i + 1]!]!;
      dst[i + 2] = l[512 + src[i + 2]!]!;
    }
  } else {
    throw new Error(`applyLut: LUT must have 256 or 768 entries, got ${lut.length}`);
  }
  return out;
}

function toByteLut(lut: ArrayLike<number>): Uint8Array {
  if (lut instanceof Uint8Array) return lut;
  const l = new Uint8Array(lut.length);
  for (let i = 0; i < lut.length; i++) {
    const v = lut[i]!;
    l[i] = v <= 0 ? 0 : v >= 255 ? 255 : v; // PIL clips point() tables to 8 bits
  }
  return l;
}

/** Per-channel histograms: 768 counts, R then G then B. */
export function channelHistograms(img: RgbImage): Int32Array {
  const h = new Int32Array(768);
  const src = img.data;
  const n = src.length;
  for (let i = 0; i < n; i += 3) {
    h[src[i]!]!++;
    h[256 + src[i + 1]!]!++;
    h[512 + src[i + 2]!]!++;
  }
  return h;
}

/** ImageOps.invert: 255 - v. */
export function invert(img: RgbImage): RgbImage {
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = 255 - i;
  return applyLut(img, lut);
}

/** ImageOps.posterize: keep the `bits` most significant bits (0 gives black; >= 8 is identity). */
export function posterize(img: RgbImage, bits: number): RgbImage {
  if (!Number.isInteger(bits) || bits < 0) throw new Error(`posterize: bits must be an integer >= 0, got ${bits}`);
  if (bits >= 8) return copyImage(img);
  const mask = ~((1 << (8 - bits)) - 1) & 0xff;
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = i & mask;
  return applyLut(img, lut);
}

/** ImageOps.solarize: values >= threshold become 255 - v. */
export function solarize(img: RgbImage, threshold: number): RgbImage {
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = i < threshold ? i : 255 - i;
  return applyLut(img, lut);
}

/** timm's solarize_add: values below threshold get `add` added (capped at 255). */
export function solarizeAdd(img: RgbImage, add: number, threshold = 128): RgbImage {
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = i < threshold ? Math.min(255, i + add) : i;
  return applyLut(img, lut);
}

/**
 * ImageOps.autocontrast (cutoff 0): per channel, the lowest and highest present values are
 * stretched to 0 and 255 with lut[v] = int(v * scale + offset), scale = 255 / (hi - lo),
 * offset = -lo * scale, clipped; a channel with hi <= lo is left alone.
 */
export function autocontrast(img: RgbImage): RgbImage {
  const h = channelHistograms(img);
  const lut = new Uint8Array(768);
  for (let c = 0; c < 3; c++) {
    const b = c * 256;
    let lo = 0;
    while (lo < 256 && h[b + lo] === 0) lo++;
    let hi = 255;
    while (hi >= 0 && h[b + hi] === 0) hi--;
    if (hi <= lo) {
      for (let i = 0; i < 256; i++) lut[b + i] = i;
    } else {
      const scale = 255 / (hi - lo);
      const offset = -lo * scale;
      for (let i = 0; i < 256; i++) {
        const v = Math.trunc(i * scale + offset);
        lut[b + i] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return applyLut(img, lut);
}

/**
 * ImageOps.equalize: per channel, step = (N - count of the last present value) // 256; when
 * step is 0 (or only one value is present) the channel is unchanged, otherwise
 * lut[i] = (step // 2 + #pixels below i) // step, clipped to 255.
 */
export function equalize(img: RgbImage): RgbImage {
  const h = channelHistograms(img);
  const lut = new Uint8Array(768);
  for (let c = 0; c < 3; c++) {
    const b = c * 256;
    let total = 0;
    let present = 0;
    let last = 0;
    for (let i = 0; i < 256; i++) {
      const k = h[b + i]!;
      if (k) {
        total += k;
        present++;
        last = k;
      }
    }
    const step = present <= 1 ? 0 : Math.floor((total - last) / 256);
    if (step === 0) {
      for (let i = 0; i < 256; i++) lut[b + i] = i;
      continue;
    }
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      const v = Math.floor(n / step);
      lut[b + i] = v > 255 ? 255 : v;
      n += h[b + i]!;
    }
  }
  return applyLut(img, lut);
}

/** PIL's convert('L'): one byte per pixel. */
export function grayscale(img: RgbImage): Uint8Array {
  const src = img.data;
  const out = new Uint8Array(img.width * img.height);
  for (let p = 0, i = 0; p < out.length; p++, i += 3) {
    out[p] = (src[i]! * 19595 + src[i + 1]! * 38470 + src[i + 2]! * 7471 + 0x8000) >> 16;
  }
  return out;
}

/** fround(alpha * d) for d = -255..255 (index d + 255): the float32 product of Image.blend. */
function blendProducts(alpha: number): Float64Array {
  const t = new Float64Array(511);
  for (let d = -255; d <= 255; d++) t[d + 255] = Math.fround(alpha * d);
  return t;
}

/** One blended byte: float32 sum, clipped, truncated (Blend.c). */
function blendByte(a: number, b: number, prod: Float64Array): number {
  const t = Math.fround(a + prod[b - a + 255]!);
  return t <= 0 ? 0 : t >= 255 ? 255 : t | 0;
}

/** Image.blend with a constant degenerate value `deg` (same for all channels). */
function blendConstant(img: RgbImage, deg: number, factor: number): RgbImage {
  const alpha = Math.fround(factor);
  const lut = new Uint8Array(256);
  if (alpha === 0) lut.fill(deg);
  else if (alpha === 1) return copyImage(img);
  else {
    const prod = blendProducts(alpha);
    for (let v = 0; v < 256; v++) lut[v] = blendByte(deg, v, prod);
  }
  return applyLut(img, lut);
}

/** ImageEnhance.Brightness(img).enhance(factor): blend with black. */
export function enhanceBrightness(img: RgbImage, factor: number): RgbImage {
  return blendConstant(img, 0, factor);
}

/** ImageEnhance.Contrast(img).enhance(factor): blend with the flat mean grey of the L image. */
export function enhanceContrast(img: RgbImage, factor: number): RgbImage {
  const g = grayscale(img);
  let sum = 0;
  for (let i = 0; i < g.length; i++) sum += g[i]!;
  const mean = Math.trunc(sum / g.length + 0.5);
  return blendConstant(img, mean, factor);
}

/** ImageEnhance.Color(img).enhance(factor): blend with the grey image (L broadcast to RGB). */
export function enhanceColor(img: RgbImage, factor: number): RgbImage {
  const alpha = Math.fround(factor);
  if (alpha === 1) return copyImage(img);
  const g = grayscale(img);
  const out = blankLike(img);
  const src = img.data;
  const dst = out.data;
  if (alpha === 0) {
    for (let p = 0, i = 0; p < g.length; p++, i += 3) dst[i] = dst[i + 1] = dst[i + 2] = g[p]!;
    return out;
  }
  const prod = blendProducts(alpha);
  for (let p = 0, i = 0; p < g.length; p++, i += 3) {
    const l = g[p]!;
    dst[i] = blendByte(l, src[i]!, prod);
    dst[i + 1] = blendByte(l, src[i + 1]!, prod);
    dst[i + 2] = blendByte(l, src[i + 2]!, prod);
  }
  return out;
}

/**
 * ImageFilter.SMOOTH: interior pixels get round((8 neighbours + 5 * centre) / 13); the
 * first/last rows and columns are copied. (PIL adds 0.5 and truncates a float32 sum; since the
 * exact value is never within 1/26 of a .5 boundary, the integer form below is identical.)
 */
export function smooth(img: RgbImage): RgbImage {
  const { width: w, height: h } = img;
  const src = img.data;
  const out = copyImage(img);
  if (w < 3 || h < 3) return out;
  const dst = out.data;
  const row = w * 3;
  for (let y = 1; y < h - 1; y++) {
    const base = y * row;
    for (let i = base + 3; i < base + row - 3; i++) {
      const s =
        src[i - row - 3]! + src[i - row]! + src[i - row + 3]! +
        src[i - 3]! + 5 * src[i]! + src[i + 3]! +
        src[i + row - 3]! + src[i + row]! + src[i + row + 3]!;
      dst[i] = ((2 * s + 13) / 26) | 0;
    }
  }
  return out;
}

/** ImageEnhance.Sharpness(img).enhance(factor): blend with the SMOOTH-filtered image. */
export function enhanceSharpness(img: RgbImage, factor: number): RgbImage {
  const alpha = Math.fround(factor);
  if (alpha === 1) return copyImage(img);
  const deg = smooth(img);
  if (alpha === 0) return deg;
  const prod = blendProducts(alpha);
  const src = img.data;
  const d = deg.data;
  const n = src.length;
  for (let i = 0; i < n; i++) d[i] = blendByte(d[i]!, src[i]!, prod);
  return deg;
}
