// The loss and gradients of a batch computed on this thread: the clean and the mirrored images
// run as one batch of 2B, both MEK terms, backward. This is the part of a step that every
// thread runs, the training thread and each replica (replicas/worker.ts) alike; step.ts turns
// the gradients of the whole batch into an update.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradient functions; the union package's bundle does
// (for the same tfjs-core instance, which it requires rather than embeds).
import '@tensorflow/tfjs';
import { mekLoss, type LossTerms, type MekLossOptions } from '../mek/objective.ts';
import type { Model } from '../model/model.ts';
import type { Rng } from '../random.ts';

/** What computing a batch's gradients needs: the model, the loss and how to run it. */
export interface GradientContext {
  model: Model;
  loss: MekLossOptions;
  /** Source of drop-path draws. */
  rng: Rng;
  /** Stochastic depth on (the reference trains in train mode); off for golden comparisons. */
  training: boolean;
  /** Images per forward/backward chunk (before the flipped copies); 0 or absent: the whole batch. */
  microBatch?: number;
  /** Recompute blocks in the backward pass to bound memory (train.recompute). */
  recompute?: boolean;
}

export interface Batch {
  images: tf.Tensor4D; // [B, H, W, C], normalised
  labels: tf.Tensor1D; // int32 [B]
}

export interface BatchGradients {
  terms: LossTerms;
  /** One per trained parameter, in model.weights.trainable() order. */
  grads: tf.Tensor[];
}

/** Loss terms and gradients of one chunk of the batch, each scaled by `share` of the batch. */
function chunkLossAndGradients(ctx: GradientContext, images: tf.Tensor4D, labels: tf.Tensor1D, share: number): BatchGradients {
  const trainable = ctx.model.weights.trainable();
  let cls: tf.Scalar | null = null;
  let rac: tf.Scalar | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const b = images.shape[0];
    // Clean and mirrored views in one batch: one pass through the network for both.
    const input = ctx.loss.rac ? tf.concat([images, tf.reverse(images, 2)], 0) : images;
    const out = ctx.model.forward(input, { training: ctx.training, rng: ctx.rng, recompute: ctx.recompute });
    const k = out.logits.shape[1];
    const logits = ctx.loss.rac ? (tf.slice(out.logits, [0, 0], [b, k]) as tf.Tensor2D) : out.logits;
    const [cams, camsOfFlipped] = ctx.loss.rac ? (tf.split(out.cams, 2, 0) as tf.Tensor4D[]) : [null, null];
    const weights = tf.tensor1d(ctx.loss.classWeights, 'float32');
    const terms = mekLoss(logits, labels, cams ?? null, camsOfFlipped ?? null, weights, ctx.loss);
    cls = tf.keep(tf.mul(terms.cls, share) as tf.Scalar);
    rac = terms.rac ? tf.keep(tf.mul(terms.rac, share) as tf.Scalar) : null;
    return tf.mul(terms.total, share) as tf.Scalar;
  }, trainable);
  const ordered = trainable.map((v) => {
    const g = grads[v.name];
    if (!g) throw new Error(`no gradient reached ${ctx.model.weights.nameOf(v)}`);
    return g;
  });
  return { terms: { total: value, cls: cls!, rac: rac as tf.Scalar | null }, grads: ordered };
}

/** The sum of two chunks' results; both are disposed. */
function addChunks(a: BatchGradients, b: BatchGradients): BatchGradients {
  const sum = {
    terms: {
      total: tf.add(a.terms.total, b.terms.total) as tf.Scalar,
      cls: tf.add(a.terms.cls, b.terms.cls) as tf.Scalar,
      rac: a.terms.rac && b.terms.rac ? (tf.add(a.terms.rac, b.terms.rac) as tf.Scalar) : null,
    },
    grads: a.grads.map((g, i) => tf.add(g, b.grads[i]!)),
  };
  tf.dispose([...Object.values(a.terms), ...Object.values(b.terms), ...a.grads, ...b.grads].filter((t): t is tf.Tensor => t !== null));
  return sum;
}

/**
 * Loss terms and gradients of every trained parameter, no update. With ctx.microBatch set, the
 * batch runs in chunks whose gradients are summed, each weighted by its share of the batch:
 * both terms are per-sample means, so the result is the gradient of the whole batch while only
 * one chunk's activations are alive (wasm has a 4 GiB heap). `scale` multiplies everything:
 * the batch's own share of a larger batch split across threads.
 */
export function lossAndGradients(ctx: GradientContext, batch: Batch, scale = 1): BatchGradients {
  const total = batch.images.shape[0];
  const chunk = ctx.microBatch && ctx.microBatch > 0 ? Math.min(ctx.microBatch, total) : total;
  if (chunk === total) return chunkLossAndGradients(ctx, batch.images, batch.labels, scale);
  let acc: BatchGradients | null = null;
  for (let start = 0; start < total; start += chunk) {
    const size = Math.min(chunk, total - start);
    const images = tf.slice(batch.images, [start, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D;
    const labels = tf.slice(batch.labels, [start], [size]) as tf.Tensor1D;
    const part = chunkLossAndGradients(ctx, images, labels, (size / total) * scale);
    tf.dispose([images, labels]);
    acc = acc ? addChunks(acc, part) : part;
  }
  return acc!;
}
