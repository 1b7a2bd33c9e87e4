// Turning one sample into model input: decode + resize with sharp, then the training or the
// evaluation transform. Runs in the data workers (and in-process when there are none).
import type { AugmentConfig } from '../config/schema.ts';
import { Rng } from '../random.ts';
import { evalTransform, trainTransform } from './augment/transform.ts';
import { decodeImage } from './decode.ts';

export interface PrepareJob {
  path: string;
  size: number;
  mode: 'train' | 'eval';
  /** Resize filter: the augment config's for training, data.eval_interpolation for evaluation. */
  interpolation: 'bicubic' | 'bilinear' | 'nearest';
  augment: AugmentConfig;
  /** Seed of this sample's own generator: augmentation does not depend on decode timing. */
  seed: number;
}

type Transform = (img: import('./image.ts').RgbImage, rng: Rng) => Float32Array;
const transforms = new Map<string, Transform>();

function transformFor(job: PrepareJob): Transform {
  const key = `${job.mode}|${job.size}|${JSON.stringify(job.augment)}`;
  let t = transforms.get(key);
  if (!t) {
    t = job.mode === 'train' ? trainTransform(job.augment, job.size) : (evalTransform(job.augment) as Transform);
    transforms.set(key, t);
  }
  return t;
}

/** HWC float32 of the normalised (and, for training, augmented) image. */
export async function prepareSample(job: PrepareJob): Promise<Float32Array> {
  const image = await decodeImage(job.path, job.size, job.interpolation);
  return transformFor(job)(image, new Rng(job.seed));
}
