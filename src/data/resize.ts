// Resizing as PIL does it (Image.resize with BILINEAR or BICUBIC), bit for bit: a separable
// convolution whose support widens with the downscale factor (antialiasing), weights
// normalised per output pixel and rounded to 22-bit fixed point, a horizontal then a vertical
// pass, each rounded and clipped to 8 bits. The reference resizes with PIL; libvips' kernels
// differ by up to 25 levels, and this is also faster than sharp's resize on face-sized images.
import type { RgbImage } from './image.ts';

/** A resize filter, as PIL and torchvision name them. */
export type Interpolation = 'bicubic' | 'bilinear' | 'nearest';

/** Every filter, in the order messages list them. */
export const INTERPOLATIONS: readonly Interpolation[] = ['bilinear', 'bicubic', 'nearest'];

/** The filters computed here; 'nearest' is sharp's (decode.ts) or a plain lookup (augment/geometry.ts). */
export type ResampleFilter = Exclude<Interpolation, 'nearest'>;

const PRECISION_BITS = 32 - 8 - 2;

const FILTERS: Record<ResampleFilter, { support: number; weight: (x: number) => number }> = {
  bilinear: { support: 1, weight: (x) => (x < 0 ? -x : x) < 1 ? 1 - Math.abs(x) : 0 },
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

interface Coefficients {
  /** Taps per output pixel (the widest window). */
  taps: number;
  first: Int32Array;
  count: Int32Array;
  weights: Int32Array;
}

function coefficients(inSize: number, outSize: number, filter: ResampleFilter): Coefficients {
  const { support: base, weight } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = base * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const f = new Float64Array(taps);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(centre - support + 0.5));
    const n = Math.min(inSize, Math.trunc(centre + support + 0.5)) - lo;
    let total = 0;
    for (let i = 0; i < n; i++) {
      f[i] = weight((i + lo - centre + 0.5) / filterScale);
      total += f[i]!;
    }
    for (let i = 0; i < n; i++) {
      // PIL rounds half away from zero when it converts the normalised weights to fixed point.
      const w = total === 0 ? 0 : (f[i]! / total) * (1 << PRECISION_BITS);
      weights[o * taps + i] = w < 0 ? Math.trunc(w - 0.5) : Math.trunc(w + 0.5);
    }
    first[o] = lo;
    count[o] = n;
  }
  return { taps, first, count, weights };
}

const HALF = 1 << (PRECISION_BITS - 1);

function clip8(v: number): number {
  const x = v >> PRECISION_BITS;
  return x < 0 ? 0 : x > 255 ? 255 : x;
}

/** Resamples along x: [h, inW, 3] -> [h, outW, 3]. */
function horizontal(src: Uint8Array, inW: number, h: number, outW: number, c: Coefficients): Uint8Array {
  const dst = new Uint8Array(h * outW * 3);
  for (let y = 0; y < h; y++) {
    const srcRow = y * inW * 3;
    const dstRow = y * outW * 3;
    for (let x = 0; x < outW; x++) {
      const n = c.count[x]!;
      const wBase = x * c.taps;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      let p = srcRow + c.first[x]! * 3;
      for (let i = 0; i < n; i++, p += 3) {
        const w = c.weights[wBase + i]!;
        r += w * src[p]!;
        g += w * src[p + 1]!;
        b += w * src[p + 2]!;
      }
      const o = dstRow + x * 3;
      dst[o] = clip8(r);
      dst[o + 1] = clip8(g);
      dst[o + 2] = clip8(b);
    }
  }
  return dst;
}

/** Resamples along y: [inH, w, 3] -> [outH, w, 3]. */
function vertical(src: Uint8Array, w: number, outH: number, c: Coefficients): Uint8Array {
  const row = w * 3;
  const dst = new Uint8Array(outH * row);
  for (let y = 0; y < outH; y++) {
    const n = c.count[y]!;
    const wBase = y * c.taps;
    const start = c.first[y]! * row;
    const dstRow = y * row;
    for (let x = 0; x < row; x++) {
      let v = HALF;
      let p = start + x;
      for (let i = 0; i < n; i++, p += row) v += c.weights[wBase + i]! * src[p]!;
      dst[dstRow + x] = clip8(v);
    }
  }
  return dst;
}

const cache = new Map<string, Coefficients>();

function cachedCoefficients(inSize: number, outSize: number, filter: ResampleFilter): Coefficients {
  const key = `${inSize}|${outSize}|${filter}`;
  let c = cache.get(key);
  if (!c) {
    c = coefficients(inSize, outSize, filter);
    if (cache.size > 64) cache.clear();
    cache.set(key, c);
  }
  return c;
}

/** PIL's Image.resize((width, height), BILINEAR | BICUBIC) of an RGB image. */
export function resizeLikePil(img: RgbImage, width: number, height: number, filter: ResampleFilter): RgbImage {
  let data = img.data;
  let w = img.width;
  // PIL skips a pass whose size does not change.
  if (width !== img.width) {
    data = horizontal(data, img.width, img.height, width, cachedCoefficients(img.width, width, filter));
    w = width;
  }
  if (height !== img.height) data = vertical(data, w, height, cachedCoefficients(img.height, height, filter));
  return { width, height, data: data === img.data ? new Uint8Array(data) : data };
}
