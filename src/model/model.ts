// A model ready to run: its weights (a ParamStore) and the constant tensors every forward pass
// reads (SwinConstants: relative-position one-hots and shifted-window masks), made and released
// together. The constants depend only on the architecture, so holding them beside the weights
// means a caller can neither pair weights with another architecture's constants nor forget to
// dispose one of the two.
import type * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.ts';
import { ferForward, ferInference, type FerOutput } from './fer.ts';
import { ParamStore } from './params.ts';
import { SwinConstants, type ForwardOptions } from './swin.ts';
import type { SwinVariant } from './variants.ts';

export class Model {
  /** The live weights: the optimizer updates them, checkpoints save and load them. */
  readonly weights: ParamStore;
  private readonly constants: SwinConstants;

  /** Takes ownership of `weights`: dispose() releases them with the constants. */
  constructor(weights: ParamStore) {
    this.weights = weights;
    this.constants = new SwinConstants(weights.variant);
  }

  /** A fresh model, initialised as the reference initialises one (draws from `rng`). */
  static init(variant: SwinVariant, rng: Rng): Model {
    return new Model(ParamStore.init(variant, rng));
  }

  static fromValues(variant: SwinVariant, values: Map<string, Float32Array>): Model {
    return new Model(ParamStore.fromValues(variant, values));
  }

  get variant(): SwinVariant {
    return this.weights.variant;
  }

  /** Logits and class attention maps of a batch; differentiable (training, golden tests). */
  forward(images: tf.Tensor, opts: ForwardOptions): FerOutput {
    return ferForward(this.weights.params, images, this.constants, opts);
  }

  /** Logits and CAMs of any number of images, `chunk` at a time, memory freed as it goes. */
  infer(images: tf.Tensor, chunk: number): FerOutput {
    return ferInference(this.weights.params, images, this.constants, chunk);
  }

  dispose(): void {
    this.constants.dispose();
    this.weights.dispose();
  }
}
