// The Swin Transformer backbone as a plain function over named parameters. Images are NHWC
// (what sharp decodes), tokens are [B, L, C] in row-major (h, w) order as in the reference.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.ts';
import { gelu, layerNorm, linear, roll } from './layers.ts';
import type { Params } from './params.ts';
import { dropPathRate, stageGeometry, type StageGeometry, type SwinVariant } from './variants.ts';

export interface ForwardOptions {
  /** Training mode enables stochastic depth. */
  training: boolean;
  /** Source of the drop-path draws; required when training with a non-zero drop-path rate. */
  rng?: Rng;
  /**
   * No gradient will be taken: each block's intermediates are freed as soon as it finishes,
   * so peak memory is one block's worth instead of the whole network's (wasm has 4 GiB).
   */
  inference?: boolean;
  /**
   * Recompute each block in the backward pass instead of keeping its activations (what
   * PyTorch calls activation checkpointing; here "checkpoint" means only the file format).
   */
  recompute?: boolean;
}

interface StageConstants {
  /** One-hot [(2w-1)^2, N*N]: table^T x onehot gives the bias without gather (no wasm gradient). */
  biasOneHot: tf.Tensor2D;
  /** Shifted-window mask [nW, 1, N, N] with 0 / -100 entries; null when the stage never shifts. */
  mask: tf.Tensor4D | null;
}

/** Per-architecture constant tensors, computed once and reused by every forward pass; a Model (model.ts) holds them beside its weights. */
export class SwinConstants {
  readonly variant: SwinVariant;
  readonly stages: StageGeometry[];
  readonly perStage: StageConstants[];

  constructor(variant: SwinVariant) {
    this.variant = variant;
    this.stages = stageGeometry(variant);
    this.perStage = this.stages.map((st) => ({
      biasOneHot: relativeBiasOneHot(st.window),
      mask: st.shift > 0 ? shiftedWindowMask(st.resolution, st.window, st.shift) : null,
    }));
  }

  dispose(): void {
    for (const s of this.perStage) {
      s.biasOneHot.dispose();
      s.mask?.dispose();
    }
  }
}

/** The reference's relative_position_index for a w x w window: [N*N] table rows. */
export function relativePositionIndex(w: number): Int32Array {
  const n = w * w;
  const index = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    const hi = Math.floor(i / w);
    const wi = i % w;
    for (let j = 0; j < n; j++) {
      const dh = hi - Math.floor(j / w) + w - 1;
      const dw = wi - (j % w) + w - 1;
      index[i * n + j] = dh * (2 * w - 1) + dw;
    }
  }
  return index;
}

function relativeBiasOneHot(w: number): tf.Tensor2D {
  const n = w * w;
  const rows = (2 * w - 1) ** 2;
  const index = relativePositionIndex(w);
  const data = new Float32Array(rows * n * n);
  for (let k = 0; k < n * n; k++) data[index[k]! * n * n + k] = 1;
  return tf.tensor2d(data, [rows, n * n]);
}

/**
 * The reference's attn_mask: after the cyclic shift, tokens of a window that came from
 * different regions of the image must not attend to each other (-100 before softmax).
 */
export function shiftedWindowMaskValues(res: number, w: number, shift: number): Float32Array {
  const bounds = [0, res - w, res - shift, res];
  const region = (i: number) => (i < bounds[1]! ? 0 : i < bounds[2]! ? 1 : 2);
  const perSide = res / w;
  const n = w * w;
  const out = new Float32Array(perSide * perSide * n * n);
  for (let wh = 0; wh < perSide; wh++) {
    for (let ww = 0; ww < perSide; ww++) {
      const win = wh * perSide + ww;
      const labels = new Int32Array(n);
      for (let t = 0; t < n; t++) {
        const h = wh * w + Math.floor(t / w);
        const c = ww * w + (t % w);
        labels[t] = region(h) * 3 + region(c);
      }
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) out[(win * n + i) * n + j] = labels[i] === labels[j] ? 0 : -100;
      }
    }
  }
  return out;
}

