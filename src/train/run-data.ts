// The images a run reads: the training stream (augmented, in the sampler's order, from a saved
// position on --resume) and single passes over a split for evaluation, both prepared by one
// pool of data workers that shares its decode cache between them.
import type { Config } from '../config/schema.ts';
import type { Sample } from '../data/labels.ts';
import { BatchLoader, type BatchTransform, type LoaderPosition } from '../data/loader.ts';
import { PreparePool } from '../data/pool.ts';
import { evaluationLoader } from '../eval/evaluate.ts';
import type { Preprocessing } from '../io/checkpoint/format.ts';
import type { SwinVariant } from '../model/variants.ts';

export interface BatchTransforms {
  train: BatchTransform;
  eval: BatchTransform;
}

export class RunData {
  /** How the model sees an image at evaluation; checkpoints record it for mek eval and predict. */
  readonly preprocessing: Preprocessing;
  readonly train: BatchLoader;
  private readonly config: Config;
  private readonly pool: PreparePool;
  private readonly cacheBytes: number;
  private readonly transforms: BatchTransforms | undefined;

  /**
   * `start`: where the training stream begins (a resumed run's loader position); `transforms`:
   * what the batches of training and of evaluations become (mek pretrain's rotations).
   */
  constructor(config: Config, variant: SwinVariant, trainSamples: Sample[], start: LoaderPosition, transforms?: BatchTransforms) {
    this.config = config;
    this.transforms = transforms;
    this.pool = new PreparePool(config.data.workers);
    this.cacheBytes = (config.data.cache_mb * 2 ** 20) / Math.max(1, config.data.workers);
    this.preprocessing = { imageSize: variant.imgSize, mean: config.augment.mean, std: config.augment.std, interpolation: config.data.eval_interpolation };
    const loader = {
      samples: trainSamples,
      numClasses: config.data.classes.length,
      batchSize: config.train.batch_size,
      imageSize: variant.imgSize,
      mode: 'train' as const,
      interpolation: config.augment.interpolation,
      augment: config.augment,
      seed: config.train.seed,
      sampler: config.data.sampler,
      repeatTo: config.data.repeat_to,
      dropLast: config.data.drop_last,
      prefetch: config.data.prefetch,
      onBadImage: config.data.on_bad_image,
      maxSkipFraction: config.data.max_skip_fraction,
      maxImagePixels: config.data.max_image_pixels,
      pool: this.pool,
      cacheBytes: this.cacheBytes,
      ...(transforms ? { transform: transforms.train } : {}),
    };
    this.train = new BatchLoader(loader, start);
  }

  /** One pass over `samples` in file order, as the run's checkpoints will be evaluated. */
  evaluation(samples: Sample[]): BatchLoader {
    return evaluationLoader(this.config, samples, this.preprocessing, this.pool, this.cacheBytes, this.transforms?.eval);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
