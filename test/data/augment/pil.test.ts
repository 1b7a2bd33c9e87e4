// Bit-exact agreement with real PIL (Pillow) on the ops RandAugment uses. The fixture is made
// by fixtures/make_pil_ops.py, which calls PIL the way timm's auto_augment does.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rotate, shearX, shearY, translateX, translateY } from '../../../src/data/augment/geometry.ts';
import type { Interpolation as Resample } from '../../../src/data/resize.ts';
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
} from '../../../src/data/augment/ops.ts';
import type { Fill } from '../../../src/data/augment/util.ts';
import type { RgbImage } from '../../../src/data/image.ts';
import { toleranceOf } from '../../helpers/fixtures.ts';

interface Fixture {
  tolerance: number;
  pillow: string;
  fill: [number, number, number];
  images: Record<string, { width: number; height: number; data: string }>;
  cases: { image: string; op: string; arg: number | null; resample: Resample | null; data: string }[];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/pil_ops.json', import.meta.url), 'utf8')) as Fixture;
// 0: Pillow's bytes exactly
const TOL = toleranceOf(fixture);
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const images: Record<string, RgbImage> = Object.fromEntries(
  Object.entries(fixture.images).map(([k, v]) => [k, { width: v.width, height: v.height, data: bytes(v.data) }]),
);

function run(img: RgbImage, op: string, arg: number | null, resample: Resample | null, fill: Fill): RgbImage {
  const a = arg!;
  const r = resample!;
  switch (op) {
    case 'autocontrast':
      return autocontrast(img);
    case 'equalize':
      return equalize(img);
    case 'invert':
      return invert(img);
    case 'posterize':
      return posterize(img, a);
    case 'solarize':
      return solarize(img, a);
    case 'solarizeAdd':
      return solarizeAdd(img, a);
    case 'color':
      return enhanceColor(img, a);
    case 'contrast':
      return enhanceContrast(img, a);
    case 'brightness':
      return enhanceBrightness(img, a);
    case 'sharpness':
      return enhanceSharpness(img, a);
    case 'rotate':
      return rotate(img, a, r, fill);
    case 'shearX':
      return shearX(img, a, r, fill);
    case 'shearY':
      return shearY(img, a, r, fill);
    case 'translateXRel':
      return translateX(img, a * img.width, r, fill);
    case 'translateYRel':
      return translateY(img, a * img.height, r, fill);
    default:
      throw new Error(`unknown op ${op}`);
  }
}

describe(`bit-exact with Pillow ${fixture.pillow}`, () => {
  const groups = new Map<string, Fixture['cases']>();
  for (const c of fixture.cases) {
    const key = c.resample ? `${c.op} (${c.resample})` : c.op;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const [key, cases] of groups) {
    it(key, () => {
      const failures: string[] = [];
      for (const c of cases) {
        const img = images[c.image]!;
        const before = img.data.slice();
        const got = run(img, c.op, c.arg, c.resample, fixture.fill).data;
        const want = bytes(c.data);
        let diff = 0;
        let maxAbs = 0;
        for (let i = 0; i < want.length; i++) {
          const d = Math.abs(got[i]! - want[i]!);
          if (d > TOL) diff++;
          if (d > maxAbs) maxAbs = d;
        }
        if (diff) failures.push(`${c.image} arg=${c.arg}: ${diff}/${want.length} values differ (max ${maxAbs})`);
        expect(Array.from(img.data)).toEqual(Array.from(before));
      }
      expect(failures).toEqual([]);
    });
  }
});
