// PIL Image.transform(AFFINE) / Image.rotate semantics: inverse mapping of pixel centres,
// fill outside, and exact results where the sample points fall on pixel centres.
import { describe, expect, it } from 'vitest';
import {
  affine,
  rotate,
  rotationMatrix,
  shearX,
  shearY,
  translateX,
  translateY,
  transpose,
} from '../../../src/data/augment/geometry.ts';
import type { Interpolation as Resample } from '../../../src/data/resize.ts';
import type { Fill } from '../../../src/data/augment/util.ts';
import { makeImage, pixel, textured } from '../../helpers/images.ts';

const FILL: Fill = [128, 128, 128];
const RESAMPLES: Resample[] = ['nearest', 'bilinear', 'bicubic'];

describe('translate', () => {
  for (const r of RESAMPLES) {
    it(`moves a known pixel by whole pixels (${r})`, () => {
      const img = makeImage(10, 10, (x, y) => (x === 5 && y === 4 ? [255, 0, 0] : [0, 0, 255]));
      const tx = translateX(img, 3, r, FILL);
      expect(pixel(tx, 2, 4)).toEqual([255, 0, 0]); // output(x) = input(x + 3)
      expect(pixel(tx, 5, 4)).toEqual([0, 0, 255]);
      for (let y = 0; y < 10; y++) for (let x = 7; x < 10; x++) expect(pixel(tx, x, y)).toEqual([128, 128, 128]);
      const ty = translateY(img, -2, r, FILL);
      expect(pixel(ty, 5, 6)).toEqual([255, 0, 0]); // output(y) = input(y - 2)
      for (let x = 0; x < 10; x++) expect(pixel(ty, x, 0)).toEqual([128, 128, 128]);
      expect(Array.from(translateX(img, 0, r, FILL).data)).toEqual(Array.from(img.data));
    });
  }

  it('bilinear averages at half-pixel shifts; samples past the edge are fill', () => {
    const img = makeImage(4, 1, (x) => (x < 2 ? [0, 0, 0] : [100, 100, 100]));
    const red = (im: typeof img) => Array.from(im.data.filter((_, i) => i % 3 === 0));
    expect(red(translateX(img, 0.5, 'bilinear', FILL))).toEqual([0, 50, 100, 128]);
    // sample point 0.0 lies inside the image; its neighbours are clamped to the edge
    expect(red(translateX(img, -0.5, 'bilinear', FILL))).toEqual([0, 0, 50, 100]);
  });
});

describe('rotate', () => {
  it('90 degrees is counter-clockwise and equals the exact transpose', () => {
    const img = makeImage(5, 5, (x, y) => (x === 4 && y === 2 ? [255, 255, 255] : [x * 10, y * 10, 0]));
    const out = rotate(img, 90, 'bilinear', FILL);
    expect(pixel(out, 2, 0)).toEqual([255, 255, 255]); // right of centre -> above centre
    const m = rotationMatrix(90, 5, 5);
    for (const r of RESAMPLES) expect(Array.from(affine(img, m, r, FILL).data)).toEqual(Array.from(out.data));
    expect(Array.from(rotate(img, -90, 'bicubic', FILL).data)).toEqual(Array.from(transpose(img, 270).data));
    expect(Array.from(rotate(img, 180, 'bicubic', FILL).data)).toEqual(Array.from(transpose(img, 180).data));
    expect(Array.from(rotate(img, 360, 'bicubic', FILL).data)).toEqual(Array.from(img.data));
  });

  it('a small angle keeps the centre and fills the corners', () => {
    const img = makeImage(9, 9, (x, y) => (Math.abs(x - 4) <= 2 && Math.abs(y - 4) <= 2 ? [200, 150, 100] : [10, 20, 30]));
    for (const r of RESAMPLES) {
      for (const deg of [27, -27, 30]) {
        const out = rotate(img, deg, r, FILL);
        expect(pixel(out, 4, 4)).toEqual([200, 150, 100]);
        expect(pixel(out, 0, 0)).toEqual([128, 128, 128]);
        expect(pixel(out, 8, 8)).toEqual([128, 128, 128]);
      }
    }
  });

  it('the rotation matrix maps the centre to itself', () => {
    const [a, b, c, d, e, f] = rotationMatrix(23, 112, 112);
    expect(a * 56 + b * 56 + c).toBeCloseTo(56, 10);
    expect(d * 56 + e * 56 + f).toBeCloseTo(56, 10);
  });
});

describe('shear', () => {
  it('shear_x shifts row y by factor * (y + 0.5) about the top-left corner', () => {
    const img = textured(12, 10);
    for (const r of RESAMPLES) {
      const out = shearX(img, 0.4, r, FILL);
      // rows 2 and 7: shifts 1.0 and 3.0, exact samples
      for (const [y, s] of [[2, 1], [7, 3]] as const) {
        for (let x = 0; x < 12; x++) {
          expect(pixel(out, x, y)).toEqual(x + s < 12 ? pixel(img, x + s, y) : [128, 128, 128]);
        }
      }
    }
  });

  it('shear_y shifts column x by factor * (x + 0.5), and a negative factor the other way', () => {
    const img = textured(10, 12);
    const out = shearY(img, -0.4, 'bicubic', FILL);
    for (let y = 0; y < 12; y++) expect(pixel(out, 2, y)).toEqual(y - 1 >= 0 ? pixel(img, 2, y - 1) : [128, 128, 128]);
  });

  it('a zero factor is the identity', () => {
    const img = textured(7, 7);
    for (const r of RESAMPLES) expect(Array.from(shearX(img, 0, r, FILL).data)).toEqual(Array.from(img.data));
  });
});
