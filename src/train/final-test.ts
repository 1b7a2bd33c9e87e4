// The end of a run with a validation split: best.json, picked on the validation split, is
// evaluated once on the test split; the post-hoc tau is chosen on the validation split
// (TAU_GRID, highest mean-class accuracy) and stored in best.json, with the test split's
// metrics at that tau.
import { join } from 'node:path';
import type { SplitSamples } from '../data/labels.ts';
import { adjustedPredictions, bestTau, sweepAdjustment } from '../eval/adjust.ts';
import { computeMetrics } from '../eval/metrics.ts';
import { confusionPng } from '../eval/plots/confusion.ts';
import { logPrior, type ClassPrior } from '../mek/prior.ts';
import type { RunCheckpoints } from './checkpoints.ts';
import { evaluationRecord, metricsLine, pct } from './evaluation-report.ts';
import type { SplitEvaluator } from './live-evaluation.ts';
import type { MetricsLog } from './metrics-log.ts';
import type { ProgressReporter } from './progress.ts';
import type { EvaluationAt, PosthocResult } from './summary.ts';

export interface FinalTestOptions {
  best: EvaluationAt;
  val: SplitSamples;
  test: SplitSamples;
  classes: string[];
  prior: ClassPrior;
  /** Evaluates the model, which holds best.json's weights by now. */
  evaluate: SplitEvaluator;
  checkpoints: RunCheckpoints;
  log: MetricsLog;
  progress: ProgressReporter;
}

export interface FinalTest {
  /** best.json's metrics on the test split. */
  test: Record<string, unknown>;
  posthoc: PosthocResult;
}

export async function testWithBest(o: FinalTestOptions): Promise<FinalTest> {
  const logP = logPrior(o.prior);
  const valRun = await o.evaluate(o.val);
  const sweep = sweepAdjustment(valRun.logits, valRun.labels, logP);
  const chosen = bestTau(sweep);
  const testRun = await o.evaluate(o.test);
  const adjusted = computeMetrics(testRun.labels, adjustedPredictions(testRun.logits, logP, chosen.tau), o.classes.length);
  const test = { step: o.best.step, ...evaluationRecord(testRun.metrics, o.classes) };
  const posthoc: PosthocResult = {
    tau: chosen.tau,
    val_mean_class_accuracy: chosen.metrics.meanClass,
    val_mean_class_accuracy_raw: sweep[0]!.metrics.meanClass,
    test: { step: o.best.step, ...evaluationRecord(adjusted, o.classes) },
  };
  o.log.record({ event: 'test', ...test, checkpoint: 'best', selection: 'val' });
  o.log.record({ event: 'posthoc', step: o.best.step, tau: chosen.tau, val_sweep: sweep.map((p) => ({ tau: p.tau, accuracy: p.metrics.overall, mean_class_accuracy: p.metrics.meanClass })), test: posthoc.test });
  await o.checkpoints.addPosthoc({ tau: chosen.tau, split: 'val', meanClass: chosen.metrics.meanClass, meanClassRaw: posthoc.val_mean_class_accuracy_raw });
  await confusionPng(join(o.checkpoints.dir, 'confusion.png'), testRun.metrics, o.classes);
  o.progress.line(`test split, best.json (step ${o.best.step}, picked on the validation split): ${metricsLine(testRun.metrics, o.classes)}`);
  o.progress.line(
    `post-hoc adjustment, tau ${chosen.tau} chosen on the validation split (mean-class ${pct(posthoc.val_mean_class_accuracy_raw)} -> ${pct(chosen.metrics.meanClass)}; ` +
      `stored in best.json, used by mek eval and predict): test ${metricsLine(adjusted, o.classes)}`,
  );
  return { test, posthoc };
}
