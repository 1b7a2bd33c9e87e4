// The training and evaluation image transforms of the release (timm create_transform with
// is_training, on an image already resized to the model size at decode time):
//   train: horizontal flip -> RandAugment -> normalise -> random erasing
//   eval:  normalise
// Each training step is switched off by its config key: hflip 0, randaugment '' and erasing 0.
// RandAugment's geometric ops resample with `interpolation` and fill with round(255 * mean), as
// timm passes both from create_transform into RandAugment.

import type { AugmentConfig } from '../../config/schema.ts';
import type { Rng } from '../../random.ts';
import type { RgbImage } from '../image.ts';
import { randomErasing, type RandomErasingOptions } from './erasing.ts';
import { randomHflip } from './flip.ts';
import { createNormalizer } from './normalize.ts';
import { RandAugment } from './randaugment.ts';
import { checkImage, fillFromMean } from './util.ts';

/** `out`, when given, must hold size*size*3 values (e.g. a subarray of a batch buffer). */
export type TrainTransform = (img: RgbImage, rng: Rng, out?: Float32Array) => Float32Array;
/** Same call shape as TrainTransform (so either fits one slot); the generator is not used. */
export type EvalTransform = (img: RgbImage, rng?: Rng, out?: Float32Array) => Float32Array;

/** The training transform for `size` x `size` images. Bad settings fail here, not per image. */
export function trainTransform(cfg: AugmentConfig, size: number): TrainTransform {
  if (!Number.isInteger(size) || size <= 0) throw new Error(`trainTransform: bad size ${size}`);
  if (!(cfg.hflip >= 0 && cfg.hflip <= 1)) throw new Error(`trainTransform: hflip must be in [0, 1], got ${cfg.hflip}`);
  if (!(cfg.erasing >= 0 && cfg.erasing <= 1)) throw new Error(`trainTransform: erasing must be in [0, 1], got ${cfg.erasing}`);
  const normalize = createNormalizer(cfg.mean, cfg.std);
  const spec = cfg.randaugment.trim();
  const randAugment =
    spec === '' ? null : new RandAugment(spec, { fill: fillFromMean(cfg.mean), resample: cfg.interpolation });
  const erasing: RandomErasingOptions | null =
    cfg.erasing > 0 ? { probability: cfg.erasing, mode: cfg.erasing_mode } : null;
  if (erasing && !['pixel', 'rand', 'const'].includes(erasing.mode)) {
    throw new Error(`trainTransform: unknown erasing_mode '${erasing.mode}'`);
  }
  const hflip = cfg.hflip;
  return (img, rng, out) => {
    checkImage(img);
    if (img.width !== size || img.height !== size) {
      throw new Error(`trainTransform: expected a ${size}x${size} image, got ${img.width}x${img.height}`);
    }
    let x = randomHflip(img, hflip, rng);
    if (randAugment) x = randAugment.apply(x, rng);
    const t = normalize(x, out);
    if (erasing) randomErasing(t, size, size, 3, erasing, rng);
    return t;
  };
}

/** The evaluation transform: normalisation only (any size). */
export function evalTransform(cfg: AugmentConfig): EvalTransform {
  const normalize = createNormalizer(cfg.mean, cfg.std);
  return (img, _rng, out) => {
    checkImage(img);
    return normalize(img, out);
  };
}
