// `mek eval --report DIR`: the evaluated split as a page. The numbers are those of the
// evaluation just run (so they equal `mek eval --json`); the strips are drawn for the images
// the selection keeps, read again through the same evaluation loader.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Sample } from '../data/labels.ts';
import type { PreparePool } from '../data/pool.ts';
import type { SweepPoint } from '../eval/adjust.ts';
import { evaluationLoader } from '../eval/evaluate.ts';
import { parseMetricsJsonl } from '../eval/history.ts';
import { softmaxRows, type Metrics } from '../eval/metrics.ts';
import { adjustSweepSvg } from '../eval/plots/adjust-sweep.ts';
import { curvesSvg } from '../eval/plots/curves.ts';
import type { InferenceEngine, ModelInfo } from '../infer/engine.ts';
import { mapPair, roundedProbs, type ReportData, type ReportImage } from './data.ts';
import { ReportFolder } from './folder.ts';
import { reportHtml, type PageExtras } from './page.ts';
import { stripsOfBatch } from './render.ts';
import { selectShown, type ShownSelection } from './select.ts';

export interface EvalReportOptions {
  dir: string;
  /** Most images shown per confusion cell, and hardest images per class. */
  perCell: number;
  hardest: number;
}

export interface EvaluatedSplit {
  /** The images evaluated, in evaluation order (unreadable ones already left out). */
  samples: Sample[];
  labels: Int32Array;
  predictions: Int32Array;
  /** [N, K] logits the predictions came from (after any post-hoc adjustment). */
  logits: Float32Array;
  metrics: Metrics;
  /** Lines under the title. */
  about: string[];
  sweep?: { points: SweepPoint[]; split: string; chosen?: number };
}

export interface ReportContext {
  engine: InferenceEngine;
  info: ModelInfo;
  config: Config;
  pool: PreparePool;
  /** The checkpoint file: a run folder beside it adds the training curves. */
  checkpoint: string;
}

export interface WrittenReport {
  images: number;
  bytes: number;
}

export async function writeEvalReport(ctx: ReportContext, split: EvaluatedSplit, opts: EvalReportOptions): Promise<WrittenReport> {
  const k = ctx.info.classes.length;
  const probs = softmaxRows(split.logits, k);
  const selection = selectShown(probs, split.labels, split.predictions, k, opts);
  const folder = ReportFolder.open(opts.dir);
  const images = await drawShown(ctx, split, selection.shown, probs, folder);
  const data = reportData(ctx.info, split, selection, images);
  const bytes = await folder.commit(reportHtml(data, pageExtras(ctx.checkpoint, split)));
  return { images: selection.shown.length, bytes };
}

/** The strips of the shown images, written to the folder; their entries for the page. */
async function drawShown(ctx: ReportContext, split: EvaluatedSplit, shown: number[], probs: Float32Array, folder: ReportFolder): Promise<Record<string, ReportImage>> {
  const k = ctx.info.classes.length;
  const loader = evaluationLoader(ctx.config, shown.map((i) => split.samples[i]!), ctx.info.preprocessing, ctx.pool);
  const images: Record<string, ReportImage> = {};
  let next = 0;
  for (let batch = await loader.nextHost(); batch; batch = await loader.nextHost()) {
    if (batch.size === 0) continue;
    const ids = shown.slice(next, next + batch.size);
    next += batch.size;
    const entries = ids.map((i) => {
      const row = probs.subarray(i * k, (i + 1) * k);
      const label = split.labels[i]!;
      const pred = split.predictions[i]!;
      return { file: split.samples[i]!.path, strip: ReportFolder.stripPath(i), label, pred, probs: roundedProbs(row), pair: mapPair(row, label, pred) };
    });
    const strips = await stripsOfBatch(ctx.engine, ctx.info.preprocessing, k, { images: batch.images, n: batch.size, pairs: entries.map((e) => e.pair) });
    strips.forEach((jpeg, j) => folder.writeStrip(ids[j]!, jpeg));
    ids.forEach((id, j) => (images[id] = entries[j]!));
  }
  return images;
}

function reportData(info: ModelInfo, split: EvaluatedSplit, selection: ShownSelection, images: Record<string, ReportImage>): ReportData {
  const m = split.metrics;
  return {
    kind: 'eval',
    title: 'mek evaluation report',
    about: split.about,
    classes: info.classes,
    images,
    headline: { overall: m.overall, meanClass: m.meanClass, perClass: m.perClass, support: m.support, confusion: m.confusion, confusionNormalized: m.confusionNormalized },
    cells: selection.cells,
    cellTotals: selection.cellTotals,
    hardest: selection.hardest,
  };
}

/** The run folder's training curves (when the checkpoint has one) and the post-hoc sweep. */
function pageExtras(checkpoint: string, split: EvaluatedSplit): PageExtras {
  const extras: PageExtras = {};
  const metricsFile = join(dirname(checkpoint), 'metrics.jsonl');
  if (checkpoint.endsWith('.json') && existsSync(metricsFile)) {
    const history = parseMetricsJsonl(readFileSync(metricsFile, 'utf8'));
    if (history.length > 0) extras.curvesSvg = curvesSvg(history);
  }
  if (split.sweep) extras.sweepSvg = adjustSweepSvg(split.sweep.points, { split: split.sweep.split, chosen: split.sweep.chosen });
  return extras;
}
