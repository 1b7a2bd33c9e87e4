// The consistency variants of issue 18 (loss.rac_normalize, loss.rac_classes, loss.rac_weights,
// loss.lambda_warmup_steps) against golden values of the PyTorch reference, through the path
// training takes: config keys -> trainingLosses(...).at(step) -> mekLoss, the weights tensor
// made as gradients.ts makes it. The gradient is taken with respect to the clean logits and the
// CAMs of both views, mekLoss's inputs.
import * as tf from '@tensorflow/tfjs-core';
// gradient functions (the union package registers them for this tfjs-core)
import '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { racClassWeights } from '../../src/mek/balance.ts';
import { compositionWarnings, lambdaAt, trainingLosses } from '../../src/mek/from-config.ts';
import { rebalancedAttentionConsistency, standardiseMaps, truePredictedMask } from '../../src/mek/losses.ts';
import { mekLoss, type MekLossOptions } from '../../src/mek/objective.ts';
import { classPrior } from '../../src/mek/prior.ts';
import { expectOneLineError, thrownBy } from '../helpers/errors.ts';
import { decode, loadFixture, maxDeviation, toleranceOf, type EncodedTensor } from '../helpers/fixtures.ts';

interface Case {
  name: string;
  rac_normalize: string;
  rac_classes: string;
  rac_weights: string;
  lambda_warmup_steps: number;
  warm_start_steps: number;
  step: number;
  lambda_t: number;
  loss: number;
  cls: number;
  rac: number | null;
  grad_logits: number[];
  grad_cams: EncodedTensor;
  grad_cams_flipped: EncodedTensor;
}

// scripts/reference/make_rac_variants.py: swin_mek.classification_loss + rac_variant_loss in float64
const fixture = loadFixture<{
  tolerance: Record<'loss' | 'grad', number>;
  counts: number[];
  eps: number;
  lambda: number;
  labels: number[];
  logits: EncodedTensor;
  cams: EncodedTensor;
  cams_flipped: EncodedTensor;
  cases: Case[];
}>('rac_variants.json');

const TOL = { loss: toleranceOf(fixture, 'loss'), grad: toleranceOf(fixture, 'grad') };
const [logits, cams, camsFlipped] = [decode(fixture.logits), decode(fixture.cams), decode(fixture.cams_flipped)] as const;
const classNames = `data.classes=[${fixture.counts.map((_, i) => `c${i}`).join(',')}]`;

beforeAll(async () => {
  await selectBackend('cpu');
});

/** The step's loss as training builds it from the case's keys. */
function optionsOf(c: Case): MekLossOptions {
  const config = loadConfig(undefined, [
    classNames,
    `loss.eps=${fixture.eps}`,
    `loss.lambda=${fixture.lambda}`,
    `loss.rac_normalize=${c.rac_normalize}`,
    `loss.rac_classes=${c.rac_classes}`,
    `loss.rac_weights=${c.rac_weights}`,
    `loss.lambda_warmup_steps=${c.lambda_warmup_steps}`,
    `loss.warm_start_steps=${c.warm_start_steps}`,
  ]);
  return trainingLosses(config, classPrior(fixture.counts, 'shuffle')).at(c.step);
}

interface Result {
  loss: number;
  cls: number;
  rac: number | null;
  grads: [Float32Array, Float32Array, Float32Array];
}

/** mekLoss's total, its terms and the gradient of the total with respect to logits, cams and camsOfFlipped. */
function run(opts: MekLossOptions): Result {
  let out: Result | null = null;
  tf.tidy(() => {
    const labels = tf.tensor1d(fixture.labels, 'int32');
    const weights = tf.tensor1d(opts.classWeights, 'float32');
    let terms: { cls: number; rac: number | null } = { cls: NaN, rac: null };
    const f = (z: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
      const t = mekLoss(z as tf.Tensor2D, labels, a as tf.Tensor4D, b as tf.Tensor4D, weights, opts);
      terms = { cls: t.cls.dataSync()[0]!, rac: t.rac ? t.rac.dataSync()[0]! : null };
      return t.total as tf.Scalar;
    };
    const [z, a, b] = [logits, cams, camsFlipped].map((t) => tf.tensor(t.data, t.shape)) as [tf.Tensor, tf.Tensor, tf.Tensor];
    // Without RAC (a warm start) the maps take no part: their gradient is zero.
    const { value, grads } = opts.rac ? tf.valueAndGrads(f)([z, a, b]) : tf.valueAndGrads((x: tf.Tensor) => f(x, a, b))([z]);
    const [gz, ga, gb] = opts.rac ? grads : [grads[0]!, tf.zerosLike(a), tf.zerosLike(b)];
    const data = [gz, ga, gb].map((g) => g!.dataSync() as Float32Array) as Result['grads'];
    out = { loss: value.dataSync()[0]!, ...terms, grads: data };
  });
  return out!;
}

