// What the report page knows, embedded in it as one JSON object: the page's script draws the
// thumbnails from it, and the browser test reads it back. Accuracies are fractions in [0, 1].

export interface ReportImage {
  /** The image file as the label source names it. */
  file: string;
  /** The strip of face and heat-maps, relative to the report folder. */
  strip: string;
  /** True class; null in a prediction report. */
  label: number | null;
  pred: number;
  /** Per class, rounded to 4 decimals. */
  probs: number[];
  /** The two classes whose maps the strip shows, in its order. */
  pair: [number, number];
}

export interface ReportHeadline {
  overall: number;
  meanClass: number;
  perClass: (number | null)[];
  support: number[];
  confusion: number[][];
  confusionNormalized: number[][];
}

export interface ReportData {
  kind: 'eval' | 'predict';
  title: string;
  /** Lines under the title: checkpoint, split, engine, adjustment. */
  about: string[];
  classes: string[];
  /** Keyed by the image's index in the evaluated split (or the command line). */
  images: Record<string, ReportImage>;
  /** eval only. */
  headline?: ReportHeadline;
  cells?: number[][][];
  cellTotals?: number[][];
  hardest?: number[][];
}

/** Probabilities stored in the page: 4 decimals are plenty for a percentage with one. */
export function roundedProbs(row: ArrayLike<number>): number[] {
  return Array.from(row, (p) => Math.round(p * 1e4) / 1e4);
}

/** The strip's two classes: true and predicted, or, when they agree (or without a label), the top two. */
export function mapPair(probs: ArrayLike<number>, label: number | null, pred: number): [number, number] {
  if (label !== null && label !== pred) return [label, pred];
  let second = -1;
  for (let c = 0; c < probs.length; c++) if (c !== pred && (second < 0 || probs[c]! > probs[second]!)) second = c;
  return [pred, second < 0 ? pred : second];
}
