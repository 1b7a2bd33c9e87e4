// Classification metrics of an imbalanced test set: overall accuracy hides the minor classes,
// so every evaluation also reports per-class recall and their unweighted mean (the paper's
// "mean class accuracy"). Everything derives from one confusion matrix of counts, which a
// streaming accumulator fills batch by batch. Accuracies are fractions in [0, 1].

export type LabelArray = Int32Array | Uint8Array | readonly number[];

export interface Metrics {
  numClasses: number;
  /** Samples counted. */
  total: number;
  /** Samples whose prediction equals the label. */
  correct: number;
  /** Counts, [true class][predicted class]. */
  confusion: number[][];
  /** Each row divided by its support; a class without samples has a row of zeros. */
  confusionNormalized: number[][];
  /** Test samples per true class. */
  support: number[];
  /** Recall per class; null where the class has no samples. */
  perClass: (number | null)[];
  /** correct / total. */
  overall: number;
  /** Unweighted mean of the non-null per-class recalls. */
  meanClass: number;
  /** Classes without samples, left out of meanClass (in class order). */
  missingClasses: number[];
  /** True when meanClass averages over fewer than numClasses classes. */
  meanClassIsPartial: boolean;
}

/** Softmax of each row of a [N, K] row-major matrix. */
export function softmaxRows(logits: Float32Array, k: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / k; r++) {
    const row = logits.subarray(r * k, (r + 1) * k);
    const max = Math.max(...row);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += out[r * k + c] = Math.exp(row[c]! - max);
    for (let c = 0; c < k; c++) out[r * k + c] = out[r * k + c]! / sum;
  }
  return out;
}

/** Index of the largest logit of each row of a [N, K] row-major matrix; the first maximum wins. */
export function argmaxRows(logits: Float32Array, k: number): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`class count must be a positive integer, got ${k}`);
  if (logits.length % k !== 0) throw new RangeError(`${logits.length} logits do not split into rows of ${k}`);
  const n = logits.length / k;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const base = r * k;
    let best = 0;
    let bestValue = logits[base]!;
    for (let c = 1; c < k; c++) {
      const v = logits[base + c]!;
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/** Fills a confusion matrix batch by batch, so evaluation never holds all predictions. */
export class ConfusionAccumulator {
  readonly numClasses: number;
  private readonly counts: Float64Array; // [K*K], row = true class

  constructor(numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`class count must be a positive integer, got ${numClasses}`);
    this.numClasses = numClasses;
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Samples counted so far. */
  get total(): number {
    let sum = 0;
    for (const c of this.counts) sum += c;
    return sum;
  }

  add(labels: LabelArray, preds: LabelArray): this {
    if (labels.length !== preds.length) throw new RangeError(`${labels.length} labels but ${preds.length} predictions`);
    const k = this.numClasses;
    // Validate the whole batch first: a bad batch leaves the counts untouched.
    for (let i = 0; i < labels.length; i++) {
      checkClass(labels[i]!, k, 'label', i);
      checkClass(preds[i]!, k, 'prediction', i);
    }
    for (let i = 0; i < labels.length; i++) this.counts[labels[i]! * k + preds[i]!]! += 1;
    return this;
  }

  /** The counts as a [true][predicted] matrix (a copy). */
  confusion(): number[][] {
    const k = this.numClasses;
    return Array.from({ length: k }, (_, r) => Array.from(this.counts.subarray(r * k, (r + 1) * k)));
  }

  metrics(): Metrics {
    return metricsFromConfusion(this.confusion());
  }
}

function checkClass(v: number, k: number, what: string, i: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= k) throw new RangeError(`${what} ${v} at index ${i} is not a class index in [0, ${k})`);
}

/** Metrics of one set of predictions. */
export function computeMetrics(labels: LabelArray, preds: LabelArray, numClasses: number): Metrics {
  return new ConfusionAccumulator(numClasses).add(labels, preds).metrics();
}

/** Metrics from a square matrix of counts, rows = true class (e.g. one read back from a report). */
export function metricsFromConfusion(confusion: readonly (readonly number[])[]): Metrics {
  const k = confusion.length;
  if (k === 0) throw new RangeError('confusion matrix has no classes');
  for (const [r, row] of confusion.entries()) {
    if (row.length !== k) throw new RangeError(`confusion row ${r} has ${row.length} columns, expected ${k}`);
    if (row.some((v) => !Number.isInteger(v) || v < 0)) throw new RangeError(`confusion row ${r} holds a value that is not a count`);
  }
  const support = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const total = support.reduce((a, b) => a + b, 0);
  if (total === 0) throw new RangeError('no samples to evaluate');
  let correct = 0;
  for (let c = 0; c < k; c++) correct += confusion[c]![c]!;
  const perClass = support.map((n, c) => (n > 0 ? confusion[c]![c]! / n : null));
  const present = perClass.filter((a): a is number => a !== null);
  const missingClasses = perClass.flatMap((a, c) => (a === null ? [c] : []));
  return {
    numClasses: k,
    total,
    correct,
    confusion: confusion.map((row) => [...row]),
    confusionNormalized: confusion.map((row, r) => row.map((v) => (support[r]! > 0 ? v / support[r]! : 0))),
    support,
    perClass,
    overall: correct / total,
    // total > 0 guarantees at least one class with samples.
    meanClass: present.reduce((a, b) => a + b, 0) / present.length,
    missingClasses,
    meanClassIsPartial: missingClasses.length > 0,
  };
}
