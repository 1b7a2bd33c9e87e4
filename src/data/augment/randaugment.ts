// timm's RandAugment (timm.data.auto_augment: rand_augment_transform / RandAugment / AugmentOp)
// on RgbImage, with every random draw taken from the Rng passed in.
//
// Per image: n op names are drawn uniformly with replacement (all n first), then each is run in
// turn. An op runs with probability p (default 0.5; skipped when u > p). Its magnitude is
// m + N(0, mstd) (or U(0, m) when mstd > 100, i.e. infinite), clipped to [0, mmax || 10]; the
// level functions always scale by timm's fixed denominator 10 (_LEVEL_DENOM), not by mmax.
// Random draws inside an op follow timm's order: prob, magnitude noise, sign, resample choice.

import type { Rng } from '../../random.ts';
import type { RgbImage } from '../image.ts';
import type { Interpolation } from '../resize.ts';
import { rotate, shearX, shearY, translateX, translateY } from './geometry.ts';
import {
  autocontrast,
  enhanceBrightness,
  enhanceColor,
  enhanceContrast,
  enhanceSharpness,
  equalize,
  invert,
  posterize,
  solarize,
  solarizeAdd,
} from './ops.ts';
import { checkImage, type Fill } from './util.ts';

/** timm's _LEVEL_DENOM: magnitude M maps to the fraction M / 10 of each op's range. */
export const LEVEL_DENOM = 10;

/** timm's _RAND_INCREASING_TRANSFORMS (spec `inc1`). */
export const RAND_INCREASING_OPS = [
  'AutoContrast',
  'Equalize',
  'Invert',
  'Rotate',
  'PosterizeIncreasing',
  'SolarizeIncreasing',
  'SolarizeAdd',
  'ColorIncreasing',
  'ContrastIncreasing',
  'BrightnessIncreasing',
  'SharpnessIncreasing',
  'ShearX',
  'ShearY',
  'TranslateXRel',
  'TranslateYRel',
] as const;

/** timm's _RAND_TRANSFORMS (the default set, without `inc1`). */
export const RAND_OPS = [
  'AutoContrast',
  'Equalize',
  'Invert',
  'Rotate',
  'Posterize',
  'Solarize',
  'SolarizeAdd',
  'Color',
  'Contrast',
  'Brightness',
  'Sharpness',
  'ShearX',
  'ShearY',
  'TranslateXRel',
  'TranslateYRel',
] as const;

export type RandOpName = (typeof RAND_INCREASING_OPS)[number] | (typeof RAND_OPS)[number];

export interface RandAugmentSpec {
  /** `m`: magnitude (default 10). */
  magnitude: number;
  /** `n`: ops per image (default 2). */
  numOps: number;
  /** `mstd`: std of the magnitude noise; Infinity (mstd > 100) samples U(0, m). Default 0. */
  magnitudeStd: number;
  /** `mmax`: upper clip of the magnitude; null means timm's default 10. */
  magnitudeMax: number | null;
  /** `inc`: use the "increasing" op set. */
  increasing: boolean;
  /** `p`: probability that each chosen op is applied (default 0.5). */
  prob: number;
}

const INTEGER = /^\d+$/;
const DECIMAL = /^\d+(\.\d*)?([eE][+-]?\d+)?$/;

/**
 * Parse a timm RandAugment spec such as `rand-m9-mstd0.5-inc1`: sections separated by '-', the
 * first `rand`, the others a key followed by its number (m, n, mstd, mmax, inc, p). Anything
 * else (an unknown key, a missing or malformed number, a repeated key) is rejected with an
 * error naming the section.
 */
