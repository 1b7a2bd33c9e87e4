// The named parameter store. Names and shapes are exactly the PyTorch state-dict entries of
// the reference SwinTransFER (docs/method.md), so importing or exporting a checkpoint is a
// name-for-name copy and a mismatch report is a set difference.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.ts';
import { numFeatures, stageGeometry, type SwinVariant } from './variants.ts';

/**
 * How an entry is set up:
 *  - trunc_normal: N(0, 0.02) truncated to [-2, 2] (timm's default for Linear weights and the
 *    relative position bias table);
 *  - conv_uniform: PyTorch's default Conv2d init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), which
 *    the reference leaves on the patch embedding (its init hook only visits Linear/LayerNorm);
 *  - zeros / ones: biases, LayerNorm and BatchNorm affine terms and statistics.
 */
export type InitKind = 'trunc_normal' | 'conv_uniform' | 'zeros' | 'ones';

/**
 * What an entry is:
 *  - param: trained (receives a gradient in the FER loss);
 *  - frozen: a PyTorch parameter the FER model never uses (the encoder's final norm and its
 *    face-embedding head); it gets no gradient, so AdamW leaves it bit-identical;
 *  - buffer: BatchNorm running statistics of that unused head, kept for round trips;
 *  - derived: a buffer the reference stores but that is recomputed from the architecture
 *    (relative_position_index, attn_mask, num_batches_tracked); not held in the store.
 */
export type EntryKind = 'param' | 'frozen' | 'buffer' | 'derived';

export interface ParamSpec {
  name: string;
  shape: number[];
  kind: EntryKind;
  init: InitKind;
  /** fan_in for conv_uniform. */
  fanIn?: number;
  /** PyTorch dtype of the entry, for checkpoint export. */
  dtype: 'float32' | 'int64';
}

export type Params = Record<string, tf.Tensor>;

/** Every state-dict entry of the reference model, in the reference's state-dict order. */
export function paramSpecs(v: SwinVariant): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const add = (name: string, shape: number[], kind: EntryKind, init: InitKind, fanIn?: number) =>
    specs.push({ name, shape, kind, init, fanIn, dtype: 'float32' });
  const derived = (name: string, shape: number[]) =>
    specs.push({ name, shape, kind: 'derived', init: 'zeros', dtype: name.endsWith('attn_mask') ? 'float32' : 'int64' });
  const linear = (prefix: string, out: number, inp: number, bias: boolean, kind: EntryKind = 'param') => {
    add(`${prefix}.weight`, [out, inp], kind, 'trunc_normal');
    if (bias) add(`${prefix}.bias`, [out], kind, 'zeros');
  };
  const layerNorm = (prefix: string, dim: number, kind: EntryKind = 'param') => {
    add(`${prefix}.weight`, [dim], kind, 'ones');
    add(`${prefix}.bias`, [dim], kind, 'zeros');
  };
  const batchNorm = (prefix: string, dim: number) => {
    layerNorm(prefix, dim, 'frozen');
    add(`${prefix}.running_mean`, [dim], 'buffer', 'zeros');
    add(`${prefix}.running_var`, [dim], 'buffer', 'ones');
    derived(`${prefix}.num_batches_tracked`, []);
  };

  const p = v.patchSize;
  const fanIn = v.inChans * p * p;
  add('encoder.patch_embed.proj.weight', [v.embedDim, v.inChans, p, p], 'param', 'conv_uniform', fanIn);
  add('encoder.patch_embed.proj.bias', [v.embedDim], 'param', 'conv_uniform', fanIn);
  if (v.patchNorm) layerNorm('encoder.patch_embed.norm', v.embedDim);

  for (const [i, st] of stageGeometry(v).entries()) {
    const n = st.window * st.window;
    for (let j = 0; j < st.depth; j++) {
      const b = `encoder.layers.${i}.blocks.${j}`;
      const shift = j % 2 === 1 ? st.shift : 0;
      // The reference registers the mask on the block itself, before its submodules.
      if (shift > 0) derived(`${b}.attn_mask`, [(st.resolution / st.window) ** 2, n, n]);
      layerNorm(`${b}.norm1`, st.dim);
      add(`${b}.attn.relative_position_bias_table`, [(2 * st.window - 1) ** 2, st.heads], 'param', 'trunc_normal');
      derived(`${b}.attn.relative_position_index`, [n, n]);
      linear(`${b}.attn.qkv`, 3 * st.dim, st.dim, v.qkvBias);
      linear(`${b}.attn.proj`, st.dim, st.dim, true);
      layerNorm(`${b}.norm2`, st.dim);
      const hidden = Math.floor(st.dim * v.mlpRatio);
      linear(`${b}.mlp.fc1`, hidden, st.dim, true);
      linear(`${b}.mlp.fc2`, st.dim, hidden, true);
    }
    if (st.downsample) {
      const d = `encoder.layers.${i}.downsample`;
      // Reference order: the reduction Linear is created before the norm.
      linear(`${d}.reduction`, 2 * st.dim, 4 * st.dim, false);
      layerNorm(`${d}.norm`, 4 * st.dim);
    }
  }

  const nf = numFeatures(v);
  layerNorm('encoder.norm', nf, 'frozen');
  linear('encoder.feature.0', nf, nf, false, 'frozen');
  batchNorm('encoder.feature.1', nf);
  linear('encoder.feature.2', v.embeddingSize, nf, false, 'frozen');
  batchNorm('encoder.feature.3', v.embeddingSize);
  layerNorm('norm', nf);
  linear('head', v.numClasses, nf, true);
  return specs;
}

