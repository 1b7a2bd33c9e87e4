// Small synthetic RGB images, made in memory, for the tests of image operations.
import type { RgbImage } from '../../src/data/image.ts';

export function makeImage(w: number, h: number, f: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = f(x, y);
      const i = (y * w + x) * 3;
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
    }
  }
  return { width: w, height: h, data };
}

export function pixel(img: RgbImage, x: number, y: number): [number, number, number] {
  const i = (y * img.width + x) * 3;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
}

/** A deterministic "natural-ish" test image: smooth gradients plus a pseudo-random texture. */
export function textured(w: number, h: number, seed = 1): RgbImage {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
  return makeImage(w, h, (x, y) => [
    Math.min(255, Math.floor((x * 255) / w) + (next() & 15)),
    Math.min(255, Math.floor((y * 255) / h) + (next() & 15)),
    Math.min(255, ((x + y) * 3) % 200 + (next() & 31)),
  ]);
}
