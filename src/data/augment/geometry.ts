// Affine warps with the semantics of PIL's Image.transform(size, AFFINE, (a, b, c, d, e, f))
// and Image.rotate, as timm's RandAugment calls them (output size = input size, pixels that
// map outside the input get the fill colour).
//
// PIL facts reproduced here (libImaging/Geometry.c):
// * Inverse mapping: output pixel (x, y) samples the input at
//   (a (x+.5) + b (y+.5) + c, d (x+.5) + e (y+.5) + f), in pixel-edge coordinates.
// * A sample point outside [0, w) x [0, h) is "no pixel" and takes the fill colour.
// * Bilinear and bicubic read the 2x2 / 4x4 neighbourhood of (x - .5, y - .5) with indices
//   clamped to the image; bilinear truncates, bicubic (PIL's a = -1 kernel) clips then
//   truncates. Nearest uses PIL's 16.16 fixed-point path (or its scale-only path when b = d = 0).
// * rotate(angle) turns counter-clockwise about (w/2, h/2); the angle is taken mod 360, 0 is a
//   copy, 180 and (for square images) 90/270 are exact transposes; the matrix entries are
//   rounded to 15 decimals.

import type { RgbImage } from '../image.ts';
import type { Interpolation } from '../resize.ts';
import { blankLike, copyImage, type Fill } from './util.ts';

/** (a, b, c, d, e, f): input = (a x + b y + c, d x + e y + f) for output pixel centre (x, y). */
export type AffineMatrix = readonly [number, number, number, number, number, number];

/** Image.transform(img.size, AFFINE, m, resample, fillcolor=fill). */
export function affine(img: RgbImage, m: AffineMatrix, resample: Interpolation, fill: Fill): RgbImage {
  switch (resample) {
    case 'bilinear':
      return affineBilinear(img, m, fill);
    case 'bicubic':
      return affineBicubic(img, m, fill);
    case 'nearest':
      return affineNearest(img, m, fill);
    default:
      throw new Error(`affine: unknown resample '${String(resample)}'`);
  }
}

function fillImage(out: RgbImage, fill: Fill): void {
  const d = out.data;
  const f0 = fill[0];
  const f1 = fill[1];
  const f2 = fill[2];
  for (let i = 0; i < d.length; i += 3) {
    d[i] = f0;
    d[i + 1] = f1;
    d[i + 2] = f2;
  }
}

function affineBilinear(img: RgbImage, m: AffineMatrix, fill: Fill): RgbImage {
  const { width: w, height: h } = img;
  const src = img.data;
  const out = blankLike(img);
  const dst = out.data;
  const [a, b, c, d, e, f] = m;
  const row = w * 3;
  let o = 0;
  for (let y = 0; y < h; y++) {
    const yc = y + 0.5;
    const bx = b * yc + c;
    const by = e * yc + f;
    for (let x = 0; x < w; x++, o += 3) {
      const xc = x + 0.5;
      const xin = a * xc + bx;
      const yin = d * xc + by;
      if (!(xin >= 0 && xin < w && yin >= 0 && yin < h)) {
        dst[o] = fill[0];
        dst[o + 1] = fill[1];
        dst[o + 2] = fill[2];
        continue;
      }
      const xs = xin - 0.5;
      const ys = yin - 0.5;
      const x0 = Math.floor(xs);
      const y0 = Math.floor(ys);
      const dx = xs - x0;
      const dy = ys - y0;
      const xa = (x0 < 0 ? 0 : x0) * 3;
      const xb = (x0 + 1 >= w ? w - 1 : x0 + 1) * 3;
      const ra = (y0 < 0 ? 0 : y0) * row;
      const rb = (y0 + 1 >= h ? h - 1 : y0 + 1) * row;
      for (let ch = 0; ch < 3; ch++) {
        const p00 = src[ra + xa + ch]!;
        const p01 = src[ra + xb + ch]!;
        const p10 = src[rb + xa + ch]!;
        const p11 = src[rb + xb + ch]!;
        const v1 = p00 + (p01 - p00) * dx;
        const v2 = p10 + (p11 - p10) * dx;
        dst[o + ch] = v1 + (v2 - v1) * dy; // Uint8Array store truncates (value in [0, 255])
      }
    }
  }
  return out;
}

