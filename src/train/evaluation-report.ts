// How a run reports an evaluation: the record that metrics.jsonl, checkpoints and summary.json
// keep, and the line the user reads.
import type { Metrics } from '../eval/metrics.ts';

/** accuracy, mean_class_accuracy and per_class (null for a class absent from the split). */
export function evaluationRecord(m: Metrics, classes: string[]): Record<string, unknown> {
  return {
    accuracy: m.overall,
    mean_class_accuracy: m.meanClass,
    per_class: Object.fromEntries(classes.map((c, i) => [c, m.perClass[i] ?? null])),
  };
}

export function pct(fraction: number): string {
  return `${(100 * fraction).toFixed(2)}%`;
}

/** "accuracy 83.57%  mean-class 54.66%  Surprise 96.7 Fear 0.0 ...". */
export function metricsLine(m: Metrics, classes: string[]): string {
  return (
    `accuracy ${pct(m.overall)}  mean-class ${pct(m.meanClass)}  ` +
    classes.map((c, i) => `${c} ${m.perClass[i] === null ? '-' : (100 * m.perClass[i]!).toFixed(1)}`).join(' ')
  );
}
