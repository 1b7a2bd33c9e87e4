// The loss of every training step from the config's loss keys: the method's loss, plain
// cross-entropy during a warm start, the class-balanced sample weights from loss.drw_step on,
// and lambda ramped over loss.lambda_warmup_steps. The class statistics (counts, prior) are
// those of the split training draws from.
import type { Config } from '../config/schema.ts';
import { balanceWeights, classBalancedWeights, racClassWeights } from './balance.ts';
import { plainCrossEntropy, type MekLossOptions } from './objective.ts';
import { logPrior, type ClassPrior } from './prior.ts';

export interface TrainingLosses {
  /** The loss of the step that starts at `step` (0-based). */
  at(step: number): MekLossOptions;
  /** Compositions known to misbehave, one line each, for the run to print. */
  warnings: string[];
}

export function trainingLosses(config: Config, prior: ClassPrior): TrainingLosses {
  const l = config.loss;
  const weights = balanceWeights(prior.counts, l.balance_normaliser, l.balance_power);
  const tau = l.logit_adjust;
  const logP = logPrior(prior);
  const method: MekLossOptions = {
    rbl: l.rbl,
    eps: l.eps,
    rac: l.rac,
    lambda: l.lambda,
    focalGamma: l.focal_gamma,
    classWeights: weights,
    // prior^tau: RBL's target mass on a class turns into the raw logit log q - tau log prior,
    // so shares in proportion to prior^tau leave the raw logits of the other classes level.
    ...(l.rbl_shares === 'neutral' ? { shareWeights: logP.map((lp) => Math.exp(tau * lp)) } : {}),
    ...(tau > 0 ? { logitOffset: logP.map((lp) => tau * lp) } : {}),
    // The consistency variants; the paper's choices leave the options as they were.
    ...(l.rac_weights !== 'balance' ? { racWeights: racClassWeights(weights, l.rac_weights) } : {}),
    ...(l.rac_normalize !== 'none' ? { racNormalize: l.rac_normalize } : {}),
    ...(l.rac_classes !== 'all' ? { racClasses: l.rac_classes } : {}),
  };
  const reweighted: MekLossOptions = { ...method, sampleWeights: classBalancedWeights(prior.counts, l.drw_beta) };
  const warmStart = plainCrossEntropy(method);
  const lossAt = (step: number) => (step < l.warm_start_steps ? warmStart : l.drw_step > 0 && step >= l.drw_step ? reweighted : method);
  return {
    at: (step) => {
      const loss = lossAt(step);
      const lambda = lambdaAt(config, step);
      return loss.rac && lambda !== loss.lambda ? { ...loss, lambda } : loss;
    },
    warnings: compositionWarnings(config),
  };
}

/**
 * RAC's weight at `step` (0-based): loss.lambda, or with loss.lambda_warmup_steps N a linear ramp
 * lambda * min(1, s / N), s counted from the first step of the configured loss (after
 * loss.warm_start_steps), so the term starts at 0 and reaches lambda N steps later.
 */
export function lambdaAt(config: Config, step: number): number {
  const l = config.loss;
  const n = l.lambda_warmup_steps;
  return n > 0 ? l.lambda * Math.min(1, Math.max(0, step - l.warm_start_steps) / n) : l.lambda;
}

/** One line per combination of keys that measurements (README "Imbalance: what helps") advise against. */
export function compositionWarnings(config: Config): string[] {
  const l = config.loss;
  const out: string[] = [];
  if (l.logit_adjust > 0 && l.rbl && l.rbl_shares === 'balance') {
    out.push(
      `loss.logit_adjust ${l.logit_adjust} with loss.rbl and loss.rbl_shares 'balance' moves mass to the rare classes twice and ` +
        `collapses onto them (11% mean-class on long-tailed Fashion-MNIST); set loss.rbl_shares: neutral`,
    );
  }
  if (config.data.sampler === 'balanced' && l.logit_adjust > 0) {
    out.push('loss.logit_adjust has no effect with data.sampler balanced: the sampler already shows the model a uniform prior');
  }
  if (config.data.sampler === 'balanced' && l.drw_step > 0) {
    out.push('loss.drw_step re-weights classes that data.sampler balanced already draws equally often: the rare classes are compensated twice');
  }
  const racKeys = ['rac_normalize', 'rac_classes', 'rac_weights', 'lambda_warmup_steps'] as const;
  const racDefaults = { rac_normalize: 'none', rac_classes: 'all', rac_weights: 'balance', lambda_warmup_steps: 0 };
  const racSet = racKeys.filter((k) => l[k] !== racDefaults[k]);
  if (!l.rac && racSet.length > 0) out.push(`${racSet.map((k) => `loss.${k}`).join(', ')} change the consistency term, which loss.rac false switches off: no effect`);
  if (l.rac && l.lambda_warmup_steps > 0 && l.warm_start_steps + l.lambda_warmup_steps > config.train.steps) {
    out.push(`loss.lambda reaches ${l.lambda} only at step ${l.warm_start_steps + l.lambda_warmup_steps} (loss.warm_start_steps + loss.lambda_warmup_steps), after train.steps ${config.train.steps}`);
  }
  return out;
}
