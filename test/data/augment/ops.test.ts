// PIL ImageOps / ImageEnhance semantics of the colour and point ops, on known inputs.
import { describe, expect, it } from 'vitest';
import {
  autocontrast,
  enhanceBrightness,
  enhanceColor,
  enhanceContrast,
  enhanceSharpness,
  equalize,
  grayscale,
  invert,
  posterize,
  smooth,
  solarize,
  solarizeAdd,
} from '../../../src/data/augment/ops.ts';
import { makeImage, pixel, textured } from '../../helpers/images.ts';

const ramp = makeImage(16, 16, (x, y) => {
  const v = y * 16 + x;
  return [v, 255 - v, (v * 7) % 256];
});

function mapAll(img: typeof ramp, f: (v: number) => number): number[] {
  return Array.from(img.data, f);
}

describe('point ops', () => {
  it('invert gives 255 - v', () => {
    expect(Array.from(invert(ramp).data)).toEqual(mapAll(ramp, (v) => 255 - v));
  });

  it('posterize keeps the top bits', () => {
    expect(Array.from(posterize(ramp, 2).data)).toEqual(mapAll(ramp, (v) => v & 0xc0));
    expect(Array.from(posterize(ramp, 4).data)).toEqual(mapAll(ramp, (v) => v & 0xf0));
    expect(Array.from(posterize(ramp, 0).data).every((v) => v === 0)).toBe(true);
    expect(Array.from(posterize(ramp, 8).data)).toEqual(Array.from(ramp.data));
  });

  it('solarize inverts values at or above the threshold', () => {
    expect(Array.from(solarize(ramp, 128).data)).toEqual(mapAll(ramp, (v) => (v < 128 ? v : 255 - v)));
    expect(Array.from(solarize(ramp, 256).data)).toEqual(Array.from(ramp.data));
    expect(Array.from(solarize(ramp, 0).data)).toEqual(mapAll(ramp, (v) => 255 - v));
  });

  it('solarize_add adds to values below 128, capped at 255', () => {
    expect(Array.from(solarizeAdd(ramp, 99).data)).toEqual(mapAll(ramp, (v) => (v < 128 ? Math.min(255, v + 99) : v)));
  });

  it('autocontrast stretches each channel from its own min/max', () => {
    // R spans 50..150, G is constant, B already spans 0..255
    const img = makeImage(101, 1, (x) => [50 + x, 77, x === 0 ? 0 : x === 100 ? 255 : 100]);
    const out = autocontrast(img);
    const scale = 255 / 100;
    for (let x = 0; x <= 100; x++) {
      const [r, g, b] = pixel(out, x, 0);
      expect(r).toBe(Math.trunc((50 + x) * scale - 50 * scale));
      expect(g).toBe(77);
      expect(b).toBe(pixel(img, x, 0)[2]);
    }
    expect(pixel(out, 0, 0)[0]).toBe(0);
    expect(pixel(out, 100, 0)[0]).toBe(255);
  });

  it('equalize maps a known histogram', () => {
    // 1024 pixels: 512 at 10, 256 at 100, 256 at 200 -> step = (1024 - 256) // 256 = 3,
    // lut[10] = 1 // 3 = 0, lut[100] = 513 // 3 = 171, lut[200] = 769 // 3 = 256 -> 255
    const img = makeImage(32, 32, (x, y) => {
      const i = y * 32 + x;
      const v = i < 512 ? 10 : i < 768 ? 100 : 200;
      return [v, v, v];
    });
    const out = equalize(img);
    expect(pixel(out, 0, 0)).toEqual([0, 0, 0]);
    expect(pixel(out, 0, 16)).toEqual([171, 171, 171]);
    expect(pixel(out, 31, 31)).toEqual([255, 255, 255]);
  });

  it('equalize leaves a channel with too few pixels (step 0) or one value alone', () => {
    const img = makeImage(4, 4, (x) => [x * 60, 9, x]);
    expect(Array.from(equalize(img).data)).toEqual(Array.from(img.data));
  });
});

