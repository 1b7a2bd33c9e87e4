// What one synthetic face looks like, as plain data: identity (shape, colours, feature
// geometry), expression (action-unit-like muscle settings) and nuisances (pose, background,
// occlusions, image degradations). Sampling a spec consumes the run's Rng in a fixed order;
// drawing it (draw.ts) is a pure function, so images can be rendered in any order or
// concurrently and still come out byte-identical.
import type { Rng } from '../../random.ts';

/**
 * Expression as muscle settings, 0 = relaxed. The classes are mixtures of the same units, so
 * confusable classes share units: fear and surprise both raise the brows and widen the eyes,
 * disgust and anger both lower the brows and narrow the eyes, sadness differs from a relaxed
 * face only by small inner-brow and mouth-corner moves.
 */
export interface Expression {
  /** Whole brow up (+) or down (-). */
  browRaise: number;
  /** Inner brow end up (+, fear and sadness) or down (-, the V of anger). */
  browInner: number;
  /** Inner brow ends pulled towards the midline. */
  browTogether: number;
  /** Brow curvature: + arched (surprise), - flat. */
  browArch: number;
  /** Upper-lid opening: + wide (white above the iris), - narrowed. */
  eyeOpen: number;
  /** Lower lid pushed up (cheek raise of a smile, squint of disgust). */
  lowerLid: number;
  /** Mouth opening (jaw drop and lip parting). */
  mouthOpen: number;
  /** Horizontal lip stretch (+) or purse (-). */
  mouthWidth: number;
  /** Mouth corners up (+, smile) or down (-). */
  mouthCorner: number;
  /** How round the opening is (the "O" of surprise). */
  mouthRound: number;
  /** Upper lip raised off the teeth (disgust). */
  upperLip: number;
  /** Lips pressed thin (anger). */
  lipPress: number;
  /** Left/right imbalance of the mouth corners and upper lip (a unilateral sneer). */
  mouthAsym: number;
  /** Wrinkled nose and flared, raised nostrils. */
  noseWrinkle: number;
  /** Raised, flushed cheeks and deep smile folds. */
  cheek: number;
  /** Teeth visible in the opening. */
  teeth: number;
}

export type Unit = keyof Expression;

const UNITS: readonly Unit[] = [
  'browRaise', 'browInner', 'browTogether', 'browArch', 'eyeOpen', 'lowerLid', 'mouthOpen',
  'mouthWidth', 'mouthCorner', 'mouthRound', 'upperLip', 'lipPress', 'mouthAsym', 'noseWrinkle',
  'cheek', 'teeth',
];

function expression(partial: Partial<Expression>): Expression {
  const e = {} as Expression;
  for (const u of UNITS) e[u] = partial[u] ?? 0;
  return e;
}

/**
 * Full-intensity prototype of each class, in RAF-DB label order (Surprise, Fear, Disgust,
 * Happiness, Sadness, Anger, Neutral), after the FACS descriptions of the basic emotions.
 */
export const PROTOTYPES: readonly Expression[] = [
  // Surprise: brows up and arched, eyes wide, jaw dropped into a round "O".
  expression({ browRaise: 1, browInner: 0.15, browArch: 0.7, eyeOpen: 0.75, mouthOpen: 1, mouthRound: 0.9, mouthWidth: -0.3 }),
  // Fear: brows up and drawn together with the inner ends highest (flat, worried), eyes wide,
  // lips stretched sideways and slightly parted, corners a little down.
  expression({ browRaise: 0.7, browInner: 0.75, browTogether: 0.45, browArch: -0.6, eyeOpen: 0.7, mouthOpen: 0.4, mouthWidth: 0.55, mouthCorner: -0.25, teeth: 0.5 }),
  // Disgust: brows lowered (not a V), squint from below, upper lip raised on one side, nose
  // wrinkled, corners down.
  expression({ browRaise: -0.55, browInner: -0.15, eyeOpen: -0.3, lowerLid: 0.7, upperLip: 1, mouthAsym: 0.8, noseWrinkle: 1, mouthCorner: -0.4, mouthOpen: 0.1, teeth: 0.6, cheek: 0.2 }),
  // Happiness: corners up and out, cheeks raised (which pushes the lower lids up), often teeth.
  expression({ mouthCorner: 1, mouthWidth: 0.35, mouthOpen: 0.35, cheek: 1, lowerLid: 0.55, eyeOpen: -0.15, teeth: 1 }),
  // Sadness: inner brow ends up, upper lids slightly down, corners down.
  expression({ browInner: 0.85, browRaise: -0.1, browArch: -0.2, eyeOpen: -0.25, mouthCorner: -0.85, mouthWidth: -0.1, lipPress: 0.2 }),
  // Anger: brows down and together with the inner ends lowest (V), glaring narrowed eyes, lips
  // pressed thin into a flat line.
  expression({ browRaise: -0.7, browInner: -0.95, browTogether: 0.8, eyeOpen: -0.4, lowerLid: 0.25, lipPress: 1, mouthWidth: -0.2, mouthCorner: -0.1 }),
  // Neutral: relaxed.
  expression({}),
];

