// AdamW, global-norm clipping and the learning-rate schedule against PyTorch / timm values.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendName } from '../../src/backend.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { clipByGlobalNorm } from '../../src/train/clip.ts';
import { learningRate, referenceSchedule } from '../../src/train/schedule.ts';
import { decode, loadFixture, maxDeviation, toleranceOf } from '../helpers/fixtures.ts';

const adamw = loadFixture('adamw.json');
const schedule = loadFixture('schedule.json');
const NAMES = ['a', 'b'] as const;

describe.each<BackendName>(['cpu', 'wasm'])('optimizer on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it('AdamW matches torch.optim.AdamW over three steps (zero and large gradients included)', () => {
    const vars = NAMES.map((n) => {
      const t = decode(adamw.params[n]);
      return tf.variable(tf.tensor(t.data, t.shape));
    });
    const opt = new AdamW(vars, {
      weightDecay: adamw.weight_decay,
      beta1: adamw.betas[0],
      beta2: adamw.betas[1],
      eps: adamw.eps,
    });
    adamw.lrs.forEach((lr: number, step: number) => {
      const grads = NAMES.map((n) => {
        const g = decode(adamw.grads[step][n]);
        return tf.tensor(g.data, g.shape);
      });
      opt.step(grads, lr);
      tf.dispose(grads);
      NAMES.forEach((n, i) => {
        expect(maxDeviation(vars[i]!.dataSync(), decode(adamw.after[step][n]).data), `${n} step ${step}`).toBeLessThan(toleranceOf(adamw, 'after'));
      });
    });
    expect(opt.stepCount).toBe(3);
    opt.dispose();
    tf.dispose(vars);
  });

  it('clips by global norm as clip_grad_norm_', () => {
    const grads = NAMES.map((n) => {
      const g = decode(adamw.clip.grads[n]);
      return tf.tensor(g.data, g.shape);
    });
    const { clipped, norm } = clipByGlobalNorm(grads, adamw.clip.max_norm);
    expect(Math.abs(norm.dataSync()[0]! - adamw.clip.total_norm)).toBeLessThan(toleranceOf(adamw, 'total_norm') * adamw.clip.total_norm);
    NAMES.forEach((n, i) => {
      expect(maxDeviation(clipped[i]!.dataSync(), decode(adamw.clip.clipped[n]).data)).toBeLessThan(toleranceOf(adamw, 'clipped'));
    });
    // Below the threshold nothing changes.
    const { clipped: same } = clipByGlobalNorm(grads, 1e9);
    expect(Array.from(same[0]!.dataSync())).toEqual(Array.from(grads[0]!.dataSync()));
    tf.dispose([...grads, ...clipped, ...same, norm]);
  });
});

describe('cosine schedule with warm-up (timm semantics)', () => {
  it('matches the reference at every fixture step', () => {
    for (const c of schedule.cases) {
      const s = {
        baseLr: c.base_lr,
        warmupLrInit: c.warmup_lr_init,
        lrMin: c.lr_min,
        warmupSteps: c.warmup_t,
        totalSteps: c.t_initial,
      };
      c.steps.forEach((step: number, i: number) => {
        expect(Math.abs(learningRate(s, step) - c.lrs[i]), `step ${step}`).toBeLessThan(toleranceOf(schedule, 'absolute') + toleranceOf(schedule, 'relative') * c.lrs[i]);
      });
    }
  });

  it('scales the paper recipe by batch / 512', () => {
    const s = referenceSchedule(32, 60000, 2000);
    expect(s.baseLr).toBeCloseTo(3.125e-5, 15);
    expect(s.warmupLrInit).toBeCloseTo(3.125e-8, 18);
    expect(s.lrMin).toBeCloseTo(3.125e-7, 17);
  });
});
