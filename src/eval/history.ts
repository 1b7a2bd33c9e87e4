// The training history the curves are drawn from: the events of a run's metrics.jsonl, one
// JSON object a line. Log events carry lr and the loss terms, eval events the accuracies;
// fields a run does not log are simply absent. Accuracies are fractions in [0, 1].

export interface MetricEvent {
  step: number;
  lr?: number;
  loss?: number;
  loss_cls?: number;
  loss_rac?: number;
  accuracy?: number;
  mean_class_accuracy?: number;
  [field: string]: unknown;
}

/** Any logged object; those without a numeric step are ignored when plotting. */
export type MetricRecord = Readonly<Record<string, unknown>>;

/**
 * Parses metrics.jsonl. Lines are appended one at a time, so a crash can leave the last line
 * cut short: that line is dropped. Any other line that is not an object with a numeric step
 * is an error naming the line.
 */
export function parseMetricsJsonl(text: string): MetricEvent[] {
  const lines = text.split('\n');
  let lastContent = lines.length - 1;
  while (lastContent >= 0 && lines[lastContent]!.trim() === '') lastContent--;
  const events: MetricEvent[] = [];
  lines.forEach((raw, i) => {
    const l = raw.trim();
    if (l === '') return;
    let value: unknown;
    try {
      value = JSON.parse(l);
    } catch {
      if (i === lastContent && !text.endsWith('\n')) return;
      throw new SyntaxError(`metrics line ${i + 1} is not JSON: ${l.slice(0, 80)}`);
    }
    const step = (value as { step?: unknown } | null)?.step;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof step !== 'number') {
      throw new SyntaxError(`metrics line ${i + 1} is not an object with a numeric "step"`);
    }
    events.push(value as MetricEvent);
  });
  return events;
}

/** (step, value) pairs of one numeric field, finite values only, in step order. */
export function series(events: readonly MetricRecord[], field: string): [number, number][] {
  const points: [number, number][] = [];
  for (const e of events) {
    const v = e[field];
    const step = e.step;
    if (typeof v === 'number' && Number.isFinite(v) && typeof step === 'number' && Number.isFinite(step)) points.push([step, v]);
  }
  // A resumed run can log a step twice; the stable sort keeps the later entry last.
  return points.sort((a, b) => a[0] - b[0]);
}