function shiftedWindowMask(res: number, w: number, shift: number): tf.Tensor4D {
  const nW = (res / w) ** 2;
  return tf.tensor4d(shiftedWindowMaskValues(res, w, shift), [nW, 1, w * w, w * w]);
}

/** Conv2d(k = s = patch) as reshape + transpose + matMul: [B, H, W, C] -> [B, L, embed]. */
function patchEmbed(p: Params, x: tf.Tensor, v: SwinVariant): tf.Tensor {
  const [b, h, w, c] = x.shape as number[];
  const ps = v.patchSize;
  const gh = h! / ps;
  const gw = w! / ps;
  // [B, gh, ps, gw, ps, C] -> [B, gh, gw, C, ps, ps]: the conv weight's (in, kh, kw) order.
  const patches = tf.reshape(
    tf.transpose(tf.reshape(x, [b!, gh, ps, gw, ps, c!]), [0, 1, 3, 5, 2, 4]),
    [b!, gh * gw, c! * ps * ps],
  );
  const weight = tf.reshape(p['encoder.patch_embed.proj.weight']!, [v.embedDim, c! * ps * ps]);
  let tokens = linear(patches, weight, p['encoder.patch_embed.proj.bias']);
  if (v.patchNorm) {
    tokens = layerNorm(tokens, p['encoder.patch_embed.norm.weight']!, p['encoder.patch_embed.norm.bias']!);
  }
  return tokens; // [B, L, embed]
}

/** [B, R, R, C] -> [B * nW, w*w, C], windows in row-major order. */
function windowPartition(x: tf.Tensor, res: number, w: number, c: number): tf.Tensor {
  const b = x.shape[0];
  const k = res / w;
  return tf.reshape(tf.transpose(tf.reshape(x, [b, k, w, k, w, c]), [0, 1, 3, 2, 4, 5]), [-1, w * w, c]);
}

/** [B * nW, w*w, C] -> [B, R, R, C]. */
function windowReverse(x: tf.Tensor, res: number, w: number, c: number): tf.Tensor {
  const k = res / w;
  return tf.reshape(tf.transpose(tf.reshape(x, [-1, k, k, w, w, c]), [0, 1, 3, 2, 4, 5]), [-1, res, res, c]);
}

function windowAttention(
  p: Params,
  prefix: string,
  windows: tf.Tensor, // [B*nW, N, C]
  st: StageGeometry,
  consts: StageConstants,
  masked: boolean,
): tf.Tensor {
  const [bw, n, c] = windows.shape as number[];
  const heads = st.heads;
  const hd = c! / heads;
  // q, k and v from row blocks of the qkv weight: splitting one [B*nW, N, 3, heads, hd]
  // product instead needs a rank-5 transpose, which tfjs-wasm runs ~25x slower than rank 4.
  const qkvWeight = p[`${prefix}.qkv.weight`]!;
  const qkvBias = p[`${prefix}.qkv.bias`];
  const project = (part: number) => {
    const w = tf.slice(qkvWeight, [part * c!, 0], [c!, c!]);
    const b = qkvBias ? tf.slice(qkvBias, [part * c!], [c!]) : undefined;
    const y = tf.reshape(linear(windows, w, b), [bw!, n!, heads, hd]);
    return tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [bw! * heads, n!, hd]); // [B*nW*heads, N, hd]
  };
  const [q, k, val] = [project(0), project(1), project(2)];
  let scores = tf.matMul(tf.mul(q, hd ** -0.5), k, false, true); // [B*nW*heads, N, N]
  const table = p[`${prefix}.relative_position_bias_table`]!; // [(2w-1)^2, heads]
  const bias = tf.reshape(tf.matMul(table, consts.biasOneHot, true, false), [heads, n!, n!]);
  scores = tf.add(tf.reshape(scores, [bw!, heads, n!, n!]), bias);
  if (masked && consts.mask) {
    const nW = consts.mask.shape[0];
    scores = tf.reshape(tf.add(tf.reshape(scores, [-1, nW, heads, n!, n!]), consts.mask), [bw!, heads, n!, n!]);
  }
  const attn = tf.reshape(tf.softmax(scores, -1), [bw! * heads, n!, n!]);
  const out = tf.reshape(tf.matMul(attn, val), [bw!, heads, n!, hd]);
  const merged = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [bw!, n!, c!]);
  return linear(merged, p[`${prefix}.proj.weight`]!, p[`${prefix}.proj.bias`]);
}

