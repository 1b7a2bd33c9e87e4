// GPU hygiene: a training step never reads a tensor back to JavaScript (on tfjs-node-gpu each
// read is a device round-trip that stalls the pipeline); losses are reduced on the device and
// read only at logging points by the caller.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { balanceWeights } from '../../src/mek/balance.ts';
import { REFERENCE_LOSS } from '../../src/mek/objective.ts';
import { Model } from '../../src/model/model.ts';
import { VARIANTS } from '../../src/model/variants.ts';
import { Rng } from '../../src/random.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { trainStep } from '../../src/train/step.ts';

let restore: (() => void) | null = null;

/**
 * Counts reads of tensor values from JavaScript (data, dataSync, array, arraySync, buffer,
 * bufferSync), the calls that would each be a device round-trip on a GPU backend. Reads a
 * CPU-side kernel makes of its own inputs go through the backend directly and are not counted.
 */
function countReads(): { reads: number; where: string[] } {
  const proto = tf.Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const names = ['data', 'dataSync', 'array', 'arraySync', 'buffer', 'bufferSync'];
  const saved = names.map((n) => proto[n]!);
  const counter = { reads: 0, where: [] as string[] };
  names.forEach((n, i) => {
    proto[n] = function (this: unknown, ...a: unknown[]) {
      counter.reads++;
      counter.where.push(new Error().stack!.split('\n').slice(2, 4).join(' <- '));
      return saved[i]!.apply(this, a);
    };
  });
  restore = () => names.forEach((n, i) => (proto[n] = saved[i]!));
  return counter;
}

afterEach(() => {
  restore?.();
  restore = null;
});

// The reads are decided by mek's code, not the backend: wasm (fast) shows them for all.
describe.each(['wasm'] as const)('a training step on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it('reads nothing back, with micro-batches and block recomputation too', async () => {
    const variant = VARIANTS.swin_tiny_test;
    const model = Model.init(variant, new Rng(1));
    const optimizer = new AdamW(model.weights.trainable(), { weightDecay: 0.05 });
    const images = tf.randomUniform([2, 56, 56, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 5], 'int32');
    for (const plan of [{}, { microBatch: 1, recompute: true }]) {
      const ctx = {
        model,
        optimizer,
        loss: { ...REFERENCE_LOSS, classWeights: balanceWeights([10, 3, 5, 40, 20, 6, 25]) },
        clipNorm: 5,
        rng: new Rng(2),
        training: true,
        ...plan,
      };
      const counter = countReads();
      const r = await trainStep(ctx, { images, labels }, 1e-3);
      expect(counter.reads, `${JSON.stringify(plan)}: ${counter.where.slice(0, 3).join('\n')}`).toBe(0);
      restore!();
      restore = null;
      // The step did run: its loss is finite when finally read.
      expect(Number.isFinite(r.total.dataSync()[0]!)).toBe(true);
      tf.dispose([r.total, r.cls, r.rac!, r.gradNorm]);
    }
    tf.dispose([images, labels]);
    optimizer.dispose();
    model.dispose();
  });
});
