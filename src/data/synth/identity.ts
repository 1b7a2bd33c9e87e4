// Who a synthetic face is: face shape, colouring and feature geometry, drawn once per face;
// easier sets move everyone towards the average face.
import type { Rng } from '../../random.ts';
import { hsl, randomColor, type Rgb } from './colour.ts';
import { between, clamp } from './sampling.ts';

/** identitySpread as the difficulty goes to 0. */
const IDENTITY_SPREAD_MIN = 0.3;

export type HairStyle = 'none' | 'short' | 'long' | 'fringe';

export interface Identity {
  /** Half width and half height of the face, canonical units (the image is 100 wide). */
  faceW: number;
  faceH: number;
  /** Chin width relative to the face (narrow < 1 < broad). */
  chin: number;
  skin: Rgb;
  lips: Rgb;
  iris: Rgb;
  hair: Rgb;
  hairStyle: HairStyle;
  /** How far down the fringe reaches, 0 (forehead) .. 1 (over the brows). */
  fringeDepth: number;
  clothes: Rgb;
  eyeY: number;
  /** Half the distance between the eye centres. */
  eyeDx: number;
  eyeW: number;
  eyeH: number;
  irisR: number;
  browGap: number;
  browLen: number;
  browThick: number;
  noseY: number;
  noseW: number;
  mouthY: number;
  mouthW: number;
  lipThick: number;
}

export function sampleIdentity(rng: Rng): Identity {
  const skinL = between(rng, 0.22, 0.85);
  const skin = hsl(between(rng, 15, 38), between(rng, 0.25, 0.6), skinL);
  const lips = hsl(between(rng, 345, 375), between(rng, 0.3, 0.6), clamp(skinL * between(rng, 0.6, 0.85), 0.15, 0.7));
  const irisHue = [25, 30, 200, 110, 20][rng.int(5)]!;
  const iris = hsl(irisHue, between(rng, 0.2, 0.6), between(rng, 0.12, 0.4));
  const hair = hsl(between(rng, 15, 45), between(rng, 0.1, 0.6), between(rng, 0.05, 0.7));
  const hairStyle = (['none', 'short', 'short', 'long', 'long', 'fringe'] as const)[rng.int(6)]!;
  const faceW = between(rng, 26, 32);
  const faceH = between(rng, 34, 40);
  const eyeW = between(rng, 5, 6.6);
  return {
    faceW,
    faceH,
    chin: between(rng, 0.7, 1.1),
    skin,
    lips,
    iris,
    hair,
    hairStyle,
    fringeDepth: rng.uniform(),
    clothes: randomColor(rng),
    eyeY: between(rng, -6.5, -2.5),
    eyeDx: between(rng, 10.5, 13.5),
    eyeW,
    eyeH: eyeW * between(rng, 0.42, 0.55),
    irisR: eyeW * between(rng, 0.42, 0.52),
    browGap: between(rng, 6.5, 9),
    browLen: between(rng, 6, 8),
    browThick: between(rng, 1.3, 2.6),
    noseY: between(rng, 8, 12),
    noseW: between(rng, 3.3, 4.8),
    mouthY: between(rng, 19, 23),
    mouthW: between(rng, 8.5, 11),
    lipThick: between(rng, 1.4, 2.6),
  };
}

/**
 * How far each person stays from the average face at difficulty d: 1 at d = 1 (everyone as
 * drawn), falling with d so that easier sets hold people who look more alike (face shape,
 * feature placement and colouring), as a posed-expression set with few subjects does.
 */
export function identitySpread(d: number): number {
  return d >= 1 ? 1 : IDENTITY_SPREAD_MIN + (1 - IDENTITY_SPREAD_MIN) * d;
}

/** The middle of every range sampleIdentity draws from. */
const AVERAGE_FACE = {
  faceW: 29, faceH: 37, chin: 0.9, fringeDepth: 0.5, eyeY: -4.5, eyeDx: 12, eyeW: 5.8, eyeH: 5.8 * 0.485,
  irisR: 5.8 * 0.47, browGap: 7.75, browLen: 7, browThick: 1.95, noseY: 10, noseW: 4.05, mouthY: 21, mouthW: 9.75,
  lipThick: 2,
} as const satisfies Partial<Record<keyof Identity, number>>;
const AVERAGE_COLOURS = {
  skin: hsl(26.5, 0.425, 0.535),
  lips: hsl(0, 0.45, 0.39),
  iris: hsl(25, 0.4, 0.26),
  hair: hsl(30, 0.35, 0.375),
  clothes: hsl(210, 0.4, 0.5),
} as const satisfies Partial<Record<keyof Identity, Rgb>>;

/** `id` moved to `spread` of its distance from the average face (hair style kept). */
export function towardsAverage(id: Identity, spread: number): Identity {
  const out = { ...id };
  const mix = (x: number, mean: number) => mean + spread * (x - mean);
  for (const [k, mean] of Object.entries(AVERAGE_FACE) as [keyof typeof AVERAGE_FACE, number][]) out[k] = mix(id[k], mean);
  for (const [k, mean] of Object.entries(AVERAGE_COLOURS) as [keyof typeof AVERAGE_COLOURS, Rgb][]) {
    const c = id[k];
    out[k] = { r: Math.round(mix(c.r, mean.r)), g: Math.round(mix(c.g, mean.g)), b: Math.round(mix(c.b, mean.b)) };
  }
  return out;
}
