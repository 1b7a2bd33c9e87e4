import { describe, expect, it } from 'vitest';
import { hflip, hflipFloat, randomHflip } from '../../../src/data/augment/flip.ts';
import { Rng } from '../../../src/random.ts';
import { pixel, textured } from '../../helpers/images.ts';

describe('horizontal flip', () => {
  const img = textured(7, 5);

  it('moves pixel (x, y) to (w - 1 - x, y)', () => {
    const out = hflip(img);
    for (let y = 0; y < 5; y++) for (let x = 0; x < 7; x++) expect(pixel(out, 6 - x, y)).toEqual(pixel(img, x, y));
  });

  it('twice is the identity', () => {
    expect(Array.from(hflip(hflip(img)).data)).toEqual(Array.from(img.data));
  });

  it('randomHflip flips with probability p', () => {
    const rng = new Rng(4);
    let flipped = 0;
    for (let i = 0; i < 2000; i++) if (randomHflip(img, 0.5, rng) !== img) flipped++;
    expect(Math.abs(flipped / 2000 - 0.5)).toBeLessThan(0.04);
    expect(randomHflip(img, 0, rng)).toBe(img);
    expect(randomHflip(img, 1, rng)).not.toBe(img);
  });

  it('hflipFloat mirrors an HWC float image', () => {
    const data = Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => i);
    const out = hflipFloat(data, 4, 2, 3);
    expect(Array.from(out.subarray(0, 3))).toEqual([9, 10, 11]);
    expect(Array.from(out.subarray(12, 15))).toEqual([21, 22, 23]);
    expect(Array.from(hflipFloat(out, 4, 2, 3))).toEqual(Array.from(data));
  });
});
