// The model as users get it: reference initialisation, the full-size parameter count, drop
// path only in training, a gradient for every trained parameter, and flat memory over steps.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { balanceWeights } from '../../src/mek/balance.ts';
import { REFERENCE_LOSS } from '../../src/mek/objective.ts';
import { Model } from '../../src/model/model.ts';
import { countParameters, ParamStore, paramSpecs } from '../../src/model/params.ts';
import { VARIANTS } from '../../src/model/variants.ts';
import { Rng } from '../../src/random.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { lossAndGradients } from '../../src/train/gradients.ts';
import { trainStep, type TrainContext } from '../../src/train/step.ts';
import { loadFixture, toleranceOf } from '../helpers/fixtures.ts';
import { RAFDB_TRAIN_COUNTS } from '../helpers/rafdb.ts';

const paramCounts = loadFixture('param_counts.json');
const counts = paramCounts.swin_t_fer;

function tinyContext(seed = 1): TrainContext {
  const model = Model.init(VARIANTS.swin_tiny_test, new Rng(seed));
  return {
    model,
    optimizer: new AdamW(model.weights.trainable(), { weightDecay: 0.05 }),
    loss: { ...REFERENCE_LOSS, classWeights: balanceWeights(RAFDB_TRAIN_COUNTS) },
    clipNorm: 5,
    rng: new Rng(seed + 100),
    training: true,
  };
}

function randomBatch(seed: number, b = 2) {
  const v = VARIANTS.swin_tiny_test;
  return {
    images: tf.randomUniform([b, v.imgSize, v.imgSize, 3], -1, 1, 'float32', seed) as tf.Tensor4D,
    labels: tf.tensor1d(Array.from({ length: b }, (_, i) => (i * 3 + seed) % 7), 'int32'),
  };
}

