// timm's RandomErasing (timm.data.random_erasing) on a normalised float HWC image, in place:
// with probability p, one box of area fraction U(min_area, max_area) and aspect ratio
// exp(U(log min_aspect, log max_aspect)) gets h = round(sqrt(area * ratio)) and
// w = round(sqrt(area / ratio)) (Python rounding); up to 10 tries until h < H and w < W, then
// top ~ U{0..H-h}, left ~ U{0..W-w}. The box is filled with per-pixel N(0, 1) values ('pixel'),
// one N(0, 1) value per channel ('rand') or zeros ('const').

import type { Rng } from '../../random.ts';
import { roundHalfEven } from './util.ts';

export type ErasingMode = 'pixel' | 'rand' | 'const';

export interface RandomErasingOptions {
  probability: number;
  mode: ErasingMode;
  /** Smallest box area as a fraction of the image (default 0.02). */
  minArea?: number;
  /** Largest box area as a fraction of the image (default 1/3). */
  maxArea?: number;
  /** Smallest aspect ratio h/w (default 0.3); the largest defaults to 1/minAspect. */
  minAspect?: number;
  maxAspect?: number;
  /** Tries to fit a box (default 10). */
  attempts?: number;
}

export interface ErasedBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * Erase (in place) at most one box of `data` (HWC, `channels` values per pixel). Returns the
 * box, or null when nothing was erased (the probability draw failed or no try fitted).
 */
export function randomErasing(
  data: Float32Array,
  width: number,
  height: number,
  channels: number,
  opts: RandomErasingOptions,
  rng: Rng,
): ErasedBox | null {
  if (data.length !== width * height * channels) {
    throw new Error(`randomErasing: ${data.length} values, expected ${width}x${height}x${channels}`);
  }
  const { probability, mode } = opts;
  if (mode !== 'pixel' && mode !== 'rand' && mode !== 'const') {
    throw new Error(`randomErasing: unknown mode '${String(mode)}' (pixel, rand or const)`);
  }
  if (probability <= 0) return null;
  if (rng.uniform() > probability) return null; // timm: `if random.random() > p: return`
  const minArea = opts.minArea ?? 0.02;
  const maxArea = opts.maxArea ?? 1 / 3;
  const minAspect = opts.minAspect ?? 0.3;
  const maxAspect = opts.maxAspect ?? 1 / minAspect;
  const logLo = Math.log(minAspect);
  const logHi = Math.log(maxAspect);
  const attempts = opts.attempts ?? 10;
  const area = width * height;
  for (let t = 0; t < attempts; t++) {
    const target = (minArea + (maxArea - minArea) * rng.uniform()) * area;
    const ratio = Math.exp(logLo + (logHi - logLo) * rng.uniform());
    const h = roundHalfEven(Math.sqrt(target * ratio));
    const w = roundHalfEven(Math.sqrt(target / ratio));
    if (w < width && h < height) {
      const top = rng.int(height - h + 1);
      const left = rng.int(width - w + 1);
      fillBox(data, width, channels, top, left, h, w, mode, rng);
      return { top, left, height: h, width: w };
    }
  }
  return null;
}

function fillBox(
  data: Float32Array,
  width: number,
  channels: number,
  top: number,
  left: number,
  h: number,
  w: number,
  mode: ErasingMode,
  rng: Rng,
): void {
  const row = width * channels;
  if (mode === 'pixel') {
    for (let y = top; y < top + h; y++) {
      const end = y * row + (left + w) * channels;
      for (let i = y * row + left * channels; i < end; i++) data[i] = rng.normal();
    }
    return;
  }
  const colour = new Float32Array(channels); // zeros for 'const'
  if (mode === 'rand') for (let c = 0; c < channels; c++) colour[c] = rng.normal();
  for (let y = top; y < top + h; y++) {
    for (let x = left; x < left + w; x++) {
      const i = y * row + x * channels;
      for (let c = 0; c < channels; c++) data[i + c] = colour[c]!;
    }
  }
}
