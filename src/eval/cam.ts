// Class attention maps drawn over the face, the way the release's inference.py does it: the
// G x G map resized to the image with bilinear interpolation (OpenCV INTER_LINEAR), mapped
// through the jet colour map, blended half and half with the image and the blend rescaled so
// its brightest channel is 1. Unlike the release, the map is min-max normalised first: it
// feeds raw CAM values to uint8(255 * mask), which wraps around for values outside [0, 1].
import type { RgbImage } from '../data/image.ts';

/**
 * GNU Octave's (and so OpenCV's COLORMAP_JET) jet: dark blue (0, 0, 128) at 0, through cyan,
 * yellow and red, to dark red (128, 0, 0) at 1. Values outside [0, 1] are clamped.
 */
export function jet(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0));
  const ramp = (c: number) => Math.round(255 * Math.min(1, Math.max(0, Math.min(4 * x - c + 0.5, -4 * x + c + 2.5))));
  // Red peaks around 0.75, green around 0.5, blue around 0.25.
  return [ramp(2), ramp(1), ramp(0)];
}

/**
 * Bilinear resize of a single-channel [sh, sw] map to [dh, dw] with OpenCV's INTER_LINEAR
 * geometry: pixel centres aligned ((x + 0.5) * scale - 0.5), edges clamped.
 */
export function resizeBilinear(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  if (src.length !== sw * sh) throw new RangeError(`map has ${src.length} values, expected ${sw} x ${sh}`);
  const out = new Float32Array(dw * dh);
  const axis = (d: number, s: number, n: number): [number, number, number] => {
    const p = Math.min(s - 1, Math.max(0, (d + 0.5) * (s / n) - 0.5));
    const i0 = Math.floor(p);
    return [i0, Math.min(i0 + 1, s - 1), p - i0];
  };
  const cols = Array.from({ length: dw }, (_, x) => axis(x, sw, dw));
  for (let y = 0; y < dh; y++) {
    const [y0, y1, fy] = axis(y, sh, dh);
    for (let x = 0; x < dw; x++) {
      const [x0, x1, fx] = cols[x]!;
      const top = src[y0 * sw + x0]! * (1 - fx) + src[y0 * sw + x1]! * fx;
      const bottom = src[y1 * sw + x0]! * (1 - fx) + src[y1 * sw + x1]! * fx;
      out[y * dw + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** (v - min) / (max - min); a constant map becomes all zeros (nothing stands out). */
export function minMaxNormalize(a: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of a) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Float32Array(a.length);
  if (hi > lo) for (let i = 0; i < a.length; i++) out[i] = (a[i]! - lo) / (hi - lo);
  return out;
}

/** Side of a square map of `n` values. */
function squareSide(n: number): number {
  const g = Math.round(Math.sqrt(n));
  if (g * g !== n || g === 0) throw new RangeError(`a CAM of ${n} values is not a square grid`);
  return g;
}

/** Per-position maximum over the K maps of a [K, G, G] block: the release's inference.py view. */
export function maxOverClasses(cams: Float32Array, k: number): Float32Array {
  if (cams.length % k !== 0) throw new RangeError(`${cams.length} CAM values do not split into ${k} maps`);
  const n = cams.length / k;
  const out = cams.slice(0, n);
  for (let c = 1; c < k; c++) for (let i = 0; i < n; i++) out[i] = Math.max(out[i]!, cams[c * n + i]!);
  return out;
}

export interface OverlayOptions {
  /** Weight of the heat map in the blend; the image gets 1 - alpha. */
  alpha?: number;
}

/** The CAM (G x G, row-major) over the image, at the image's size. */
export function camOverlay(image: RgbImage, cam: Float32Array, opts: OverlayOptions = {}): RgbImage {
  const alpha = opts.alpha ?? 0.5;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`overlay alpha must be in [0, 1], got ${alpha}`);
  const { width, height, data } = image;
  if (data.length !== width * height * 3) throw new RangeError(`image data has ${data.length} bytes, expected ${width} x ${height} x 3`);
  const g = squareSide(cam.length);
  const mask = minMaxNormalize(resizeBilinear(cam, g, g, width, height));
  const blend = new Float64Array(data.length);
  let peak = 0;
  for (let p = 0; p < mask.length; p++) {
    const colour = jet(mask[p]!);
    for (let ch = 0; ch < 3; ch++) {
      const v = (alpha * colour[ch]! + (1 - alpha) * data[p * 3 + ch]!) / 255;
      blend[p * 3 + ch] = v;
      if (v > peak) peak = v;
    }
  }
  const out = new Uint8Array(data.length);
  // As the release: rescale so the brightest channel is 1, then truncate to uint8.
  if (peak > 0) for (let i = 0; i < out.length; i++) out[i] = Math.floor(255 * (blend[i]! / peak));
  return { width, height, data: out };
}