function dispose(ctx: TrainContext) {
  ctx.optimizer.dispose();
  ctx.model.dispose();
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('Swin-T (the paper model)', () => {
  it(`has exactly the reference's ${counts.parameters.toLocaleString('en')} parameters (28,508,417)`, () => {
    // Counted by PyTorch in scripts/reference/make_fixtures.py: sum(p.numel() for p in model.parameters()).
    expect(toleranceOf(paramCounts), 'counts and names compare exactly').toBe(0);
    expect(countParameters(VARIANTS.swin_t).total).toBe(28_508_417);
    expect(countParameters(VARIANTS.swin_t).total).toBe(counts.parameters);
    // Everything but the encoder's final norm and face-embedding head is trained.
    expect(countParameters(VARIANTS.swin_t).trained).toBe(counts.trainable_used);
    expect(paramSpecs(VARIANTS.swin_t).map((s) => [s.name, s.shape])).toEqual(counts.state_dict_keys);
  });

  it('runs a forward pass at 112x112 to 7 logits and 7x7 attention maps', () => {
    const v = VARIANTS.swin_t;
    const model = Model.init(v, new Rng(3));
    tf.tidy(() => {
      const x = tf.randomUniform([1, v.imgSize, v.imgSize, 3], -1, 1, 'float32', 4);
      const { logits, cams } = model.forward(x, { training: false });
      expect(logits.shape).toEqual([1, 7]);
      expect(cams.shape).toEqual([1, 7, 7, 7]);
      expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
    });
    model.dispose();
  });
});

describe('initialisation', () => {
  it('follows the reference: trunc-normal 0.02 weights, zero biases, unit LayerNorms', async () => {
    const store = ParamStore.init(VARIANTS.swin_tiny_test, new Rng(5));
    const values = await store.values();
    const qkv = values.get('encoder.layers.2.blocks.0.attn.qkv.weight')!;
    const mean = qkv.reduce((a, b) => a + b, 0) / qkv.length;
    const std = Math.sqrt(qkv.reduce((a, b) => a + (b - mean) ** 2, 0) / qkv.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(std).toBeGreaterThan(0.019);
    expect(std).toBeLessThan(0.021);
    expect(values.get('encoder.layers.0.blocks.0.mlp.fc1.bias')!.every((x) => x === 0)).toBe(true);
    expect(values.get('norm.weight')!.every((x) => x === 1)).toBe(true);
    const conv = values.get('encoder.patch_embed.proj.weight')!;
    expect(Math.max(...conv.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(12));
    // Same seed, same model.
    const again = await ParamStore.init(VARIANTS.swin_tiny_test, new Rng(5)).values();
    expect(again.get('head.weight')).toEqual(values.get('head.weight'));
    store.dispose();
  });
});

describe('training graph', () => {
  it('drop path acts only in training', () => {
    const ctx = tinyContext();
    tf.tidy(() => {
      const x = randomBatch(1).images;
      const evalA = ctx.model.forward(x, { training: false }).logits.dataSync();
      const evalB = ctx.model.forward(x, { training: false }).logits.dataSync();
      expect(Array.from(evalA)).toEqual(Array.from(evalB));
      const trainA = ctx.model.forward(x, { training: true, rng: new Rng(9) }).logits.dataSync();
      const trainB = ctx.model.forward(x, { training: true, rng: new Rng(10) }).logits.dataSync();
      expect(Array.from(trainA)).not.toEqual(Array.from(trainB));
    });
    dispose(ctx);
  });

  it.each(['wasm', 'cpu'] as const)('every trained parameter receives a finite non-zero gradient (%s)', async (backend) => {
    await selectBackend(backend);
    const ctx = tinyContext(2);
    const batch = randomBatch(2, 2);
    const { terms, grads } = lossAndGradients(ctx, batch);
    const names = ctx.model.weights.trainable().map((v) => ctx.model.weights.nameOf(v));
    expect(names.length).toBe(paramSpecs(VARIANTS.swin_tiny_test).filter((s) => s.kind === 'param').length);
    grads.forEach((g, i) => {
      const data = g.dataSync();
      expect(data.every(Number.isFinite), names[i]).toBe(true);
      expect(data.some((x) => x !== 0), names[i]).toBe(true);
    });
    tf.dispose([terms.total, terms.cls, terms.rac!, ...grads, batch.images, batch.labels]);
    dispose(ctx);
    await selectBackend('wasm');
  });

  it('keeps tf.memory().numTensors flat across 5 train steps and learns a fixed batch', async () => {
    const ctx = tinyContext(3);
    const batch = randomBatch(3, 4);
    const counts: number[] = [];
    const losses: number[] = [];
    for (let s = 0; s < 5; s++) {
      const r = await trainStep(ctx, batch, 1e-3);
      losses.push(r.total.dataSync()[0]!);
      tf.dispose([r.total, r.cls, r.rac!, r.gradNorm]);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size, `numTensors per step: ${counts}`).toBe(1);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[4]!).toBeLessThan(losses[0]!);
    tf.dispose([batch.images, batch.labels]);
    dispose(ctx);
  });
});

describe('micro-batches', () => {
  it('give the gradient of the whole batch (chunks of 1, 2 and 3 of a batch of 4)', () => {
    const ctx = tinyContext(4);
    ctx.training = false; // drop path draws differ by chunking; the sums must not
    const batch = randomBatch(4, 4);
    const whole = lossAndGradients(ctx, batch);
    for (const micro of [1, 2, 3]) {
      const parts = lossAndGradients({ ...ctx, microBatch: micro }, batch);
      expect(parts.terms.total.dataSync()[0]).toBeCloseTo(whole.terms.total.dataSync()[0]!, 5);
      expect(parts.terms.rac!.dataSync()[0]).toBeCloseTo(whole.terms.rac!.dataSync()[0]!, 5);
      parts.grads.forEach((g, i) => {
        const a = g.dataSync();
        const b = whole.grads[i]!.dataSync();
        let worst = 0;
        for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j]! - b[j]!) / Math.max(1e-3, Math.abs(b[j]!)));
        expect(worst).toBeLessThan(1e-3);
      });
      tf.dispose([parts.terms.total, parts.terms.cls, parts.terms.rac!, ...parts.grads]);
    }
    tf.dispose([whole.terms.total, whole.terms.cls, whole.terms.rac!, ...whole.grads, batch.images, batch.labels]);
    dispose(ctx);
  });
});
