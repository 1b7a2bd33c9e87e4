// A synthetic face's expression: action-unit-like muscle settings, per class a prototype after
// the FACS descriptions of the basic emotions, sampled with weak, blended and idiosyncratic
// faces so that neither the classes nor the units are cleanly separable.
import type { Rng } from '../../random.ts';
import { between, chance, clamp } from './sampling.ts';

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

/** A face's expression and how it came about. */
export interface ExpressionSample {
  /** Overall strength of the label's expression, 0 .. ~1.2. */
  intensity: number;
  /** Blended towards another class: that class and the blend weight; null when pure. */
  blend: { towards: number; weight: number } | null;
  expression: Expression;
}

/**
 * Expression of a face of class `label`: the prototype (possibly blended towards a
 * confusable class), scaled by an intensity that is often weak, each unit varied by a factor
 * of its own, plus the person's resting offsets, so neither the classes nor the units are
 * cleanly separable.
 */
export function sampleExpression(rng: Rng, label: number, d: number): ExpressionSample {
  // Easier sets (d < 1) have fewer weak and blended faces and strong expressions start higher.
  const intensity = chance(rng, WEAK_FRACTION * d) ? between(rng, 0.1, 0.4) : between(rng, 0.4 + 0.4 * (1 - d), 1.15);
  let blend: ExpressionSample['blend'] = null;
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