/** Specs of the entries the store holds (everything but derived buffers). */
export function storedSpecs(v: SwinVariant): ParamSpec[] {
  return paramSpecs(v).filter((s) => s.kind !== 'derived');
}

/** Number of PyTorch parameters (trained and frozen), as `sum(p.numel() for p in model.parameters())`. */
export function countParameters(v: SwinVariant): { total: number; trained: number } {
  let total = 0;
  let trained = 0;
  for (const s of paramSpecs(v)) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    if (s.kind === 'param' || s.kind === 'frozen') total += size;
    if (s.kind === 'param') trained += size;
  }
  return { total, trained };
}

/** Initial values as the reference initialises a fresh model, drawn from `rng` in spec order. */
export function initialValues(v: SwinVariant, rng: Rng): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const s of storedSpecs(v)) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    switch (s.init) {
      case 'ones':
        data.fill(1);
        break;
      case 'zeros':
        break;
      case 'trunc_normal':
        for (let i = 0; i < size; i++) data[i] = rng.truncNormal(0, 0.02, -2, 2);
        break;
      case 'conv_uniform': {
        const bound = 1 / Math.sqrt(s.fanIn!);
        for (let i = 0; i < size; i++) data[i] = (2 * rng.uniform() - 1) * bound;
        break;
      }
    }
    out.set(s.name, data);
  }
  return out;
}

/**
 * The live parameters of one model: a tf.Variable per stored entry, keyed by PyTorch name.
 * Variables are updated in place by the optimizer, which keeps device memory flat.
 */
export class ParamStore {
  private static nextId = 0;
  readonly variant: SwinVariant;
  readonly specs: ParamSpec[];
  readonly vars: Map<string, tf.Variable>;

  private constructor(variant: SwinVariant, values: Map<string, Float32Array>) {
    this.variant = variant;
    this.specs = storedSpecs(variant);
    this.vars = new Map();
    const id = ParamStore.nextId++;
    for (const s of this.specs) {
      const data = values.get(s.name);
      if (!data) throw new Error(`missing value for ${s.name}`);
      const expected = s.shape.reduce((a, b) => a * b, 1);
      if (data.length !== expected) {
        throw new Error(`${s.name}: ${data.length} values for shape [${s.shape.join(', ')}]`);
      }
      // tfjs variable names are global to the engine; the store id keeps two models apart.
      const t = tf.tensor(data, s.shape, 'float32');
      this.vars.set(s.name, tf.variable(t, s.kind === 'param', `mek${id}/${s.name}`));
      t.dispose();
    }
  }

  static init(variant: SwinVariant, rng: Rng): ParamStore {
    return new ParamStore(variant, initialValues(variant, rng));
  }

  static fromValues(variant: SwinVariant, values: Map<string, Float32Array>): ParamStore {
    return new ParamStore(variant, values);
  }

  /** The parameters as a plain name -> tensor map for the forward functions. */
  get params(): Params {
    return Object.fromEntries(this.vars);
  }

  /** The variables that training updates, in spec order. */
  trainable(): tf.Variable[] {
    return this.specs.filter((s) => s.kind === 'param').map((s) => this.vars.get(s.name)!);
  }

  nameOf(variable: tf.Variable): string {
    return variable.name.slice(variable.name.indexOf('/') + 1);
  }

  /** Overwrites every entry with `values` (e.g. the best checkpoint's, after training). */
  assign(values: Map<string, Float32Array>): void {
    for (const s of this.specs) {
      const data = values.get(s.name);
      if (!data) throw new Error(`missing value for ${s.name}`);
      tf.tidy(() => this.vars.get(s.name)!.assign(tf.tensor(data, s.shape, 'float32')));
    }
  }

  async values(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.vars) out.set(name, (await v.data()) as Float32Array);
    return out;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