/**
 * The class each class is most easily mistaken for (first) and the next (second); an ambiguous
 * face blends its prototype towards one of these.
 */
const CONFUSABLE: readonly (readonly number[])[] = [
  [1, 3], // Surprise: Fear, Happiness
  [0, 4], // Fear: Surprise, Sadness
  [5, 4], // Disgust: Anger, Sadness
  [6, 0], // Happiness: Neutral, Surprise
  [6, 1], // Sadness: Neutral, Fear
  [2, 6], // Anger: Disgust, Neutral
  [4, 5], // Neutral: Sadness, Anger
];

/** Person-specific resting offsets (a naturally sad mouth, heavy lids) in unit scale. */
const RESTING_STD: Partial<Record<Unit, number>> = {
  browRaise: 0.15, browInner: 0.15, browArch: 0.3, eyeOpen: 0.12, lowerLid: 0.08,
  mouthCorner: 0.15, mouthWidth: 0.12, mouthOpen: 0.05, lipPress: 0.15,
};

/** Fraction of faces blended towards a confusable class. */
const AMBIGUOUS_FRACTION = 0.15;
/** Fraction of faces with a weak expression (intensity 0.1 .. 0.4). */
const WEAK_FRACTION = 0.3;
/** Easier sets zoom the face by 1 + ALIGNED_ZOOM * (1 - difficulty)... */
const ALIGNED_ZOOM = 1;
/** ...and move the point this far below the face centre (between brows and mouth, face units) towards the image centre. */
const ALIGNED_CENTRE_Y = 5;
/** identitySpread as the difficulty goes to 0. */
const IDENTITY_SPREAD_MIN = 0.3;

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

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

export interface FaceSpec {
  label: number;
  /** Overall strength of the label's expression, 0 .. ~1.2. */
  intensity: number;
  /** Blended towards another class: that class and the blend weight; null when pure. */
  blend: { towards: number; weight: number } | null;
  expression: Expression;
  identity: Identity;
  pose: Pose;
  background: Background;
  occlusions: Occlusion[];
  degradation: Degradation;
}

const between = (rng: Rng, a: number, b: number): number => a + (b - a) * rng.uniform();
const chance = (rng: Rng, p: number): boolean => rng.uniform() < p;
const clamp = (x: number, a: number, b: number): number => Math.min(b, Math.max(a, x));