describe('enhance ops', () => {
  it('grayscale uses PIL fixed-point ITU-R 601-2 weights', () => {
    const img = makeImage(5, 1, (x) => [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [10, 200, 30]][x] as [number, number, number]);
    const expected = [76, 150, 29, 255, Math.floor((10 * 19595 + 200 * 38470 + 30 * 7471 + 32768) / 65536)];
    expect(Array.from(grayscale(img))).toEqual(expected);
  });

  it('color factor 0 gives the grey image, 1 the original', () => {
    const img = textured(9, 7);
    const g = grayscale(img);
    const out = enhanceColor(img, 0);
    for (let p = 0; p < g.length; p++) expect(Array.from(out.data.subarray(p * 3, p * 3 + 3))).toEqual([g[p], g[p], g[p]]);
    expect(Array.from(enhanceColor(img, 1).data)).toEqual(Array.from(img.data));
  });

  it('color factor 2 extrapolates away from grey and clips', () => {
    const img = makeImage(1, 1, () => [200, 100, 50]);
    const l = grayscale(img)[0]!; // 124
    const expected = [200, 100, 50].map((v) => Math.max(0, Math.min(255, Math.trunc(l + 2 * (v - l)))));
    expect(pixel(enhanceColor(img, 2), 0, 0)).toEqual(expected);
  });

  it('brightness factor 0 is black, 0.5 halves (truncating), 2 doubles and clips', () => {
    const img = textured(8, 8);
    expect(Array.from(enhanceBrightness(img, 0).data).every((v) => v === 0)).toBe(true);
    expect(Array.from(enhanceBrightness(img, 0.5).data)).toEqual(mapAll(img, (v) => Math.trunc(v * 0.5)));
    expect(Array.from(enhanceBrightness(img, 2).data)).toEqual(mapAll(img, (v) => Math.min(255, 2 * v)));
  });

  it('contrast factor 0 is the flat mean grey', () => {
    const img = makeImage(4, 4, (x) => (x < 2 ? [0, 0, 0] : [200, 200, 200]));
    expect(Array.from(enhanceContrast(img, 0).data).every((v) => v === 100)).toBe(true);
    expect(Array.from(enhanceContrast(img, 1).data)).toEqual(Array.from(img.data));
  });

  it('sharpness blends with the 3x3 SMOOTH image, borders kept', () => {
    const img = makeImage(3, 3, (x, y) => (x === 1 && y === 1 ? [130, 13, 0] : [0, 0, 0]));
    const soft = smooth(img);
    expect(pixel(soft, 1, 1)).toEqual([50, 5, 0]); // round(5 * v / 13)
    expect(pixel(soft, 0, 0)).toEqual([0, 0, 0]);
    expect(Array.from(enhanceSharpness(img, 0).data)).toEqual(Array.from(soft.data));
    expect(Array.from(enhanceSharpness(img, 1).data)).toEqual(Array.from(img.data));
    expect(pixel(enhanceSharpness(img, 2), 1, 1)).toEqual([210, 21, 0]); // 2 * v - smooth
  });

  it('smooth keeps a flat image and the outer ring', () => {
    const flat = makeImage(6, 5, () => [37, 180, 255]);
    expect(Array.from(smooth(flat).data)).toEqual(Array.from(flat.data));
    const img = textured(6, 5);
    const s = smooth(img);
    for (let x = 0; x < 6; x++) {
      expect(pixel(s, x, 0)).toEqual(pixel(img, x, 0));
      expect(pixel(s, x, 4)).toEqual(pixel(img, x, 4));
    }
    for (let y = 0; y < 5; y++) {
      expect(pixel(s, 0, y)).toEqual(pixel(img, 0, y));
      expect(pixel(s, 5, y)).toEqual(pixel(img, 5, y));
    }
  });

  it('ops never modify their input', () => {
    const img = textured(10, 10);
    const before = img.data.slice();
    for (const f of [invert, autocontrast, equalize, (i: typeof img) => enhanceSharpness(i, 1.8), (i: typeof img) => enhanceColor(i, 0.3)]) {
      f(img);
      expect(Array.from(img.data)).toEqual(Array.from(before));
    }
  });
});
