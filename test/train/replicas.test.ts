// Data parallelism across threads gives the batch's own loss and gradients (up to float32
// summation order) and the same inference outputs, on the wasm backend that uses it.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { balanceWeights } from '../../src/mek/balance.ts';
import { REFERENCE_LOSS } from '../../src/mek/objective.ts';
import { Model } from '../../src/model/model.ts';
import { VARIANTS } from '../../src/model/variants.ts';
import { Rng } from '../../src/random.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { ReplicaPool, splitSizes } from '../../src/train/replicas/pool.ts';
import { lossAndGradients } from '../../src/train/gradients.ts';
import type { TrainContext } from '../../src/train/step.ts';
import { maxDeviation } from '../helpers/fixtures.ts';

const variant = VARIANTS.swin_tiny_test;
let model: Model;
let pool: ReplicaPool;
let ctx: TrainContext;

beforeAll(async () => {
  await selectBackend('wasm');
  model = Model.init(variant, new Rng(3));
  ctx = {
    model,
    optimizer: new AdamW(model.weights.trainable()),
    loss: { ...REFERENCE_LOSS, classWeights: balanceWeights([10, 3, 5, 40, 20, 6, 25]) },
    clipNorm: 5,
    rng: new Rng(1),
    // No drop path: the parts must see the same network as the whole batch.
    training: false,
  };
  pool = await ReplicaPool.start(1, { backend: 'wasm', model, loss: ctx.loss, training: false, microBatch: 0, recompute: false });
}, 60_000);

afterAll(async () => {
  await pool.close();
  model.dispose();
});

describe('replica threads', () => {
  it('split a batch into near-equal parts', () => {
    expect(splitSizes(7, 2)).toEqual([4, 3]);
    expect(splitSizes(1, 3)).toEqual([1, 0, 0]);
    expect(splitSizes(8, 2)).toEqual([4, 4]);
  });

  it('the gradient of a batch split across two threads is the batch gradient', async () => {
    const images = tf.randomUniform([5, 56, 56, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 1, 3, 6, 2], 'int32');
    const whole = lossAndGradients(ctx, { images, labels });
    const before = tf.memory().numTensors;
    const split = await pool.lossAndGradients(ctx, { images, labels });
    // Nothing left behind but the results.
    expect(tf.memory().numTensors - before).toBe(split.grads.length + 3);
    expect(Math.abs(split.terms.total.dataSync()[0]! - whole.terms.total.dataSync()[0]!)).toBeLessThan(1e-6);
    expect(Math.abs(split.terms.rac!.dataSync()[0]! - whole.terms.rac!.dataSync()[0]!)).toBeLessThan(1e-6);
    let worst = 0;
    whole.grads.forEach((g, i) => (worst = Math.max(worst, maxDeviation(split.grads[i]!.dataSync(), g.dataSync()))));
    expect(worst).toBeLessThan(1e-6);
    tf.dispose([images, labels, ...whole.grads, ...split.grads, ...Object.values(whole.terms), ...Object.values(split.terms)].filter((t): t is tf.Tensor => t !== null));
  });

  it('with the consistency variants too (per-sample masks and maps): the split gradient is the batch gradient', async () => {
    const paper = ctx.loss;
    ctx.loss = { ...paper, lambda: 0.05, racNormalize: 'per_class', racClasses: 'true_pred', racWeights: [1, 1, 0.5, 2, 1, 1, 1] };
    const images = tf.randomUniform([5, 56, 56, 3], -1, 1, 'float32', 9) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 1, 3, 6, 2], 'int32');
    const whole = lossAndGradients(ctx, { images, labels });
    const split = await pool.lossAndGradients(ctx, { images, labels });
    ctx.loss = paper;
    expect(Math.abs(split.terms.rac!.dataSync()[0]! - whole.terms.rac!.dataSync()[0]!)).toBeLessThan(1e-5);
    let worst = 0;
    whole.grads.forEach((g, i) => (worst = Math.max(worst, maxDeviation(split.grads[i]!.dataSync(), g.dataSync()))));
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([images, labels, ...whole.grads, ...split.grads, ...Object.values(whole.terms), ...Object.values(split.terms)].filter((t): t is tf.Tensor => t !== null));
  });

  it('the replicas follow parameter updates, and inference splits too', async () => {
    // Change the parameters as an optimizer step would; the next request must see them.
    for (const v of model.weights.trainable()) tf.tidy(() => v.assign(tf.mul(v, 0.9)));
    const images = tf.randomUniform([6, 56, 56, 3], -1, 1, 'float32', 8) as tf.Tensor4D;
    const whole = model.infer(images, 4);
    const split = await pool.infer(images, 4);
    expect(split.logits.shape).toEqual(whole.logits.shape);
    expect(maxDeviation(split.logits.dataSync(), whole.logits.dataSync())).toBeLessThan(1e-6);
    expect(maxDeviation(split.cams.dataSync(), whole.cams.dataSync())).toBeLessThan(1e-5);
    tf.dispose([images, whole.logits, whole.cams, split.logits, split.cams]);
  });
});