export function parseRandAugmentSpec(spec: string): RandAugmentSpec {
  const parts = spec.trim().split('-');
  if (parts[0] !== 'rand') {
    throw new Error(`RandAugment spec '${spec}': must start with 'rand' (got '${parts[0]}')`);
  }
  const out: RandAugmentSpec = {
    magnitude: LEVEL_DENOM,
    numOps: 2,
    magnitudeStd: 0,
    magnitudeMax: null,
    increasing: false,
    prob: 0.5,
  };
  const seen = new Set<string>();
  for (const part of parts.slice(1)) {
    const bad = (why: string): never => {
      throw new Error(`RandAugment spec '${spec}': bad section '${part}': ${why}`);
    };
    const at = part.search(/\d/); // timm splits a section at its first digit
    if (part === '') bad('empty section');
    if (at <= 0) bad(at === 0 ? 'missing key before the number' : 'expected a key followed by a number, e.g. m9');
    const key = part.slice(0, at);
    const val = part.slice(at);
    if (seen.has(key)) bad(`key '${key}' given twice`);
    seen.add(key);
    const int = (): number => {
      if (!INTEGER.test(val)) bad(`'${key}' needs a non-negative integer, got '${val}'`);
      return Number(val);
    };
    const dec = (): number => {
      if (!DECIMAL.test(val)) bad(`'${key}' needs a non-negative number, got '${val}'`);
      return Number(val);
    };
    switch (key) {
      case 'm':
        out.magnitude = int();
        break;
      case 'n':
        out.numOps = int();
        break;
      case 'mstd': {
        const s = dec();
        out.magnitudeStd = s > 100 ? Infinity : s;
        break;
      }
      case 'mmax':
        out.magnitudeMax = int();
        break;
      case 'inc': {
        const v = int();
        if (v > 1) bad(`'inc' must be 0 or 1, got '${val}'`);
        out.increasing = v === 1;
        break;
      }
      case 'p': {
        const p = dec();
        if (p > 1) bad(`'p' must be in [0, 1], got '${val}'`);
        out.prob = p;
        break;
      }
      case 'w':
        bad("weighted op choice ('w') is not supported");
        break;
      default:
        bad(`unknown key '${key}' (known: m, n, mstd, mmax, inc, p)`);
    }
  }
  return out;
}

export interface RandAugmentOptions {
  /** Fill colour of the geometric ops (timm: round(255 * mean)); default (128, 128, 128). */
  fill?: Fill;
  /**
   * Resampling of the geometric ops. timm uses the transform's interpolation when one is given
   * ('bicubic' in the release), and picks bilinear or bicubic at random per op only when the
   * interpolation is unset or 'random'.
   */
  resample?: Interpolation | 'random';
  /** Range of TranslateXRel/YRel as a fraction of the size (timm default 0.45). */
  translatePct?: number;
}

/** timm's _randomly_negate: negative when u > 0.5. */
function randomlyNegate(v: number, rng: Rng): number {
  return rng.uniform() > 0.5 ? -v : v;
}

/** The magnitude one op uses: m plus noise, clipped (AugmentOp.__call__). */
export function sampleMagnitude(spec: RandAugmentSpec, rng: Rng): number {
  let m = spec.magnitude;
  if (spec.magnitudeStd > 0) {
    m = spec.magnitudeStd === Infinity ? rng.uniform() * m : m + spec.magnitudeStd * rng.normal();
  }
  const upper = spec.magnitudeMax || LEVEL_DENOM; // timm: `magnitude_max or _LEVEL_DENOM`
  return Math.max(0, Math.min(m, upper));
}

/** The argument timm's level function gives op `name` at magnitude `m` (signed ops draw a sign). */
export function levelToArg(name: RandOpName, m: number, rng: Rng, translatePct = 0.45): number | null {
  const frac = m / LEVEL_DENOM;
  switch (name) {
    case 'AutoContrast':
    case 'Equalize':
    case 'Invert':
      return null;
    case 'Rotate':
      return randomlyNegate(frac * 30, rng);
    case 'Posterize':
      return Math.trunc(frac * 4);
    case 'PosterizeIncreasing':
      return 4 - Math.trunc(frac * 4);
    case 'Solarize':
      return Math.trunc(frac * 256);
    case 'SolarizeIncreasing':
      return 256 - Math.trunc(frac * 256);
    case 'SolarizeAdd':
      return Math.trunc(frac * 110);
    case 'Color':
    case 'Contrast':
    case 'Brightness':
    case 'Sharpness':
      return frac * 1.8 + 0.1;
    case 'ColorIncreasing':
    case 'ContrastIncreasing':
    case 'BrightnessIncreasing':
    case 'SharpnessIncreasing':
      return Math.max(0.1, 1 + randomlyNegate(frac * 0.9, rng));
    case 'ShearX':
    case 'ShearY':
      return randomlyNegate(frac * 0.3, rng);
    case 'TranslateXRel':
    case 'TranslateYRel':
      return randomlyNegate(frac * translatePct, rng);
    default:
      throw new Error(`RandAugment: unknown op '${String(name)}'`);
  }
}

