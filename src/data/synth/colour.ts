// Colours of a synthetic face and its scene, in 8-bit RGB.
import type { Rng } from '../../random.ts';
import { between, clamp } from './sampling.ts';

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

export function hsl(h: number, s: number, l: number): Rgb {
  // Standard HSL -> RGB with h in degrees.
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const hp = (((h % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r1, g1, b1] =
    hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = l - c / 2;
  const to8 = (v: number) => Math.round(clamp(v + m, 0, 1) * 255);
  return { r: to8(r1), g: to8(g1), b: to8(b1) };
}

export function randomColor(rng: Rng): Rgb {
  return hsl(between(rng, 0, 360), between(rng, 0.05, 0.8), between(rng, 0.15, 0.9));
}
