// Turning one sample into model input: decode + resize (sharp + resize.ts), then the training
// or the evaluation transform. Runs in the data workers (and in-process when there are none).
// Decoding and resizing are deterministic, so their result is cached per sample up to a byte
// budget: after the first epoch only the random transform is left (~1/4 of the cost).
import type { AugmentConfig } from '../config/schema.ts';
import { Rng } from '../random.ts';
import { evalTransform, trainTransform } from './augment/transform.ts';
import { decodeImage } from './decode.ts';
import type { RgbImage } from './image.ts';
import type { Interpolation } from './resize.ts';

export interface PrepareJob {
  path: string;
  size: number;
  mode: 'train' | 'eval';
  /** Resize filter: the augment config's for training, data.eval_interpolation for evaluation. */
  interpolation: Interpolation;
  augment: AugmentConfig;
  /** Seed of this sample's own generator: augmentation does not depend on decode timing. */
  seed: number;
  /** Bytes this process may spend caching decoded images (0: no cache). */
  cacheBytes: number;
  /** Larger images are refused (data.max_image_pixels). */
  maxPixels: number;
}

type Transform = (img: RgbImage, rng: Rng) => Float32Array;
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

const decoded = new Map<string, RgbImage>();
let decodedBytes = 0;

/** The decoded, resized image; from the cache when there. Callers get their own copy. */
async function decodeCached(job: PrepareJob): Promise<RgbImage> {
  const key = `${job.path}|${job.size}|${job.interpolation}`;
  const hit = decoded.get(key);
  if (hit) return { width: hit.width, height: hit.height, data: new Uint8Array(hit.data) };
  const image = await decodeImage(job.path, job.size, job.interpolation, job.maxPixels);
  if (decodedBytes + image.data.byteLength <= job.cacheBytes) {
    decoded.set(key, { width: image.width, height: image.height, data: new Uint8Array(image.data) });
    decodedBytes += image.data.byteLength;
  }
  return image;
}

/** HWC float32 of the normalised (and, for training, augmented) image. */
export async function prepareSample(job: PrepareJob): Promise<Float32Array> {
  return transformFor(job)(await decodeCached(job), new Rng(job.seed));
}