const DEFAULT_FILL: Fill = [128, 128, 128];

/**
 * Run op `name` at magnitude `m` (after noise and clipping) on `img`, drawing its sign and, for
 * resample 'random', its filter from `rng`. Returns a new image.
 */
export function applyOp(name: RandOpName, img: RgbImage, m: number, rng: Rng, opts: RandAugmentOptions = {}): RgbImage {
  const arg = levelToArg(name, m, rng, opts.translatePct ?? 0.45);
  const fill = opts.fill ?? DEFAULT_FILL;
  const mode = opts.resample ?? 'random';
  const resample = (): Interpolation => (mode === 'random' ? (rng.int(2) === 0 ? 'bilinear' : 'bicubic') : mode);
  switch (name) {
    case 'AutoContrast':
      return autocontrast(img);
    case 'Equalize':
      return equalize(img);
    case 'Invert':
      return invert(img);
    case 'Rotate':
      return rotate(img, arg!, resample(), fill);
    case 'Posterize':
    case 'PosterizeIncreasing':
      return posterize(img, arg!);
    case 'Solarize':
    case 'SolarizeIncreasing':
      return solarize(img, arg!);
    case 'SolarizeAdd':
      return solarizeAdd(img, arg!);
    case 'Color':
    case 'ColorIncreasing':
      return enhanceColor(img, arg!);
    case 'Contrast':
    case 'ContrastIncreasing':
      return enhanceContrast(img, arg!);
    case 'Brightness':
    case 'BrightnessIncreasing':
      return enhanceBrightness(img, arg!);
    case 'Sharpness':
    case 'SharpnessIncreasing':
      return enhanceSharpness(img, arg!);
    case 'ShearX':
      return shearX(img, arg!, resample(), fill);
    case 'ShearY':
      return shearY(img, arg!, resample(), fill);
    case 'TranslateXRel':
      return translateX(img, arg! * img.width, resample(), fill);
    case 'TranslateYRel':
      return translateY(img, arg! * img.height, resample(), fill);
    default:
      throw new Error(`RandAugment: unknown op '${String(name)}'`);
  }
}

/** One applied (or skipped) op, for inspection and tests. */
export interface RandOpRecord {
  name: RandOpName;
  applied: boolean;
  magnitude?: number;
}

export class RandAugment {
  readonly spec: RandAugmentSpec;
  readonly ops: readonly RandOpName[];
  private readonly opts: RandAugmentOptions;

  constructor(spec: string | RandAugmentSpec, opts: RandAugmentOptions = {}) {
    this.spec = typeof spec === 'string' ? parseRandAugmentSpec(spec) : { ...spec };
    this.ops = this.spec.increasing ? RAND_INCREASING_OPS : RAND_OPS;
    const fill = opts.fill ?? DEFAULT_FILL;
    if (fill.length !== 3 || fill.some((v) => !Number.isInteger(v) || v < 0 || v > 255)) {
      throw new Error(`RandAugment: fill must be three integers in [0, 255], got [${fill.join(', ')}]`);
    }
    this.opts = { fill, resample: opts.resample ?? 'random', translatePct: opts.translatePct ?? 0.45 };
  }

  /** Augment `img` (not modified); `trace`, when given, receives what was done. */
  apply(img: RgbImage, rng: Rng, trace?: RandOpRecord[]): RgbImage {
    checkImage(img);
    const n = this.spec.numOps;
    const chosen: RandOpName[] = [];
    for (let i = 0; i < n; i++) chosen.push(this.ops[rng.int(this.ops.length)]!);
    let out = img;
    for (const name of chosen) {
      const p = this.spec.prob;
      if (p < 1 && rng.uniform() > p) {
        trace?.push({ name, applied: false });
        continue;
      }
      const m = sampleMagnitude(this.spec, rng);
      out = applyOp(name, out, m, rng, this.opts);
      trace?.push({ name, applied: true, magnitude: m });
    }
    return out;
  }
}
