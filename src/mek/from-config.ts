// The loss of every training step from the config's loss keys: the method's loss, plain
// cross-entropy during a warm start, and the class-balanced sample weights from loss.drw_step
// on. The class statistics (counts, prior) are those of the split training draws from.
import type { Config } from '../config/schema.ts';
import { balanceWeights, classBalancedWeights } from './balance.ts';
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
  };
  const reweighted: MekLossOptions = { ...method, sampleWeights: classBalancedWeights(prior.counts, l.drw_beta) };
  const warmStart = plainCrossEntropy(method);
  return {
    at: (step) => (step < l.warm_start_steps ? warmStart : l.drw_step > 0 && step >= l.drw_step ? reweighted : method),
    warnings: compositionWarnings(config),
  };
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
  return out;
}
