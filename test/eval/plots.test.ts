// Every plot is written atomically, decodes with sharp, has the expected size and is not blank.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { createImage } from '../../src/data/image.ts';
import { parseMetricsJsonl } from '../../src/eval/history.ts';
import { computeMetrics, metricsFromConfusion } from '../../src/eval/metrics.ts';
import { sweepAdjustment } from '../../src/eval/adjust.ts';
import { adjustSweepPng, adjustSweepSvg } from '../../src/eval/plots/adjust-sweep.ts';
import { camGridPng, camOverlayPng } from '../../src/eval/plots/cam-grid.ts';
import { confusionPng, confusionSvg } from '../../src/eval/plots/confusion.ts';
import { curvesPng, curvesSvg } from '../../src/eval/plots/curves.ts';
import { perClassBarsPng } from '../../src/eval/plots/per-class-bars.ts';
import { svgDocument, svgToPng, text } from '../../src/eval/plots/svg.ts';
import { expectPicture } from '../helpers/pictures.ts';
import { RAFDB_CLASSES, RAFDB_CONFUSION } from '../helpers/rafdb.ts';

const temp = mkdtempSync(join(tmpdir(), 'mek-plots-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const rafdb = metricsFromConfusion(RAFDB_CONFUSION);

/** A run's history: train logs every 100 steps, an eval every 500. */
function history(): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (let step = 100; step <= 3000; step += 100) {
    const cls = 0.6 + Math.exp(-step / 800);
    const rac = 0.02 + 0.3 * Math.exp(-step / 1500);
    events.push({ event: 'train', step, lr: 3e-5 * Math.min(1, step / 500), loss: cls + 0.1 * rac, loss_cls: cls, loss_rac: rac });
    if (step % 500 === 0) events.push({ event: 'eval', step, accuracy: 0.9 - 0.2 * Math.exp(-step / 700), mean_class_accuracy: 0.85 - 0.3 * Math.exp(-step / 900) });
  }
  return events;
}

describe('text rendering', () => {
  it('draws glyphs for sans-serif text (librsvg finds a font)', async () => {
    const png = await svgToPng(svgDocument(200, 40, [text(10, 28, 'Surprise 92.7%', { size: 20 })]));
    const { data } = await sharp(png).removeAlpha().greyscale().raw().toBuffer({ resolveWithObject: true });
    const ink = data.filter((v) => v < 128).length;
    expect(ink).toBeGreaterThan(100);
  });
});

describe('confusionPng', () => {
  it('writes a legible heat-map of the confusion matrix', async () => {
    const path = join(temp, 'confusion.png');
    await confusionPng(path, rafdb, RAFDB_CLASSES);
    const size = await expectPicture(path);
    expect(size.width).toBeGreaterThan(500);
    expect(size.height).toBeGreaterThan(500);
    // Atomic write: no temporary file is left behind.
    expect(readdirSync(temp).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('puts names, accuracies and counts in the picture', () => {
    const svg = confusionSvg(rafdb, RAFDB_CLASSES);
    for (const s of ['Surprise', 'Neutral', 'overall 92.70%', 'mean-class 88.34%', '>96.9%<', '>1148<', 'True class', 'Predicted class']) expect(svg).toContain(s);
  });

  it('handles a class without samples, many classes and one class', async () => {
    const missing = computeMetrics([0, 0, 2], [0, 1, 2], 3);
    expect(confusionSvg(missing, ['a', 'b', 'c'])).toContain('no samples');
    const labels = Array.from({ length: 60 }, (_, i) => i % 30);
    await confusionPng(join(temp, 'many.png'), computeMetrics(labels, labels, 30), labels.slice(0, 30).map((i) => `class ${i}`));
    await expectPicture(join(temp, 'many.png'));
    await confusionPng(join(temp, 'one.png'), computeMetrics([0], [0], 1), ['only']);
    await expectPicture(join(temp, 'one.png'));
  });

  it('creates the output folder', async () => {
    const path = join(temp, 'run', 'plots', 'confusion.png');
    await confusionPng(path, rafdb, RAFDB_CLASSES);
    expect(existsSync(path)).toBe(true);
  });
});

describe('perClassBarsPng', () => {
  it('writes the per-class bars', async () => {
    const path = join(temp, 'bars.png');
    await perClassBarsPng(path, rafdb, RAFDB_CLASSES);
    await expectPicture(path);
  });

  it('draws a class without samples without a bar', async () => {
    const path = join(temp, 'bars-missing.png');
    await perClassBarsPng(path, computeMetrics([0, 0, 2], [0, 1, 2], 3), ['a', 'b', 'c']);
    await expectPicture(path);
  });
});

describe('curvesPng', () => {
  it('writes loss, learning-rate and accuracy panels', async () => {
    const events = history();
    const svg = curvesSvg(events);
    for (const s of ['loss', 'learning rate', 'test accuracy (%)', 'cls (RBL)', 'rac (RAC)', 'mean-class', 'best 89.']) expect(svg).toContain(s);
    const path = join(temp, 'curves.png');
    await curvesPng(path, events);
    await expectPicture(path);
  });

  it('titles the accuracy panel by the split evaluated during training', () => {
    const events = history().map((e) => (e['event'] === 'eval' ? { ...e, split: 'val' } : e));
    expect(curvesSvg(events)).toContain('validation accuracy (%)');
  });

  it('leaves out missing series and empty panels', () => {
    const svg = curvesSvg([{ step: 10, loss: 1.2, loss_cls: 1.2 }, { step: 20, loss: 1.1, loss_cls: 1.1 }]);
    expect(svg).toContain('cls (RBL)');
    expect(svg).not.toContain('rac (RAC)');
    expect(svg).not.toContain('learning rate');
    expect(svg).not.toContain('test accuracy');
  });

  it('draws a single point, an empty history and skips non-finite values', async () => {
    await curvesPng(join(temp, 'single.png'), [{ step: 0, loss: 2, lr: 1e-6, accuracy: 0.5 }]);
    await expectPicture(join(temp, 'single.png'));
    await curvesPng(join(temp, 'empty.png'), []);
    await expectPicture(join(temp, 'empty.png'));
    const svg = curvesSvg([{ step: 1, loss: Number.NaN }, { step: 2, loss: 1 }, { event: 'note' }]);
    expect(svg).not.toContain('NaN');
  });

  it('reads metrics.jsonl, tolerating only a cut-off last line', () => {
    const text = '{"step":1,"loss":2}\n\n{"step":2,"loss":1.5}\n{"step":3,"lo';
    expect(parseMetricsJsonl(text).map((e) => e.step)).toEqual([1, 2]);
    expect(() => parseMetricsJsonl('{"step":1}\nnot json\n{"step":2}\n')).toThrow(/line 2/);
    expect(() => parseMetricsJsonl('{"loss":1}\n')).toThrow(/numeric "step"/);
  });
});

describe('CAM pictures', () => {
  const face = createImage(56, 48);
  for (let y = 0; y < 48; y++) for (let x = 0; x < 56; x++) face.data.set([x * 4, y * 5, 128], (y * 56 + x) * 3);
  const k = 3;
  const cams = Float32Array.from({ length: k * 49 }, (_, i) => Math.sin(i));

  it('writes an overlay of the image size', async () => {
    const path = join(temp, 'cam.png');
    await camOverlayPng(path, face, cams.subarray(0, 49));
    await expectPicture(path, { width: 56, height: 48 });
  });

  it('writes the input next to one overlay per class', async () => {
    const path = join(temp, 'grid.png');
    await camGridPng(path, face, cams, ['a', 'b', 'c'], [0.2, 0.7, 0.1], { tile: 112, title: 'face' });
    // input + max + 3 classes in one row of 112 x 96 tiles with 10 px gaps; title and labels.
    await expectPicture(path, { width: 5 * 122 + 10, height: 40 + 96 + 24 + 10 });
    await expect(camGridPng(path, face, cams, ['a', 'b'])).rejects.toThrow(RangeError);
  });
});

describe('adjustSweepPng', () => {
  it('plots overall and mean-class accuracy against tau and marks the best and the chosen tau', async () => {
    const logits = Float32Array.from([3, 0, 2.5, 0, 2, 0, 1, 0]);
    const sweep = sweepAdjustment(logits, [0, 0, 0, 1], [Math.log(0.9), Math.log(0.1)]);
    const svg = adjustSweepSvg(sweep, { split: 'validation', chosen: 1 });
    for (const s of ['Post-hoc adjustment on the validation split', 'overall', 'mean-class', 'best mean-class: tau 0.5', 'chosen: tau 1', 'tau (predictions']) expect(svg).toContain(s);
    expect(adjustSweepSvg(sweep, { split: 'test', chosen: 0.5 })).not.toContain('chosen:');
    expect(adjustSweepSvg([], { split: 'test' })).toContain('no tau evaluated');
    const path = join(temp, 'adjust.png');
    await adjustSweepPng(path, sweep, { split: 'validation' });
    await expectPicture(path);
  });
});
