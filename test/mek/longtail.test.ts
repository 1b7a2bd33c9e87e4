// The long-tail keys of the objective (logit adjustment, RBL's shares, deferred re-weighting)
// against golden values of the PyTorch reference, through the same path training takes: config
// keys -> trainingLosses -> mekLoss. And the composition rules around them.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { loadConfig } from '../../src/config/load.ts';
import { balanceWeights, classBalancedWeights } from '../../src/mek/balance.ts';
import { compositionWarnings, trainingLosses } from '../../src/mek/from-config.ts';
import { classPrior } from '../../src/mek/prior.ts';
import { toleranceOf } from '../helpers/fixtures.ts';
import { expectLossAndGradient, lossAndGradient } from '../helpers/losses.ts';

// scripts/reference/make_longtail_losses.py: swin_mek.classification_loss in float64
const fixture = JSON.parse(readFileSync(new URL('../fixtures/longtail_losses.json', import.meta.url), 'utf8')) as {
  tolerance: Record<'class_balanced' | 'prior' | 'loss' | 'grad', number>;
  counts: number[];
  eps: number;
  drw_beta: number;
  labels: number[];
  logits: number[];
  shape: [number, number];
  prior: number[];
  class_balanced: { beta: number; weights: number[] }[];
  cases: { name: string; rbl: boolean; rbl_shares: string; tau: number; gamma: number; drw: boolean; loss: number; grad: number[] }[];
};

const TOL = {
  classBalanced: toleranceOf(fixture, 'class_balanced'),
  prior: toleranceOf(fixture, 'prior'),
  loss: toleranceOf(fixture, 'loss'),
  grad: toleranceOf(fixture, 'grad'),
};

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('class-balanced weights (loss.drw_beta) and the prior, against PyTorch', () => {
  for (const c of fixture.class_balanced) {
    it(`beta ${c.beta}: to ${TOL.classBalanced}, averaging 1`, () => {
      const w = classBalancedWeights(fixture.counts, c.beta);
      w.forEach((v, i) => expect(Math.abs(v - c.weights[i]!)).toBeLessThan(TOL.classBalanced));
      expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(fixture.counts.length, 10);
    });
  }

  it('refuses beta outside [0, 1) and empty classes', () => {
    expect(() => classBalancedWeights([3, 4], 1)).toThrow(/\[0, 1\)/);
    expect(() => classBalancedWeights([3, 4], -0.1)).toThrow(/\[0, 1\)/);
    expect(() => classBalancedWeights([3, 0], 0.9)).toThrow(/class 1 has 0/);
  });

  it('the prior is the class frequencies, or uniform with the balanced sampler', () => {
    classPrior(fixture.counts, 'shuffle').probabilities.forEach((p, i) => expect(Math.abs(p - fixture.prior[i]!)).toBeLessThan(TOL.prior));
    expect(classPrior([1, 3], 'balanced').probabilities).toEqual([0.5, 0.5]);
  });
});

describe('the classification term with loss.logit_adjust, loss.rbl_shares and loss.drw_step, against PyTorch', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: loss to ${TOL.loss}, gradient to ${TOL.grad}`, () => {
      const config = loadConfig(undefined, [
        `loss.rbl=${c.rbl}`,
        'loss.rac=false',
        `loss.eps=${fixture.eps}`,
        `loss.rbl_shares=${c.rbl_shares}`,
        `loss.logit_adjust=${c.tau}`,
        `loss.focal_gamma=${c.gamma}`,
        `loss.drw_step=${c.drw ? 10 : 0}`,
        `loss.drw_beta=${fixture.drw_beta}`,
        `data.classes=[${fixture.counts.map((_, i) => `c${i}`).join(',')}]`,
      ]);
      const opts = trainingLosses(config, classPrior(fixture.counts, 'shuffle')).at(c.drw ? 10 : 0);
      const got = lossAndGradient(fixture.logits, fixture.shape, fixture.labels, balanceWeights(fixture.counts), opts);
      expectLossAndGradient(got, c, TOL);
    });
  }
});

describe('the loss of each step (trainingLosses)', () => {
  const prior = classPrior([50, 10, 5], 'shuffle');
  const config = (...sets: string[]) => loadConfig(undefined, ['data.classes=[a,b,c]', 'train.steps=100', ...sets]);

  it('plain cross-entropy during a warm start, the method after, class-balanced weights from drw_step on', () => {
    const losses = trainingLosses(config('loss.warm_start_steps=10', 'loss.drw_step=60', 'loss.logit_adjust=1'), prior);
    const warm = losses.at(9);
    expect([warm.rbl, warm.rac, warm.logitOffset, warm.sampleWeights]).toEqual([false, false, undefined, undefined]);
    const method = losses.at(10);
    expect([method.rbl, method.rac, method.sampleWeights]).toEqual([true, true, undefined]);
    method.logitOffset!.forEach((o, i) => expect(o).toBeCloseTo(Math.log(prior.probabilities[i]!), 12));
    expect(losses.at(59).sampleWeights).toBeUndefined();
    expect(losses.at(60).sampleWeights).toEqual(classBalancedWeights([50, 10, 5], 0.9999));
  });

  it('neutral shares are prior^tau (uniform without adjustment), balance shares the balance weights', () => {
    expect(trainingLosses(config('loss.rbl_shares=neutral'), prior).at(0).shareWeights).toEqual([1, 1, 1]);
    const shares = trainingLosses(config('loss.rbl_shares=neutral', 'loss.logit_adjust=0.5'), prior).at(0).shareWeights!;
    shares.forEach((s, i) => expect(s).toBeCloseTo(Math.sqrt(prior.probabilities[i]!), 12));
    expect(trainingLosses(config(), prior).at(0).shareWeights).toBeUndefined();
  });

  it('warns, one line each, about the compositions measured to fail or to do nothing', () => {
    expect(compositionWarnings(config('loss.logit_adjust=1'))).toEqual([expect.stringMatching(/collapses .* set loss.rbl_shares: neutral/)]);
    expect(compositionWarnings(config('loss.logit_adjust=1', 'loss.rbl_shares=neutral'))).toEqual([]);
    expect(compositionWarnings(config('loss.logit_adjust=1', 'loss.rbl=false'))).toEqual([]);
    expect(compositionWarnings(config('loss.logit_adjust=1', 'loss.rbl=false', 'data.sampler=balanced'))).toEqual([expect.stringMatching(/no effect/)]);
    expect(compositionWarnings(config('loss.drw_step=50', 'loss.rbl=false', 'data.sampler=balanced'))).toEqual([expect.stringMatching(/compensated twice/)]);
    for (const w of compositionWarnings(config('loss.logit_adjust=1', 'data.sampler=balanced', 'loss.drw_step=5'))) expect(w).not.toContain('\n');
  });
});
