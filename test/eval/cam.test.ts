// CAM pixel maths: the jet colour map, OpenCV-style bilinear resize, normalisation, overlay.
import { describe, expect, it } from 'vitest';
import { camOverlay, jet, maxOverClasses, minMaxNormalize, resizeBilinear } from '../../src/eval/cam.ts';
import { createImage } from '../../src/data/image.ts';

describe('jet', () => {
  it('runs from dark blue at 0 to dark red at 1', () => {
    expect(jet(0)).toEqual([0, 0, 128]);
    expect(jet(1)).toEqual([128, 0, 0]);
    expect(jet(0.5)).toEqual([128, 255, 128]);
    const [r, g, b] = jet(0.25);
    expect(b).toBe(255);
    expect(r).toBe(0);
    expect(g).toBeGreaterThan(100);
  });

  it('clamps out-of-range and non-finite values', () => {
    expect(jet(-3)).toEqual(jet(0));
    expect(jet(7)).toEqual(jet(1));
    expect(jet(Number.NaN)).toEqual(jet(0));
  });
});

describe('resizeBilinear', () => {
  it('follows OpenCV INTER_LINEAR: aligned pixel centres, clamped edges', () => {
    // 2 -> 4 along x: cv2.resize([[0, 1]], (4, 1)) = [0, 0.25, 0.75, 1].
    expect(Array.from(resizeBilinear(Float32Array.from([0, 1]), 2, 1, 4, 1))).toEqual([0, 0.25, 0.75, 1]);
    const up = resizeBilinear(Float32Array.from([0, 1, 2, 3]), 2, 2, 4, 4);
    expect(up[0]).toBe(0);
    expect(up[15]).toBe(3);
    // (1, 1) samples the source at (0.25, 0.25).
    expect(up[1 * 4 + 1]).toBeCloseTo(0.75 * (0.25 * 1) + 0.25 * (0.75 * 2 + 0.25 * 3), 6);
  });

  it('keeps a constant map constant and the same size map unchanged', () => {
    expect(Array.from(resizeBilinear(new Float32Array(9).fill(2), 3, 3, 5, 7)).every((v) => v === 2)).toBe(true);
    const src = Float32Array.from({ length: 12 }, (_, i) => i * i);
    expect(resizeBilinear(src, 4, 3, 4, 3)).toEqual(src);
  });
});

describe('minMaxNormalize and maxOverClasses', () => {
  it('maps to [0, 1] and a flat map to zeros', () => {
    expect(Array.from(minMaxNormalize(Float32Array.from([-2, 0, 2])))).toEqual([0, 0.5, 1]);
    expect(Array.from(minMaxNormalize(Float32Array.from([3, 3])))).toEqual([0, 0]);
  });

  it('takes the per-position maximum over classes', () => {
    expect(Array.from(maxOverClasses(Float32Array.from([1, 5, 3, 2, 4, 0]), 2))).toEqual([2, 5, 3]);
  });
});

describe('camOverlay', () => {
  it('keeps the image size and puts red where the map peaks, blue where it is low', () => {
    const image = createImage(40, 24, 128);
    const cam = new Float32Array(49);
    cam[0] = 10; // top-left cell of the 7 x 7 grid
    const out = camOverlay(image, cam);
    expect(out.width).toBe(40);
    expect(out.height).toBe(24);
    expect(out.data).toHaveLength(40 * 24 * 3);
    const px = (x: number, y: number) => Array.from(out.data.subarray((y * 40 + x) * 3, (y * 40 + x) * 3 + 3));
    const [r0, , b0] = px(0, 0);
    expect(r0).toBeGreaterThan(b0! + 50);
    const [r1, , b1] = px(39, 23);
    expect(b1).toBeGreaterThan(r1! + 50);
  });

  it('is the plain image blend when alpha is 0, rescaled to full brightness', () => {
    const image = createImage(2, 2, 100);
    const out = camOverlay(image, Float32Array.from([0, 1, 2, 3]), { alpha: 0 });
    expect(Array.from(out.data).every((v) => v === 255)).toBe(true);
  });

  it('rejects a map that is not a square grid and a bad alpha', () => {
    expect(() => camOverlay(createImage(4, 4), new Float32Array(10))).toThrow(/square grid/);
    expect(() => camOverlay(createImage(4, 4), new Float32Array(4), { alpha: 2 })).toThrow(/alpha/);
  });
});
