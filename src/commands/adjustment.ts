// `--adjust TAU` of mek eval and mek predict: which post-hoc adjustment applies and with which
// class prior. Without the flag, a checkpoint whose tau was chosen on a validation split after
// training uses that tau (so eval shows what training reported); otherwise none.
import type { Config } from '../config/schema.ts';
import { configPrior } from '../data/splits.ts';
import type { ModelInfo } from '../infer/engine.ts';
import { UsageError } from '../errors.ts';

export interface Adjustment {
  tau: number;
  /** Where tau came from, for the first line a command prints. */
  source: 'flag' | 'checkpoint' | 'none';
  /** log(prior) per class; null when no prior is known (then tau is 0). */
  logPrior: number[] | null;
  prior: { probabilities: number[] } | null;
}

/**
 * The prior: the checkpoint's own, else the training split of `config` (--config, or the config
 * saved in the checkpoint). `needed` says whether a missing prior is an error.
 */
export function resolvePrior(path: string, model: ModelInfo, config: Config | undefined, needed: boolean): { probabilities: number[] } | null {
  if (model.prior) return model.prior;
  const source = config ?? model.savedConfig;
  if (source) {
    try {
      return configPrior(source);
    } catch (err) {
      if (needed) throw new UsageError(`${path} stores no class prior and the training data of its config cannot give it (${(err as Error).message})`);
      return null;
    }
  }
  if (!needed) return null;
  throw new UsageError(
    `${path} stores no class prior (a PyTorch file, or a checkpoint of an older mek): pass --config with the training data, whose training split gives it`,
  );
}

export function resolveAdjustment(path: string, model: ModelInfo, flag: number | undefined, config: Config | undefined, alwaysNeedPrior = false): Adjustment {
  if (flag !== undefined && !(Number.isFinite(flag) && flag >= 0)) throw new UsageError(`--adjust must be a number >= 0 (tau; 0: the raw logits), got ${flag}`);
  const tau = flag ?? model.posthoc?.tau ?? 0;
  const source = flag !== undefined ? 'flag' : model.posthoc ? 'checkpoint' : 'none';
  const prior = resolvePrior(path, model, config, tau > 0 || alwaysNeedPrior);
  return { tau, source, prior, logPrior: prior ? prior.probabilities.map(Math.log) : null };
}

/** "post-hoc adjustment: tau 0.25 (chosen on the validation split after training; --adjust 0 for the raw logits)". */
export function describeAdjustment(a: Adjustment): string {
  if (a.source === 'none') return 'post-hoc adjustment: none (raw logits; --adjust TAU to apply one)';
  const why = a.source === 'checkpoint' ? 'chosen on the validation split after training; --adjust 0 for the raw logits' : '--adjust';
  return `post-hoc adjustment: tau ${a.tau} (${why}), predictions argmax(logits - tau log prior)`;
}
