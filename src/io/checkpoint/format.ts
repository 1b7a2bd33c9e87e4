// The checkpoint format. `<name>.json` carries everything needed to use a model alone (format
// version, architecture, class names, preprocessing, step, metrics, the resolved config) and a
// tfjs-style manifest of one float32 weights file; a training checkpoint (`last`) adds the AdamW
// moments (a second binary file), the rng state and the loader position, so that a resumed run
// continues exactly. save.ts writes it, read.ts reads it, validate.ts checks it.
import type { Config } from '../../config/schema.ts';
import type { LoaderPosition } from '../../data/loader.ts';
import type { Interpolation } from '../../data/resize.ts';
import type { ClassPrior } from '../../mek/prior.ts';
import type { SwinVariant } from '../../model/variants.ts';
import type { RngState } from '../../random.ts';

export const CHECKPOINT_FORMAT = 'mek-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface Preprocessing {
  /** Side of the square model input, in pixels. */
  imageSize: number;
  /** Per-channel normalisation of [0, 1] pixel values: (x - mean) / std. */
  mean: number[];
  std: number[];
  /** Resize filter for evaluation and prediction. */
  interpolation: Interpolation;
}

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/** One group of a tfjs weights manifest: the entries lie back to back, in order, in `paths`. */
export interface WeightsGroup {
  paths: string[];
  weights: WeightEntry[];
}

/** A binary file of little-endian float32 arrays and what it must contain. */
export interface StoredArrays {
  weightsManifest: WeightsGroup[];
  weightsBytes: number;
  weightsSha256: string;
}

/** AdamW moments: entries `<param>/m` and `<param>/v` (PyTorch's exp_avg, exp_avg_sq) per trained parameter. */
export interface OptimizerSection extends StoredArrays {
  /** AdamW's step count, which its bias correction depends on. */
  step: number;
}

export interface TrainingState {
  optimizer?: OptimizerSection;
  rngState?: RngState;
  loader?: LoaderPosition;
  /** Free-form state of the trainer (best metric so far, schedule position, ...). */
  resume?: Record<string, unknown>;
}

/** Which split picked this checkpoint (best.json): 'val' (data.val_fraction), or 'test' (the paper; optimistic). */
export interface Selection {
  split: 'val' | 'test';
  metric: string;
}

/** The post-hoc adjustment tau chosen on the validation split after training. */
export interface PosthocChoice {
  tau: number;
  split: 'val';
  /** Validation mean-class accuracy at tau, and at 0 (the raw logits). */
  meanClass: number;
  meanClassRaw: number;
}

export interface CheckpointMeta extends StoredArrays {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  createdAt: string;
  step: number;
  architecture: SwinVariant;
  classes: string[];
  preprocessing: Preprocessing;
  metrics: Record<string, unknown>;
  config?: Config;
  /** The class distribution training saw (for post-hoc adjustment); absent in older checkpoints. */
  prior?: ClassPrior;
  selection?: Selection;
  posthoc?: PosthocChoice;
  /**
   * Set by mek pretrain: the head predicts this pretext task's classes (the rotations), not
   * expressions. Such a checkpoint is a start point only: model.init keeps its backbone and
   * drops its head; eval, predict and export refuse it.
   */
  pretext?: Pretext;
  training?: TrainingState;
}

export type Pretext = 'rotation';


export interface OptimizerState {
  step: number;
  /** In the order of `store.trainable()`, as AdamW.loadState expects. */
  m: Float32Array[];
  v: Float32Array[];
}
