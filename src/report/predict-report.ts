// `mek predict --report DIR IMAGE...`: the same page for images without labels: what each was
// taken for, with the maps of its two most probable classes, most confident first.
import { createNormalizer } from '../data/augment/normalize.ts';
import { decodeImage } from '../data/decode.ts';
import type { InferenceEngine, ModelInfo } from '../infer/engine.ts';
import { mapPair, roundedProbs, type ReportData, type ReportImage } from './data.ts';
import type { WrittenReport } from './eval-report.ts';
import { ReportFolder } from './folder.ts';
import { reportHtml } from './page.ts';
import { stripsOfBatch } from './render.ts';

/** Images the model runs on at once while drawing. */
const BATCH = 16;

export interface PredictedImage {
  file: string;
  /** Probabilities as predict reports them (after any post-hoc adjustment). */
  probs: ArrayLike<number>;
  pred: number;
}

export async function writePredictReport(engine: InferenceEngine, info: ModelInfo, predicted: PredictedImage[], about: string[], dir: string): Promise<WrittenReport> {
  const folder = ReportFolder.open(dir);
  const { imageSize, mean, std, interpolation } = info.preprocessing;
  const normalize = createNormalizer(mean, std);
  const pixels = imageSize * imageSize * 3;
  const images: Record<string, ReportImage> = {};
  for (let start = 0; start < predicted.length; start += BATCH) {
    const part = predicted.slice(start, start + BATCH);
    const batch = new Float32Array(part.length * pixels);
    for (let j = 0; j < part.length; j++) normalize(await decodeImage(part[j]!.file, imageSize, interpolation), batch.subarray(j * pixels, (j + 1) * pixels));
    const pairs = part.map((p) => mapPair(p.probs, null, p.pred));
    const strips = await stripsOfBatch(engine, info.preprocessing, info.classes.length, { images: batch, n: part.length, pairs });
    strips.forEach((jpeg, j) => {
      const p = part[j]!;
      folder.writeStrip(start + j, jpeg);
      images[start + j] = { file: p.file, strip: ReportFolder.stripPath(start + j), label: null, pred: p.pred, probs: roundedProbs(p.probs), pair: pairs[j]! };
    });
  }
  const data: ReportData = { kind: 'predict', title: 'mek prediction report', about, classes: info.classes, images };
  return { images: predicted.length, bytes: await folder.commit(reportHtml(data)) };
}