const relative = (got: number, want: number) => Math.abs(got - want) / Math.max(1, Math.abs(want));

describe('the consistency variants against PyTorch, through config -> trainingLosses -> mekLoss', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: loss to ${TOL.loss}, gradients to ${TOL.grad}`, () => {
      const opts = optionsOf(c);
      if (c.rac !== null) expect(opts.lambda).toBeCloseTo(c.lambda_t, 12);
      const got = run(opts);
      expect(relative(got.loss, c.loss)).toBeLessThan(TOL.loss);
      expect(relative(got.cls, c.cls)).toBeLessThan(TOL.loss);
      if (c.rac === null) expect(got.rac).toBeNull();
      else expect(relative(got.rac!, c.rac)).toBeLessThan(TOL.loss);
      expect(maxDeviation(got.grads[0], c.grad_logits)).toBeLessThan(TOL.grad);
      expect(maxDeviation(got.grads[1], decode(c.grad_cams).data)).toBeLessThan(TOL.grad);
      expect(maxDeviation(got.grads[2], decode(c.grad_cams_flipped).data)).toBeLessThan(TOL.grad);
    });
  }
});

describe('the fixture tells the variants from near misses', () => {
  const byName = (name: string) => fixture.cases.find((c) => c.name === name)!;
  /** The paper's term on maps prepared by `prepare`, with the case's weights and mask. */
  const racOf = (c: Case, prepare: (m: tf.Tensor4D) => tf.Tensor4D, mask?: (z: tf.Tensor2D, y: tf.Tensor1D) => tf.Tensor2D) =>
    tf.tidy(() => {
      const opts = optionsOf(c);
      const z = tf.tensor2d(logits.data, logits.shape as [number, number]);
      const y = tf.tensor1d(fixture.labels, 'int32');
      const a = prepare(tf.tensor4d(cams.data, cams.shape as [number, number, number, number]));
      // the mirrored view is flipped back before any per-map step, so flip, prepare, flip again
      const b = tf.reverse(prepare(tf.reverse(tf.tensor4d(camsFlipped.data, camsFlipped.shape as [number, number, number, number]), 3)), 3) as tf.Tensor4D;
      const w = tf.tensor1d(opts.racWeights ?? opts.classWeights);
      return rebalancedAttentionConsistency(a, b, w, { classMask: mask ? mask(z, y) : null }).dataSync()[0]!;
    });
  const standardiseOver = (axes: number[]) => (m: tf.Tensor4D) => {
    const { mean, variance } = tf.moments(m, axes, true);
    return tf.div(tf.sub(m, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor4D;
  };

  it('the right preparation reproduces per_class; the wrong axis, no centring or an L2 norm miss by far more than the bound', () => {
    const c = byName('per_class, all, balance');
    expect(relative(racOf(c, standardiseMaps), c.rac!)).toBeLessThan(TOL.loss);
    const l2 = (m: tf.Tensor4D) => tf.div(m, tf.add(tf.norm(m, 'euclidean', [2, 3], true), 1e-5)) as tf.Tensor4D;
    const scaleOnly = (m: tf.Tensor4D) => tf.div(m, tf.sqrt(tf.add(tf.moments(m, [2, 3], true).variance, 1e-5))) as tf.Tensor4D;
    for (const wrong of [standardiseOver([1]), standardiseOver([3]), standardiseOver([1, 2, 3]), l2, scaleOnly, (m: tf.Tensor4D) => m]) {
      expect(relative(racOf(c, wrong), c.rac!)).toBeGreaterThan(100 * TOL.loss);
    }
  });

  it('true_pred needs both classes: the label alone or the prediction alone miss', () => {
    const c = byName('none, true_pred, balance');
    const same = (m: tf.Tensor4D) => m;
    expect(relative(racOf(c, same, truePredictedMask), c.rac!)).toBeLessThan(TOL.loss);
    const labelOnly = (z: tf.Tensor2D, y: tf.Tensor1D) => tf.cast(tf.oneHot(y, z.shape[1]), 'float32') as tf.Tensor2D;
    const predOnly = (z: tf.Tensor2D) => tf.cast(tf.oneHot(tf.argMax(z, 1), z.shape[1]), 'float32') as tf.Tensor2D;
    for (const wrong of [labelOnly, predOnly]) expect(relative(racOf(c, same, wrong), c.rac!)).toBeGreaterThan(100 * TOL.loss);
  });
});

describe('the variants in mek', () => {
  it('RAC weights: balance as they are, mean1 averaging 1, bounded at 1, uniform', () => {
    const w = [0.5, 2, 4];
    expect(racClassWeights(w, 'balance')).toEqual(w);
    expect(racClassWeights(w, 'mean1').map((x) => x * (6.5 / 3))).toEqual(w.map((x) => expect.closeTo(x, 12)));
    expect(racClassWeights(w, 'bounded')).toEqual([0.5, 1, 1]);
    expect(racClassWeights(w, 'uniform')).toEqual([1, 1, 1]);
  });

  it('per_class normalisation makes the term blind to each map\'s scale and offset', () => {
    tf.tidy(() => {
      const a = tf.randomNormal([2, 3, 4, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
      const b = tf.randomNormal([2, 3, 4, 4], 0, 1, 'float32', 6) as tf.Tensor4D;
      const w = tf.tensor1d([1, 5, 0.2]);
      const value = (x: tf.Tensor4D, y: tf.Tensor4D, normalize: 'none' | 'per_class') => rebalancedAttentionConsistency(x, y, w, { normalize }).dataSync()[0]!;
      // Maps 20 times smaller (std 0.05, well above sqrt(eps) = 0.003) and moved by 3: the raw
      // term falls 400-fold, the standardised one stays within eps's share of the variance.
      const shrunk = (m: tf.Tensor4D) => tf.add(tf.mul(m, 0.05), 3) as tf.Tensor4D;
      expect(relative(value(shrunk(a), shrunk(b), 'per_class'), value(a, b, 'per_class'))).toBeLessThan(0.02);
      expect(value(shrunk(a), shrunk(b), 'none')).toBeLessThan(value(a, b, 'none') / 300);
    });
  });

  it('the defaults leave the options as they were, and lambda ramps from the end of the warm start', () => {
    const prior = classPrior([50, 10, 5], 'shuffle');
    const config = (...sets: string[]) => loadConfig(undefined, ['data.classes=[a,b,c]', 'train.steps=1000', ...sets]);
    const plain = trainingLosses(config(), prior).at(0);
    expect([plain.racWeights, plain.racNormalize, plain.racClasses, plain.lambda]).toEqual([undefined, undefined, undefined, 0.1]);
    const ramped = config('loss.lambda_warmup_steps=100', 'loss.warm_start_steps=20', 'loss.lambda=0.5');
    expect([0, 20, 30, 70, 120, 500].map((s) => lambdaAt(ramped, s))).toEqual([0, 0, 0.05, 0.25, 0.5, 0.5]);
    const losses = trainingLosses(ramped, prior);
    expect(losses.at(10).rac).toBe(false);
    expect(losses.at(70).lambda).toBeCloseTo(0.25, 12);
    expect(losses.at(200).lambda).toBe(0.5);
  });

  it('refuses bad values with one line, and warns about keys that cannot act', () => {
    for (const set of ['loss.rac_normalize=l2', 'loss.rac_classes=true', 'loss.rac_weights=flat', 'loss.lambda_warmup_steps=-1', 'train.log_head_projection=yes']) {
      const err = expectOneLineError(thrownBy(() => loadConfig(undefined, [set])), ConfigError);
      expect(err.message).toContain(set.split('=')[0]);
    }
    const config = (...sets: string[]) => loadConfig(undefined, ['train.steps=100', ...sets]);
    expect(compositionWarnings(config('loss.rac=false', 'loss.rac_normalize=per_class'))).toEqual([expect.stringMatching(/loss.rac_normalize .*no effect/)]);
    expect(compositionWarnings(config('loss.lambda_warmup_steps=90', 'loss.warm_start_steps=20'))).toEqual([expect.stringMatching(/only at step 110/)]);
    expect(compositionWarnings(config('loss.lambda_warmup_steps=50', 'loss.rac_classes=true_pred'))).toEqual([]);
  });
});
