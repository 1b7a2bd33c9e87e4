// The small draws every part of a face spec is made of.
import type { Rng } from '../../random.ts';

export const between = (rng: Rng, a: number, b: number): number => a + (b - a) * rng.uniform();
export const chance = (rng: Rng, p: number): boolean => rng.uniform() < p;
export const clamp = (x: number, a: number, b: number): number => Math.min(b, Math.max(a, x));