function hsl(h: number, s: number, l: number): Rgb {
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

function randomColor(rng: Rng): Rgb {
  return hsl(between(rng, 0, 360), between(rng, 0.05, 0.8), between(rng, 0.15, 0.9));
}

function sampleIdentity(rng: Rng): Identity {
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
function towardsAverage(id: Identity, spread: number): Identity {
  const out = { ...id };
  const mix = (x: number, mean: number) => mean + spread * (x - mean);
  for (const [k, mean] of Object.entries(AVERAGE_FACE) as [keyof typeof AVERAGE_FACE, number][]) out[k] = mix(id[k], mean);
  for (const [k, mean] of Object.entries(AVERAGE_COLOURS) as [keyof typeof AVERAGE_COLOURS, Rgb][]) {
    const c = id[k];
    out[k] = { r: Math.round(mix(c.r, mean.r)), g: Math.round(mix(c.g, mean.g)), b: Math.round(mix(c.b, mean.b)) };
  }
  return out;
}

/**
 * Expression of a face of class `label`: the prototype (possibly blended towards a
 * confusable class), scaled by an intensity that is often weak, each unit varied by a factor
 * of its own, plus the person's resting offsets, so neither the classes nor the units are
 * cleanly separable.
 */
function sampleExpression(rng: Rng, label: number, d: number): Pick<FaceSpec, 'intensity' | 'blend' | 'expression'> {
  // Easier sets (d < 1) have fewer weak and blended faces and strong expressions start higher.
  const intensity = chance(rng, WEAK_FRACTION * d) ? between(rng, 0.1, 0.4) : between(rng, 0.4 + 0.4 * (1 - d), 1.15);
  let blend: FaceSpec['blend'] = null;
  if (chance(rng, AMBIGUOUS_FRACTION * d)) {
    const options = CONFUSABLE[label]!;
    blend = { towards: options[chance(rng, 0.7) ? 0 : 1]!, weight: between(rng, 0.25, 0.5) };
  }
  const own = PROTOTYPES[label]!;
  const other = blend ? PROTOTYPES[blend.towards]! : own;
  const w = blend?.weight ?? 0;
  const e = {} as Expression;
  for (const u of UNITS) {
    // Each unit gets its own factor: one surprised face gapes, the next keeps its mouth shut;
    // a smile may be closed-lipped or a broad grin.
    const factor = u === 'mouthOpen' && label === 3 ? between(rng, 0, 2.2) : between(rng, 1 - 0.45 * d, 1 + 0.35 * d);
    e[u] = intensity * factor * ((1 - w) * own[u] + w * other[u]) + d * (RESTING_STD[u] ?? 0) * rng.normal();
  }
  e.mouthOpen = clamp(e.mouthOpen, 0, 1.4);
  e.eyeOpen = clamp(e.eyeOpen, -0.6, 1);
  e.lowerLid = clamp(e.lowerLid, 0, 1);
  for (const u of ['browTogether', 'mouthRound', 'upperLip', 'lipPress', 'mouthAsym', 'noseWrinkle', 'cheek', 'teeth'] as const) {
    e[u] = clamp(e[u], 0, 1.2);
  }
  return { intensity, blend, expression: e };
}

function samplePose(rng: Rng, d: number): Pose {
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

function sampleBackground(rng: Rng, d: number): Background {
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

function sampleOcclusions(rng: Rng, identity: Identity, d: number): Occlusion[] {
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

function sampleDegradation(rng: Rng, d: number): Degradation {
  return {
    light: chance(rng, 0.6 * d) ? between(rng, 0.05, 0.45) : 0,
    lightDirection: between(rng, 0, 2 * Math.PI),
    noise: chance(rng, 0.7 * d) ? between(rng, 1, 14) : 0,
    blur: chance(rng, 0.45 * d) ? between(rng, 0.35, 1.4) : 0,
    grayscale: chance(rng, 0.08 * d),
    noiseSeed: rng.nextUint32(),
  };
}

/**
 * One face of class `label` (0-based), drawing from `rng` in a fixed order. `difficulty` in
 * (0, 1] scales the nuisances (pose, clutter, occlusion, degradation), the share of weak,
 * blended and idiosyncratic expressions and how much people differ (identitySpread); below 1
 * the face is also framed tightly, brows to mouth, as in an aligned face crop. 1 is the full
 * set. The draws are the same at every difficulty, so 1 reproduces the files of earlier
 * versions.
 */
export function sampleFace(rng: Rng, label: number, difficulty = 1): FaceSpec {
  const d = difficulty;
  const identity = d < 1 ? towardsAverage(sampleIdentity(rng), identitySpread(d)) : sampleIdentity(rng);
  return {
    label,
    ...sampleExpression(rng, label, d),
    identity,
    pose: samplePose(rng, d),
    background: sampleBackground(rng, d),
    occlusions: sampleOcclusions(rng, identity, d),
    degradation: sampleDegradation(rng, d),
  };
}