function cubic(v1: number, v2: number, v3: number, v4: number, d: number): number {
  const p1 = v2;
  const p2 = -v1 + v3;
  const p3 = 2 * (v1 - v2) + v3 - v4;
  const p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

function affineBicubic(img: RgbImage, m: AffineMatrix, fill: Fill): RgbImage {
  const { width: w, height: h } = img;
  const src = img.data;
  const out = blankLike(img);
  const dst = out.data;
  const [a, b, c, d, e, f] = m;
  const row = w * 3;
  const wm = w - 1;
  const hm = h - 1;
  let o = 0;
  for (let y = 0; y < h; y++) {
    const yc = y + 0.5;
    const bx = b * yc + c;
    const by = e * yc + f;
    for (let x = 0; x < w; x++, o += 3) {
      const xc = x + 0.5;
      const xin = a * xc + bx;
      const yin = d * xc + by;
      if (!(xin >= 0 && xin < w && yin >= 0 && yin < h)) {
        dst[o] = fill[0];
        dst[o + 1] = fill[1];
        dst[o + 2] = fill[2];
        continue;
      }
      const xs = xin - 0.5;
      const ys = yin - 0.5;
      const xf = Math.floor(xs);
      const yf = Math.floor(ys);
      const dx = xs - xf;
      const dy = ys - yf;
      // taps xf-1 .. xf+2 and yf-1 .. yf+2, clamped to the image
      const x0 = (xf - 1 < 0 ? 0 : xf - 1 > wm ? wm : xf - 1) * 3;
      const x1 = (xf < 0 ? 0 : xf > wm ? wm : xf) * 3;
      const x2 = (xf + 1 < 0 ? 0 : xf + 1 > wm ? wm : xf + 1) * 3;
      const x3 = (xf + 2 < 0 ? 0 : xf + 2 > wm ? wm : xf + 2) * 3;
      const r0 = (yf - 1 < 0 ? 0 : yf - 1 > hm ? hm : yf - 1) * row;
      const r1 = (yf < 0 ? 0 : yf > hm ? hm : yf) * row;
      const r2 = (yf + 1 < 0 ? 0 : yf + 1 > hm ? hm : yf + 1) * row;
      const r3 = (yf + 2 < 0 ? 0 : yf + 2 > hm ? hm : yf + 2) * row;
      for (let ch = 0; ch < 3; ch++) {
        const v1 = cubic(src[r0 + x0 + ch]!, src[r0 + x1 + ch]!, src[r0 + x2 + ch]!, src[r0 + x3 + ch]!, dx);
        const v2 = cubic(src[r1 + x0 + ch]!, src[r1 + x1 + ch]!, src[r1 + x2 + ch]!, src[r1 + x3 + ch]!, dx);
        const v3 = cubic(src[r2 + x0 + ch]!, src[r2 + x1 + ch]!, src[r2 + x2 + ch]!, src[r2 + x3 + ch]!, dx);
        const v4 = cubic(src[r3 + x0 + ch]!, src[r3 + x1 + ch]!, src[r3 + x2 + ch]!, src[r3 + x3 + ch]!, dx);
        const v = cubic(v1, v2, v3, v4, dy);
        dst[o + ch] = v <= 0 ? 0 : v >= 255 ? 255 : v;
      }
    }
  }
  return out;
}

/** COORD() of Geometry.c: -1 for negatives, else truncation. */
function coord(v: number): number {
  return v < 0 ? -1 : Math.trunc(v);
}

function fix16(v: number): number {
  return Math.floor(v * 65536 + 0.5);
}

function affineNearest(img: RgbImage, m: AffineMatrix, fill: Fill): RgbImage {
  const out = blankLike(img);
  fillImage(out, fill);
  const [a, b, c, d, e, f] = m;
  const { width: w, height: h } = img;
  const fits = (x: number, y: number) => Math.abs(x * a + y * b + c) < 32768 && Math.abs(x * d + y * e + f) < 32768;
  // PIL picks one of three loops, and their rounding differs: follow the same choice.
  if (b === 0 && d === 0) scaleNearest(img, m, out);
  else if (fits(0, 0) && fits(w, h) && fits(0, h) && fits(w, 0)) fixedPointNearest(img, m, out);
  else floatNearest(img, m, out);
  return out;
}

/** Copies source pixel (xi, yi) to output pixel (x, y) when the source lies inside the image. */
function copyPixel(src: Uint8Array, dst: Uint8Array, w: number, h: number, xi: number, yi: number, x: number, y: number): void {
  if (xi < 0 || xi >= w || yi < 0 || yi >= h) return;
  const s = (yi * w + xi) * 3;
  const o = (y * w + x) * 3;
  dst[o] = src[s]!;
  dst[o + 1] = src[s + 1]!;
  dst[o + 2] = src[s + 2]!;
}

/** ImagingScaleAffine: no rotation or shear; positions accumulated in doubles. */
function scaleNearest(img: RgbImage, m: AffineMatrix, out: RgbImage): void {
  const { width: w, height: h, data: src } = img;
  const [a, , c, , e, f] = m;
  const xin = new Int32Array(w);
  let xo = c + a * 0.5;
  for (let x = 0; x < w; x++) {
    xin[x] = coord(xo);
    xo += a;
  }
  let yo = f + e * 0.5;
  for (let y = 0; y < h; y++) {
    const yi = coord(yo);
    yo += e;
    for (let x = 0; x < w; x++) copyPixel(src, out.data, w, h, xin[x]!, yi, x, y);
  }
}

/** affine_fixed: 16.16 fixed point, positions accumulated in integers. */
function fixedPointNearest(img: RgbImage, m: AffineMatrix, out: RgbImage): void {
  const { width: w, height: h, data: src } = img;
  const [a, b, c, d, e, f] = m;
  const a0 = fix16(a);
  const a1 = fix16(b);
  const a3 = fix16(d);
  const a4 = fix16(e);
  let a2 = fix16(c + a * 0.5 + b * 0.5);
  let a5 = fix16(f + d * 0.5 + e * 0.5);
  for (let y = 0; y < h; y++) {
    let xx = a2;
    let yy = a5;
    for (let x = 0; x < w; x++) {
      copyPixel(src, out.data, w, h, xx >> 16, yy >> 16, x, y);
      xx = (xx + a0) | 0;
      yy = (yy + a3) | 0;
    }
    a2 = (a2 + a1) | 0;
    a5 = (a5 + a4) | 0;
  }
}

/** The floating-point loop of ImagingTransformAffine (huge offsets only). */
function floatNearest(img: RgbImage, m: AffineMatrix, out: RgbImage): void {
  const { width: w, height: h, data: src } = img;
  const [a, b, c, d, e, f] = m;
  let xo = c + b * 0.5 + a * 0.5;
  let yo = f + e * 0.5 + d * 0.5;
  for (let y = 0; y < h; y++) {
    let xx = xo;
    let yy = yo;
    for (let x = 0; x < w; x++) {
      copyPixel(src, out.data, w, h, coord(xx), coord(yy), x, y);
      xx += a;
      yy += d;
    }
    xo += b;
    yo += e;
  }
}

/** Python's round(v, 15), correctly rounded. */
function round15(v: number): number {
  return Number(v.toFixed(15));
}

/** Python's `angle % 360.0` (result in [0, 360)). */
function mod360(angle: number): number {
  const r = angle % 360;
  return r < 0 ? r + 360 : r;
}

/** The inverse-mapping matrix of Image.rotate(degrees) about the centre (w/2, h/2). */
export function rotationMatrix(degrees: number, width: number, height: number): AffineMatrix {
  const angle = -(mod360(degrees) * (Math.PI / 180));
  const cos = round15(Math.cos(angle));
  const sin = round15(Math.sin(angle));
  const nsin = round15(-Math.sin(angle));
  const cx = width / 2;
  const cy = height / 2;
  const c = cos * -cx + sin * -cy + cx;
  const f = nsin * -cx + cos * -cy + cy;
  return [cos, sin, c, nsin, cos, f];
}

/** Image.rotate(degrees, resample, fillcolor=fill): counter-clockwise, same size. */
export function rotate(img: RgbImage, degrees: number, resample: Interpolation, fill: Fill): RgbImage {
  const angle = mod360(degrees);
  const { width: w, height: h } = img;
  if (angle === 0) return copyImage(img);
  if (angle === 180) return transpose(img, 180);
  if ((angle === 90 || angle === 270) && w === h) return transpose(img, angle);
  return affine(img, rotationMatrix(angle, w, h), resample, fill);
}

/** Exact counter-clockwise quarter turns (PIL's ROTATE_90/180/270); 90/270 need a square image. */
export function transpose(img: RgbImage, quarter: 90 | 180 | 270): RgbImage {
  const { width: w, height: h } = img;
  if (quarter !== 180 && w !== h) throw new Error('transpose: 90/270 need a square image');
  const src = img.data;
  const out = blankLike(img);
  const dst = out.data;
  let o = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++, o += 3) {
      let sx: number;
      let sy: number;
      if (quarter === 90) {
        sx = w - 1 - y;
        sy = x;
      } else if (quarter === 270) {
        sx = y;
        sy = h - 1 - x;
      } else {
        sx = w - 1 - x;
        sy = h - 1 - y;
      }
      const s = (sy * w + sx) * 3;
      dst[o] = src[s]!;
      dst[o + 1] = src[s + 1]!;
      dst[o + 2] = src[s + 2]!;
    }
  }
  return out;
}

/** timm shear_x: matrix (1, factor, 0, 0, 1, 0) (shear about the top-left corner). */
export function shearX(img: RgbImage, factor: number, resample: Interpolation, fill: Fill): RgbImage {
  return affine(img, [1, factor, 0, 0, 1, 0], resample, fill);
}

/** timm shear_y: matrix (1, 0, 0, factor, 1, 0). */
export function shearY(img: RgbImage, factor: number, resample: Interpolation, fill: Fill): RgbImage {
  return affine(img, [1, 0, 0, factor, 1, 0], resample, fill);
}

/** timm translate_x: output(x) = input(x + pixels), i.e. content moves left for pixels > 0. */
export function translateX(img: RgbImage, pixels: number, resample: Interpolation, fill: Fill): RgbImage {
  return affine(img, [1, 0, pixels, 0, 1, 0], resample, fill);
}

/** timm translate_y: output(y) = input(y + pixels), i.e. content moves up for pixels > 0. */
export function translateY(img: RgbImage, pixels: number, resample: Interpolation, fill: Fill): RgbImage {
  return affine(img, [1, 0, 0, 0, 1, pixels], resample, fill);
}
