import { describe, expect, it } from 'vitest';
import { randomErasing, type ErasedBox } from '../../../src/data/augment/erasing.ts';
import { Rng } from '../../../src/random.ts';

const W = 112;
const H = 112;

describe('random erasing', () => {
  it('erases with probability 0.25, one box of area fraction ~[0.02, 1/3], aspect in [0.3, 1/0.3]', () => {
    const rng = new Rng(2048);
    const data = new Float32Array(W * H * 3);
    const boxes: ErasedBox[] = [];
    const draws = 2000;
    for (let i = 0; i < draws; i++) {
      const box = randomErasing(data, W, H, 3, { probability: 0.25, mode: 'const' }, rng);
      if (box) boxes.push(box);
    }
    expect(Math.abs(boxes.length / draws - 0.25)).toBeLessThan(0.03);
    for (const b of boxes) {
      const frac = (b.height * b.width) / (W * H);
      // h and w are rounded separately, so the area can leave [0.02, 1/3] by under a pixel row
      expect(frac).toBeGreaterThanOrEqual(0.02 * 0.85);
      expect(frac).toBeLessThanOrEqual((1 / 3) * 1.06);
      expect(b.height / b.width).toBeGreaterThan(0.3 * 0.85);
      expect(b.height / b.width).toBeLessThan((1 / 0.3) * 1.15);
      expect(b.top).toBeGreaterThanOrEqual(0);
      expect(b.left).toBeGreaterThanOrEqual(0);
      expect(b.top + b.height).toBeLessThanOrEqual(H);
      expect(b.left + b.width).toBeLessThanOrEqual(W);
    }
    const fracs = boxes.map((b) => (b.height * b.width) / (W * H));
    const mean = fracs.reduce((a, b) => a + b, 0) / fracs.length;
    expect(Math.abs(mean - (0.02 + 1 / 3) / 2)).toBeLessThan(0.02);
  });

  it("'pixel' fills the box with N(0, 1) values and touches nothing else", () => {
    const rng = new Rng(5);
    const values: number[] = [];
    let touchedOutside = 0;
    for (let i = 0; i < 40; i++) {
      const data = new Float32Array(W * H * 3).fill(7);
      const box = randomErasing(data, W, H, 3, { probability: 1, mode: 'pixel' }, rng)!;
      expect(box).not.toBeNull();
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const inside = y >= box.top && y < box.top + box.height && x >= box.left && x < box.left + box.width;
          for (let c = 0; c < 3; c++) {
            const v = data[(y * W + x) * 3 + c]!;
            if (inside) values.push(v);
            else if (v !== 7) touchedOutside++;
          }
        }
      }
    }
    expect(touchedOutside).toBe(0);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 1)).toBeLessThan(0.02);
  });

  it("'rand' uses one value per channel and 'const' zeros", () => {
    const rng = new Rng(6);
    const data = new Float32Array(W * H * 3).fill(7);
    const box = randomErasing(data, W, H, 3, { probability: 1, mode: 'rand' }, rng)!;
    const first = Array.from(data.subarray((box.top * W + box.left) * 3, (box.top * W + box.left) * 3 + 3));
    const last = (box.top + box.height - 1) * W + box.left + box.width - 1;
    expect(Array.from(data.subarray(last * 3, last * 3 + 3))).toEqual(first);
    expect(first.every((v) => v !== 7)).toBe(true);
    const zeros = new Float32Array(W * H * 3).fill(7);
    const b2 = randomErasing(zeros, W, H, 3, { probability: 1, mode: 'const' }, rng)!;
    expect(zeros[(b2.top * W + b2.left) * 3]).toBe(0);
  });

  it('probability 0 never draws and never erases', () => {
    const rng = new Rng(1);
    const state = rng.state();
    const data = new Float32Array(W * H * 3).fill(1);
    expect(randomErasing(data, W, H, 3, { probability: 0, mode: 'pixel' }, rng)).toBeNull();
    expect(rng.state()).toEqual(state);
    expect(data.every((v) => v === 1)).toBe(true);
  });

  it('gives up (no erase) when no box fits in 10 tries', () => {
    const rng = new Rng(1);
    const data = new Float32Array(2 * 2 * 3).fill(1);
    // on a 2x2 image a box of >= 90% of the area never has both sides < 2
    const box = randomErasing(data, 2, 2, 3, { probability: 1, mode: 'pixel', minArea: 0.9, maxArea: 1 }, rng);
    expect(box).toBeNull();
  });
});