/** Per-sample scale [B, 1, 1] of a residual branch: 0 (dropped) or 1 / (1 - rate), drawn from rng. */
function dropPathScale(b: number, rate: number, rng: Rng): tf.Tensor {
  const scale = new Float32Array(b);
  for (let i = 0; i < b; i++) scale[i] = Math.floor(1 - rate + rng.uniform()) / (1 - rate);
  return tf.tensor3d(scale, [b, 1, 1]);
}

/** One Swin block. `drops` scale the attention and MLP branches (stochastic depth) when set. */
function block(
  p: Params,
  prefix: string,
  x: tf.Tensor, // [B, L, C]
  st: StageGeometry,
  consts: StageConstants,
  shift: number,
  drops: [tf.Tensor, tf.Tensor] | null,
): tf.Tensor {
  const [b, l, c] = x.shape as number[];
  const res = st.resolution;
  let h = tf.reshape(layerNorm(x, p[`${prefix}.norm1.weight`]!, p[`${prefix}.norm1.bias`]!), [b!, res, res, c!]);
  if (shift > 0) h = roll(roll(h, -shift, 1), -shift, 2);
  const windows = windowPartition(h, res, st.window, c!);
  const attended = windowAttention(p, `${prefix}.attn`, windows, st, consts, shift > 0);
  h = windowReverse(attended, res, st.window, c!);
  if (shift > 0) h = roll(roll(h, shift, 1), shift, 2);
  const attnBranch = tf.reshape(h, [b!, l!, c!]);
  const y = tf.add(x, drops ? tf.mul(attnBranch, drops[0]) : attnBranch);

  const normed = layerNorm(y, p[`${prefix}.norm2.weight`]!, p[`${prefix}.norm2.bias`]!);
  const hidden = gelu(linear(normed, p[`${prefix}.mlp.fc1.weight`]!, p[`${prefix}.mlp.fc1.bias`]));
  const mlp = linear(hidden, p[`${prefix}.mlp.fc2.weight`]!, p[`${prefix}.mlp.fc2.bias`]);
  return tf.add(y, drops ? tf.mul(mlp, drops[1]) : mlp);
}

/**
 * A block whose activations are not kept for the backward pass: the forward keeps only its
 * input, and the backward recomputes the block under a nested gradient (PyTorch's activation
 * checkpointing). The tfjs tape otherwise holds every op's saved tensors and every
 * intermediate gradient until the whole backward ends, ~1.5 GB per 112 px image for Swin-T,
 * which wasm's 4 GiB heap cannot hold for useful batches. Costs one extra block forward.
 */
