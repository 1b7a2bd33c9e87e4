// The run's checkpoints and when each is written. last.json: after every evaluation, when the
// run is interrupted, and before an evaluation error surfaces; it carries what --resume needs
// (optimizer moments, the generator's state, the loader's position, the best so far).
// best.json: whenever an evaluation beats the best so far on train.best_metric. io/checkpoint/save.ts
// writes every file atomically, so a crash during a save leaves the previous checkpoint whole.
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { LoaderPosition } from '../data/loader.ts';
import type { PosthocChoice, Preprocessing, Pretext } from '../io/checkpoint/format.ts';
import { readCheckpoint } from '../io/checkpoint/read.ts';
import { saveCheckpoint, type SaveOptions } from '../io/checkpoint/save.ts';
import type { ClassPrior } from '../mek/prior.ts';
import type { Model } from '../model/model.ts';
import type { Rng } from '../random.ts';
import type { AdamW } from './adamw.ts';
import type { EvaluationAt } from './summary.ts';

/** What every checkpoint of the run records besides its step and metrics. */
export interface RunRecord {
  model: Model;
  classes: string[];
  preprocessing: Preprocessing;
  config: Config;
  prior: ClassPrior;
  /** The split whose evaluations pick best.json. */
  selection: 'val' | 'test';
  /** mek pretrain's runs: the task the head was trained for. */
  pretext?: Pretext;
}

/** What last.json holds beyond the weights, so that a resumed run continues the same stream. */
export interface ResumeState {
  optimizer: AdamW;
  rng: Rng;
  loader: LoaderPosition;
}

export class RunCheckpoints {
  readonly dir: string;
  private readonly run: RunRecord;
  private bestSoFar: EvaluationAt | null;

  /** `best`: the best evaluation so far (a resumed run's, from its last.json). */
  constructor(dir: string, run: RunRecord, best: EvaluationAt | null) {
    this.dir = dir;
    this.run = run;
    this.bestSoFar = best;
  }

  get best(): EvaluationAt | null {
    return this.bestSoFar;
  }

  async saveLast(step: number, metrics: Record<string, unknown>, state: ResumeState): Promise<void> {
    await saveCheckpoint(this.dir, 'last', {
      ...this.options(step, metrics),
      optimizer: state.optimizer,
      rngState: state.rng.state(),
      loader: state.loader,
      extra: { best: this.bestSoFar },
    });
  }

  /** Whether `metrics` (an evaluation record) beat the best so far; if so, best.json now holds the model. */
  async offer(step: number, metrics: Record<string, unknown>): Promise<boolean> {
    const metric = this.run.config.train.best_metric;
    const bestValue = this.bestSoFar ? (this.bestSoFar.metrics[metric] as number) : -Infinity;
    if (!((metrics[metric] as number) > bestValue)) return false;
    this.bestSoFar = { step, metrics };
    await saveCheckpoint(this.dir, 'best', this.options(step, metrics));
    return true;
  }

  /** Puts best.json's weights into the model: training is over, the final test evaluates them. */
  async restoreBest(): Promise<void> {
    this.run.model.weights.assign((await readCheckpoint(join(this.dir, 'best.json'))).values);
  }

  /** Rewrites best.json with the post-hoc choice added; the model must hold best.json's weights. */
  async addPosthoc(posthoc: PosthocChoice): Promise<void> {
    const best = this.bestSoFar;
    if (!best) throw new Error('no best.json to add the post-hoc choice to');
    await saveCheckpoint(this.dir, 'best', { ...this.options(best.step, best.metrics), posthoc });
  }

  private options(step: number, metrics: Record<string, unknown>): SaveOptions {
    const { model, classes, preprocessing, config, prior, selection, pretext } = this.run;
    const base = { store: model.weights, classes, preprocessing, step, metrics, config, prior };
    // A pretraining run keeps no best.json: no split picks its checkpoints.
    return pretext ? { ...base, pretext } : { ...base, selection: { split: selection, metric: config.train.best_metric } };
  }
}
