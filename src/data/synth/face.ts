// What one synthetic face looks like, as plain data: identity (shape, colours, feature
// geometry: identity.ts), expression (action-unit-like muscle settings: expression.ts) and
// nuisances (pose, background, occlusions, image degradations: nuisance.ts). Sampling a spec
// consumes the run's Rng in a fixed order; drawing it (draw.ts) is a pure function, so images
// can be rendered in any order or concurrently and still come out byte-identical.
import type { Rng } from '../../random.ts';
import { sampleExpression, type ExpressionSample } from './expression.ts';
import { identitySpread, sampleIdentity, towardsAverage, type Identity } from './identity.ts';
import { sampleBackground, sampleDegradation, sampleOcclusions, samplePose, type Background, type Degradation, type Occlusion, type Pose } from './nuisance.ts';

export interface FaceSpec extends ExpressionSample {
  label: number;
  identity: Identity;
  pose: Pose;
  background: Background;
  occlusions: Occlusion[];
  degradation: Degradation;
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