function recomputedBlock(
  p: Params,
  prefix: string,
  x: tf.Tensor,
  st: StageGeometry,
  consts: StageConstants,
  shift: number,
  drops: [tf.Tensor, tf.Tensor] | null,
): tf.Tensor {
  const names = Object.keys(p).filter((n) => n.startsWith(`${prefix}.`));
  const run = (input: tf.Tensor, values: tf.Tensor[], dropValues: tf.Tensor[]) => {
    const local: Params = { ...p };
    names.forEach((n, i) => (local[n] = values[i]!));
    return block(local, prefix, input, st, consts, shift, dropValues.length ? [dropValues[0]!, dropValues[1]!] : null);
  };
  const op = tf.customGrad((...args) => {
    const save = args.pop() as tf.GradSaveFunc;
    const tensors = args as tf.Tensor[];
    save(tensors); // clones share buffers (cpu; wasm via backend.ts): no copy
    const [input, ...rest] = tensors;
    return {
      value: run(input!, rest.slice(0, names.length), rest.slice(names.length)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ...others] = saved;
        const values = others.slice(0, names.length);
        const dropValues = others.slice(names.length);
        // A nested gradient inside the outer backward pass: tfjs resets the engine's active
        // tape when a gradient computation starts and ends at depth 0, so the outer tape is
        // put back afterwards for the outer pass to release.
        const engine = tf.engine() as unknown as { state: { activeTape: unknown } };
        const outerTape = engine.state.activeTape;
        const { value, grads } = tf.engine().gradients(() => run(xs!, values, dropValues), [xs!, ...values], dy);
        engine.state.activeTape = outerTape;
        value.dispose();
        return [...grads, ...dropValues.map((d) => tf.zerosLike(d))];
      },
    };
  });
  return op(x, ...names.map((n) => p[n]!), ...(drops ?? []));
}

/**
 * Patch merging: concatenates the 2x2 neighbours x[0::2,0::2], x[1::2,0::2], x[0::2,1::2],
 * x[1::2,1::2] (channel block k = 2*dw + dh), LayerNorm(4C), Linear(4C -> 2C).
 * A reshape + transpose replaces the strided slices, whose gradient wasm lacks.
 */
function patchMerging(p: Params, prefix: string, x: tf.Tensor, res: number): tf.Tensor {
  const [b, , c] = x.shape as number[];
  const half = res / 2;
  // [B, R/2, dh, R/2, dw, C] -> [B, R/2, R/2, dw, dh, C]
  const grouped = tf.transpose(tf.reshape(x, [b!, half, 2, half, 2, c!]), [0, 1, 3, 4, 2, 5]);
  const merged = tf.reshape(grouped, [b!, half * half, 4 * c!]);
  const normed = layerNorm(merged, p[`${prefix}.norm.weight`]!, p[`${prefix}.norm.bias`]!);
  return linear(normed, p[`${prefix}.reduction.weight`]!);
}

/**
 * Runs one layer inside its own tidy, so its intermediates are freed when it ends rather than
 * all at once after the whole forward pass: peak memory becomes one layer's worth plus what
 * the gradient tape saved (tfjs keeps saved tensors out of tidy). In inference mode the
 * previous layer's output is released too.
 */
function scoped(opts: ForwardOptions, input: tf.Tensor, layer: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const out = tf.tidy(() => layer(input));
  if (opts.inference) input.dispose();
  return out;
}

/** Final-stage tokens [B, G*G, C] without the encoder's own final norm (the FER model never uses it). */
export function swinFeatures(p: Params, images: tf.Tensor, consts: SwinConstants, opts: ForwardOptions): tf.Tensor {
  const v = consts.variant;
  let x = tf.tidy(() => patchEmbed(p, images, v));
  for (const [i, st] of consts.stages.entries()) {
    for (let j = 0; j < st.depth; j++) {
      const shift = j % 2 === 1 ? st.shift : 0;
      const rate = dropPathRate(v, st.firstBlock + j);
      const prefix = `encoder.layers.${i}.blocks.${j}`;
      x = scoped(opts, x, (input) => {
        let drops: [tf.Tensor, tf.Tensor] | null = null;
        if (opts.training && rate > 0) {
          if (!opts.rng) throw new Error('training with drop path needs an rng');
          drops = [dropPathScale(input.shape[0], rate, opts.rng), dropPathScale(input.shape[0], rate, opts.rng)];
        }
        const run = opts.recompute ? recomputedBlock : block;
        return run(p, prefix, input, st, consts.perStage[i]!, shift, drops);
      });
    }
    if (st.downsample) x = scoped(opts, x, (input) => patchMerging(p, `encoder.layers.${i}.downsample`, input, st.resolution));
  }
  return x;
}
