// What varies around a synthetic face without telling its class: pose, background,
// occlusions and image degradations, each scaled by the set's difficulty.
import type { Rng } from '../../random.ts';
import { hsl, randomColor, type Rgb } from './colour.ts';
import type { Identity } from './identity.ts';
import { between, chance, clamp } from './sampling.ts';

/** Easier sets zoom the face by 1 + ALIGNED_ZOOM * (1 - difficulty)... */
const ALIGNED_ZOOM = 1;
/** ...and move the point this far below the face centre (between brows and mouth, face units) towards the image centre. */
const ALIGNED_CENTRE_Y = 5;

export interface Pose {
  /** Face centre offset from the image centre, canonical units. */
  dx: number;
  dy: number;
  scale: number;
  /** In-plane rotation, degrees. */
  angle: number;
  /** Sideways gaze shift of the irises, -1 .. 1. */
  gaze: number;
  /** Mirror the face (puts a one-sided sneer on either side). */
  mirror: boolean;
}

export interface Shape {
  kind: 'circle' | 'rect';
  x: number;
  y: number;
  w: number;
  h: number;
  angle: number;
  color: Rgb;
  opacity: number;
}

export interface Background {
  from: Rgb;
  to: Rgb;
  /** Gradient direction, radians. */
  direction: number;
  shapes: Shape[];
  /** Stripe pattern over the background: period in canonical units, 0 = none. */
  stripes: number;
  stripeAngle: number;
}

export type Occlusion =
  | { kind: 'glasses'; tint: number; frame: Rgb; thick: number; round: boolean }
  | { kind: 'hand'; x: number; y: number; angle: number; size: number }
  | { kind: 'rect'; x: number; y: number; w: number; h: number; angle: number; color: Rgb };

export interface Degradation {
  /** Side light: strength 0 .. 1 and direction, radians. */
  light: number;
  lightDirection: number;
  /** Gaussian pixel noise, std in 0..255 units. */
  noise: number;
  /** Gaussian blur sigma in canonical units (0 = none). */
  blur: number;
  grayscale: boolean;
  /** Seed of the per-pixel noise of this image. */
  noiseSeed: number;
}

export function samplePose(rng: Rng, d: number): Pose {
  const pose: Pose = {
    dx: d * rng.normal() * 3.5,
    dy: d * rng.normal() * 3,
    scale: between(rng, 0.95, 0.95 + 0.33 * d),
    angle: clamp(d * rng.normal() * 8, -22, 22),
    gaze: clamp(rng.normal() * 0.35, -1, 1),
    mirror: chance(rng, 0.5),
  };
  if (d < 1) {
    // Easier sets frame the face as an aligned face crop does: zoomed in on brows to mouth,
    // that region centred. The jitter scales with the face.
    const zoom = 1 + ALIGNED_ZOOM * (1 - d);
    pose.scale *= zoom;
    pose.dx *= zoom;
    pose.dy = pose.dy * zoom - ALIGNED_CENTRE_Y * (1 - d) * pose.scale;
  }
  return pose;
}

export function sampleBackground(rng: Rng, d: number): Background {
  const shapes: Shape[] = [];
  const nShapes = Math.round(rng.int(6) * d);
  for (let i = 0; i < nShapes; i++) {
    shapes.push({
      kind: chance(rng, 0.5) ? 'circle' : 'rect',
      x: between(rng, 0, 100),
      y: between(rng, 0, 100),
      w: between(rng, 8, 45),
      h: between(rng, 8, 45),
      angle: between(rng, 0, 180),
      color: randomColor(rng),
      opacity: between(rng, 0.2, 0.8),
    });
  }
  return {
    from: randomColor(rng),
    to: randomColor(rng),
    direction: between(rng, 0, 2 * Math.PI),
    shapes,
    stripes: chance(rng, 0.15 * d) ? between(rng, 3, 10) : 0,
    stripeAngle: between(rng, 0, 180),
  };
}

export function sampleOcclusions(rng: Rng, identity: Identity, d: number): Occlusion[] {
  const occlusions: Occlusion[] = [];
  if (chance(rng, 0.14 * d)) {
    const sunglasses = chance(rng, 0.35);
    occlusions.push({
      kind: 'glasses',
      tint: sunglasses ? between(rng, 0.55, 0.9) : between(rng, 0, 0.15),
      frame: hsl(between(rng, 0, 360), between(rng, 0, 0.5), between(rng, 0.05, 0.5)),
      thick: between(rng, 0.8, 2),
      round: chance(rng, 0.5),
    });
  }
  if (chance(rng, 0.07 * d)) {
    // A hand at the chin, the mouth or a cheek.
    occlusions.push({
      kind: 'hand',
      x: between(rng, -identity.faceW, identity.faceW),
      y: between(rng, identity.mouthY - 8, identity.faceH + 6),
      angle: between(rng, -60, 60),
      size: between(rng, 0.8, 1.25),
    });
  }
  if (chance(rng, 0.1 * d)) {
    occlusions.push({
      kind: 'rect',
      x: between(rng, -30, 30),
      y: between(rng, -30, 35),
      w: between(rng, 12, 40),
      h: between(rng, 8, 30),
      angle: between(rng, -45, 45),
      color: randomColor(rng),
    });
  }
  return occlusions;
}

export function sampleDegradation(rng: Rng, d: number): Degradation {
  return {
    light: chance(rng, 0.6 * d) ? between(rng, 0.05, 0.45) : 0,
    lightDirection: between(rng, 0, 2 * Math.PI),
    noise: chance(rng, 0.7 * d) ? between(rng, 1, 14) : 0,
    blur: chance(rng, 0.45 * d) ? between(rng, 0.35, 1.4) : 0,
    grayscale: chance(rng, 0.08 * d),
    noiseSeed: rng.nextUint32(),
  };
}
