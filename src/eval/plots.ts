// The plots of a run and of an evaluation, drawn as SVG strings and rendered to PNG by sharp:
// the confusion heat-map, per-class accuracy bars, training curves and class attention maps
// over a face, and the accuracy / mean-class trade-off of post-hoc adjustment. Each `...Svg` builder is pure; each `...Png` writer renders and writes
// atomically (temp file + rename).
import sharp from 'sharp';
import type { RgbImage } from '../data/image.ts';
import type { SweepPoint } from './adjust.ts';
import { camOverlay, maxOverClasses, type OverlayOptions } from './cam.ts';
import { series, type MetricEvent, type MetricRecord } from './history.ts';
import type { Metrics } from './metrics.ts';
import { percent } from './report.ts';
import {
  AXIS_COLOUR,
  GRID_COLOUR,
  PALETTE,
  formatStep,
  line,
  linearScale,
  logScale,
  num,
  padRange,
  rect,
  svgDocument,
  text,
  textWidth,
  writePlotFile,
  writeSvgPng,
  type Scale,
} from './svg.ts';

const MUTED = '#777777';
const MISSING_FILL = '#f0f0f0';
const BAR_COLOUR = '#4c78a8';
const MEAN_COLOUR = '#d62728';

function checkNames(m: Metrics, classNames: readonly string[]): void {
  if (classNames.length !== m.numClasses) throw new RangeError(`${classNames.length} class names for ${m.numClasses} classes`);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function accuracyLine(m: Metrics): string {
  const partial = m.meanClassIsPartial ? ` (over ${m.numClasses - m.missingClasses.length} classes)` : '';
  return `overall ${percent(m.overall)} · mean-class ${percent(m.meanClass)}${partial} · ${m.total} samples`;
}

// matplotlib's "Blues", light to dark.
const BLUES = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'];

function hexRgb(h: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
}

/** Sequential blue for v in [0, 1]. */
function blues(v: number): string {
  const x = clamp(v, 0, 1) * (BLUES.length - 1);
  const i = Math.min(BLUES.length - 2, Math.floor(x));
  const a = hexRgb(BLUES[i]!);
  const b = hexRgb(BLUES[i + 1]!);
  const f = x - i;
  return `rgb(${a.map((c, j) => Math.round(c + (b[j]! - c) * f)).join(',')})`;
}

/** Heat-map of the row-normalised confusion matrix; cells show % of the true class and counts. */
export function confusionSvg(m: Metrics, classNames: readonly string[], title = 'Confusion matrix'): string {
  checkNames(m, classNames);
  const k = m.numClasses;
  const cell = clamp(Math.floor(560 / k), 22, 84);
  const labelSize = cell >= 40 ? 13 : 10;
  const showSupport = cell >= 40;
  const widest = Math.max(...classNames.map((n) => textWidth(n, labelSize)));
  const rotateCols = widest > cell - 6;
  const left = 34 + Math.max(widest, showSupport ? textWidth('n=00000', 10) : 0) + 10;
  const top = 78;
  const size = k * cell;
  const colLabels = rotateCols ? widest * Math.SQRT1_2 + labelSize + 8 : labelSize + 10;
  const height = Math.ceil(top + size + colLabels + 34);
  const barX = left + size + 24;
  const subtitle = accuracyLine(m);
  const width = Math.ceil(Math.max(barX + 16 + 48, textWidth(subtitle, 13) + 40));
  const out: string[] = [];
  out.push(text(width / 2, 28, title, { size: 18, anchor: 'middle', weight: 'bold' }));
  out.push(text(width / 2, 50, subtitle, { size: 13, anchor: 'middle', fill: '#444444' }));

  for (let r = 0; r < k; r++) {
    const y = top + r * cell;
    const missing = m.support[r] === 0;
    for (let c = 0; c < k; c++) {
      const x = left + c * cell;
      const v = m.confusionNormalized[r]![c]!;
      out.push(rect(x, y, cell, cell, missing ? MISSING_FILL : blues(v)));
      if (cell < 30) continue;
      // Big cells show percent and count, smaller ones the percent alone, tiny ones nothing:
      // text below 9 px is noise, not information.
      const ink = v > 0.5 ? '#ffffff' : '#1a1a1a';
      const weight = r === c ? 'bold' : 'normal';
      if (missing) {
        out.push(text(x + cell / 2, y + cell / 2, '–', { size: 14, anchor: 'middle', fill: MUTED, middle: true }));
      } else if (cell >= 52) {
        out.push(text(x + cell / 2, y + cell / 2 - cell * 0.09, `${(v * 100).toFixed(1)}%`, { size: Math.round(cell * 0.2), anchor: 'middle', fill: ink, middle: true, weight }));
        out.push(text(x + cell / 2, y + cell / 2 + cell * 0.2, String(m.confusion[r]![c]), { size: Math.max(9, Math.round(cell * 0.14)), anchor: 'middle', fill: v > 0.5 ? '#dbe9f6' : MUTED, middle: true }));
      } else {
        const pct = (v * 100).toFixed(cell >= 40 ? 1 : 0);
        out.push(text(x + cell / 2, y + cell / 2, pct, { size: Math.max(9, Math.min(12, Math.round(cell * 0.26))), anchor: 'middle', fill: ink, middle: true, weight }));
      }
    }
    const ly = y + cell / 2 - (showSupport ? 7 : 0);
    out.push(text(left - 8, ly, classNames[r]!, { size: labelSize, anchor: 'end', middle: true }));
    if (showSupport) out.push(text(left - 8, ly + 15, m.support[r] === 0 ? 'no samples' : `n=${m.support[r]}`, { size: 10, anchor: 'end', fill: MUTED, middle: true }));
  }
  out.push(rect(left, top, size, size, 'none', `stroke="${AXIS_COLOUR}" stroke-width="1"`));
  // Thin white lines between cells keep neighbouring equal colours apart.
  for (let i = 1; i < k; i++) {
    out.push(line(left + i * cell, top, left + i * cell, top + size, '#ffffff', 1));
    out.push(line(left, top + i * cell, left + size, top + i * cell, '#ffffff', 1));
  }

  for (let c = 0; c < k; c++) {
    const x = left + c * cell + cell / 2;
    const y = top + size + 8;
    if (rotateCols) out.push(text(x + labelSize * 0.35, y, classNames[c]!, { size: labelSize, anchor: 'end', rotate: -45 }));
    else out.push(text(x, y + labelSize, classNames[c]!, { size: labelSize, anchor: 'middle' }));
  }
  out.push(text(left + size / 2, height - 12, 'Predicted class', { size: 14, anchor: 'middle', weight: 'bold' }));
  out.push(text(16, top + size / 2, 'True class', { size: 14, anchor: 'middle', weight: 'bold', rotate: -90, middle: true }));

  // Colour bar, 0 at the bottom: the same stops as the cells, as one gradient.
  const stops = BLUES.map((c, i) => `<stop offset="${num(i / (BLUES.length - 1))}" stop-color="${c}"/>`).join('');
  out.push(`<defs><linearGradient id="blues" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>`);
  out.push(rect(barX, top, 16, size, 'url(#blues)', `stroke="${AXIS_COLOUR}" stroke-width="1"`));
  for (const t of [0, 25, 50, 75, 100]) {
    const y = top + size - (t / 100) * size;
    out.push(line(barX + 16, y, barX + 20, y, AXIS_COLOUR));
    out.push(text(barX + 23, y, `${t}%`, { size: 10, middle: true }));
  }
  return svgDocument(width, height, out);
}

/** Bars of per-class accuracy with the mean-class (and overall) accuracy as lines across. */
export function perClassBarsSvg(m: Metrics, classNames: readonly string[], title = 'Per-class accuracy'): string {
  checkNames(m, classNames);
  const k = m.numClasses;
  const band = clamp(Math.floor(600 / k), 24, 96);
  const labelSize = band >= 40 ? 13 : 10;
  const widest = Math.max(...classNames.map((n) => textWidth(n, labelSize)));
  const rotate = widest > band - 4;
  const showSupport = band >= 44;
  // Room on the left for the first rotated label, which reaches past the y axis.
  const left = Math.max(64, (rotate ? widest * Math.SQRT1_2 + labelSize : 0) - band / 2 + 12);
  const top = 72;
  const plotH = 320;
  const plotW = k * band;
  const right = 150;
  const subtitle = accuracyLine(m);
  const width = Math.ceil(Math.max(left + plotW + right, textWidth(subtitle, 13) + 40));
  const labelsH = (showSupport ? 18 : 0) + (rotate ? widest * Math.SQRT1_2 + labelSize + 6 : labelSize + 8);
  const height = Math.ceil(top + plotH + labelsH + 16);
  const y = linearScale(0, 100, top + plotH, top, { count: 5 });
  const out: string[] = [];
  out.push(text(width / 2, 28, title, { size: 18, anchor: 'middle', weight: 'bold' }));
  out.push(text(width / 2, 50, subtitle, { size: 13, anchor: 'middle', fill: '#444444' }));
  for (const t of y.ticks) {
    out.push(line(left, y(t), left + plotW, y(t), GRID_COLOUR));
    out.push(line(left - 5, y(t), left, y(t), AXIS_COLOUR));
    out.push(text(left - 8, y(t), y.format(t), { size: 11, anchor: 'end', middle: true }));
  }
  out.push(text(left - 46, top + plotH / 2, 'accuracy (%)', { size: 13, anchor: 'middle', rotate: -90, middle: true }));

  // Reference lines go behind the bars, so they never cross the values printed inside them;
  // their labels sit in the right margin, pushed apart where they would collide.
  const refs = [
    { v: m.meanClass, label: `mean-class ${percent(m.meanClass, 1)}`, colour: MEAN_COLOUR, dash: '6 4' },
    { v: m.overall, label: `overall ${percent(m.overall, 1)}`, colour: '#555555', dash: '2 3' },
  ];
  const ys = refs.map((r) => y(r.v * 100));
  const gap = 15;
  if (Math.abs(ys[0]! - ys[1]!) < gap) {
    const mid = (ys[0]! + ys[1]!) / 2;
    const upper = ys[0]! <= ys[1]! ? 0 : 1;
    ys[upper] = mid - gap / 2;
    ys[1 - upper] = mid + gap / 2;
  }
  refs.forEach((r, i) => {
    out.push(line(left, y(r.v * 100), left + plotW, y(r.v * 100), r.colour, 1.5, r.dash));
    out.push(text(left + plotW + 8, ys[i]!, r.label, { size: 12, fill: r.colour, middle: true }));
  });
  for (let c = 0; c < k; c++) {
    const cx = left + c * band + band / 2;
    const acc = m.perClass[c];
    if (acc === null || acc === undefined) {
      out.push(text(cx, y(50), 'no samples', { size: 11, anchor: 'middle', fill: MUTED, rotate: -90, middle: true }));
    } else {
      const bw = band * 0.64;
      out.push(rect(cx - bw / 2, y(acc * 100), bw, y(0) - y(acc * 100), BAR_COLOUR));
      // Inside the bar top where it fits, above a bar too short to hold it.
      if (band >= 36) {
        const size = band >= 56 ? 12 : 10;
        const inside = y(0) - y(acc * 100) > size + 8;
        const ty = inside ? y(acc * 100) + size + 3 : y(acc * 100) - 5;
        out.push(text(cx, ty, (acc * 100).toFixed(1), { size, anchor: 'middle', fill: inside ? '#ffffff' : AXIS_COLOUR, weight: inside ? 'bold' : 'normal' }));
      }
    }
    let ly = top + plotH + 6;
    if (showSupport) {
      out.push(text(cx, ly + 10, `n=${m.support[c]}`, { size: 10, anchor: 'middle', fill: MUTED }));
      ly += 18;
    }
    if (rotate) out.push(text(cx + labelSize * 0.35, ly + 2, classNames[c]!, { size: labelSize, anchor: 'end', rotate: -45 }));
    else out.push(text(cx, ly + labelSize, classNames[c]!, { size: labelSize, anchor: 'middle' }));
  }
  out.push(line(left, top + plotH, left + plotW, top + plotH, AXIS_COLOUR));
  out.push(line(left, top, left, top + plotH, AXIS_COLOUR));

  return svgDocument(width, height, out);
}

interface SeriesSpec {
  field: keyof MetricEvent & string;
  label: string;
}

interface PanelSpec {
  title: string;
  series: SeriesSpec[];
  /** Values are fractions drawn as percent. */
  percent?: boolean;
  /** Log scale when the values are positive and span more than this ratio. */
  logAbove?: number;
  /** Legend notes the best (highest) value and its step. */
  best?: boolean;
}

const PANELS: PanelSpec[] = [
  {
    title: 'loss',
    series: [
      { field: 'loss', label: 'total' },
      { field: 'loss_cls', label: 'cls (RBL)' },
      { field: 'loss_rac', label: 'rac (RAC)' },
    ],
    logAbove: 10,
  },
  { title: 'learning rate', series: [{ field: 'lr', label: 'lr' }] },
  {
    title: 'accuracy (%)',
    series: [
      { field: 'accuracy', label: 'overall' },
      { field: 'mean_class_accuracy', label: 'mean-class' },
    ],
    percent: true,
    best: true,
  },
];

/** [min, max] by a loop: a long run logs more values than Math.min(...spread) takes as arguments. */
function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** A scale for percentages in [lo, hi], widened to whole ticks but never beyond 0 and 100. */
function percentScale(lo: number, hi: number, r0: number, r1: number): Scale {
  const s = linearScale(lo, hi, 0, 1, { count: 5 });
  return linearScale(Math.max(0, s.ticks[0]!), Math.min(100, s.ticks[s.ticks.length - 1]!), r0, r1, { count: 5 });
}

/** Draws one series; markers where points are few enough to tell apart (always for one point). */
function seriesPath(points: [number, number][], x: Scale, y: Scale, colour: string): string[] {
  const out: string[] = [];
  if (points.length > 1) {
    const d = points.map(([s, v], i) => `${i === 0 ? 'M' : 'L'}${num(x(s))},${num(y(v))}`).join('');
    out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.8" stroke-linejoin="round"/>`);
  }
  if (points.length <= 60) {
    const r = points.length === 1 ? 4 : 2.6;
    for (const [s, v] of points) out.push(`<circle cx="${num(x(s))}" cy="${num(y(v))}" r="${r}" fill="${colour}"/>`);
  }
  return out;
}

/**
 * Training curves from metrics events: loss terms, learning rate and test accuracy against the
 * step, one panel each; a panel with no data is left out, series absent from the log too.
 */
export function curvesSvg(history: readonly MetricRecord[], title = 'Training curves'): string {
  const panels = PANELS.map((spec) => ({
    spec,
    data: spec.series.map((s) => ({ ...s, points: series(history, s.field).map(([st, v]): [number, number] => [st, spec.percent ? v * 100 : v]) })).filter((s) => s.points.length > 0),
  })).filter((p) => p.data.length > 0);
  const width = 900;
  const left = 84;
  const right = 190;
  const plotW = width - left - right;
  const panelH = 200;
  const gap = 64;
  const top = 56;
  if (panels.length === 0) {
    return svgDocument(width, 200, [
      text(width / 2, 28, title, { size: 18, anchor: 'middle', weight: 'bold' }),
      text(width / 2, 110, 'no metrics recorded yet', { size: 14, anchor: 'middle', fill: MUTED }),
    ]);
  }
  const height = top + panels.length * panelH + (panels.length - 1) * gap + 50;
  const [first, last] = extent(panels.flatMap((p) => p.data.flatMap((s) => s.points.map(([st]) => st))));
  // Steps are whole and, from a fresh run, non-negative: a lone point at step 0 gets [0, 1].
  const [s0, s1] = padRange(first, last);
  const x = linearScale(first >= 0 ? Math.max(0, s0) : s0, s1, left, left + plotW, { count: 8, integer: true });
  const out: string[] = [text(width / 2, 28, title, { size: 18, anchor: 'middle', weight: 'bold' })];
  // Evaluations during training run on the validation split when the run has one.
  const evalSplit = history.some((e) => e['event'] === 'eval' && e['split'] === 'val') ? 'validation' : 'test';

  panels.forEach((panel, pi) => {
    const py = top + pi * (panelH + gap);
    const [lo, hi] = extent(panel.data.flatMap((s) => s.points.map(([, v]) => v)));
    const log = panel.spec.logAbove !== undefined && lo > 0 && hi / lo > panel.spec.logAbove;
    let y = log ? logScale(lo, hi, py + panelH, py) : linearScale(lo, hi, py + panelH, py, { count: 5 });
    if (panel.spec.percent) y = percentScale(lo, hi, py + panelH, py);
    const title = panel.spec.percent ? `${evalSplit} ${panel.spec.title}` : panel.spec.title;
    out.push(text(left, py - 10, title + (log ? ' (log scale)' : ''), { size: 14, weight: 'bold' }));
    for (const t of y.ticks) {
      out.push(line(left, y(t), left + plotW, y(t), GRID_COLOUR));
      out.push(text(left - 8, y(t), y.format(t), { size: 11, anchor: 'end', middle: true }));
    }
    for (const t of x.ticks) {
      out.push(line(x(t), py, x(t), py + panelH, GRID_COLOUR));
      out.push(line(x(t), py + panelH, x(t), py + panelH + 5, AXIS_COLOUR));
      out.push(text(x(t), py + panelH + 18, formatStep(t), { size: 11, anchor: 'middle' }));
    }
    out.push(rect(left, py, plotW, panelH, 'none', `stroke="${AXIS_COLOUR}" stroke-width="1"`));
    // Lines stay inside the panel even where a log scale's widened range still clips a point.
    out.push(`<clipPath id="panel${pi}">${rect(left, py, plotW, panelH, '#000')}</clipPath>`);
    out.push(`<g clip-path="url(#panel${pi})">`);
    // Drawn last to first, so the first series (the total loss) stays on top where lines meet.
    for (const s of [...panel.data].reverse()) out.push(...seriesPath(s.points, x, y, PALETTE[panel.spec.series.findIndex((q) => q.field === s.field)]!));
    out.push('</g>');

    let ly = py + 12;
    panel.data.forEach((s) => {
      const colour = PALETTE[panel.spec.series.findIndex((q) => q.field === s.field)]!;
      out.push(line(left + plotW + 14, ly, left + plotW + 36, ly, colour, 2.5));
      out.push(text(left + plotW + 42, ly, s.label, { size: 12, middle: true }));
      ly += 18;
      if (panel.spec.best) {
        const [bestStep, bestValue] = s.points.reduce((a, b) => (b[1] > a[1] ? b : a));
        out.push(text(left + plotW + 42, ly - 2, `best ${bestValue.toFixed(2)}% @ ${formatStep(bestStep)}`, { size: 11, fill: MUTED, middle: true }));
        ly += 20;
      }
    });
  });
  out.push(text(left + plotW / 2, height - 12, 'step', { size: 13, anchor: 'middle' }));
  return svgDocument(width, height, out);
}

export async function confusionPng(path: string, m: Metrics, classNames: readonly string[]): Promise<void> {
  await writeSvgPng(path, confusionSvg(m, classNames));
}

export async function perClassBarsPng(path: string, m: Metrics, classNames: readonly string[]): Promise<void> {
  await writeSvgPng(path, perClassBarsSvg(m, classNames));
}

export async function curvesPng(path: string, history: readonly MetricRecord[]): Promise<void> {
  await writeSvgPng(path, curvesSvg(history));
}

/**
 * Overall and mean-class accuracy against the post-hoc adjustment tau, with the tau of the best
 * mean-class accuracy marked, and `chosen` (e.g. the one picked on the validation split) when given.
 */
export function adjustSweepSvg(points: readonly SweepPoint[], opts: { split: string; chosen?: number; title?: string }): string {
  const width = 760;
  const height = 440;
  const left = 70;
  const right = 200;
  const top = 60;
  const bottom = 60;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const out: string[] = [text(width / 2, 28, opts.title ?? `Post-hoc adjustment on the ${opts.split} split`, { size: 18, anchor: 'middle', weight: 'bold' })];
  if (points.length === 0) return svgDocument(width, height, [...out, text(width / 2, height / 2, 'no tau evaluated', { size: 14, anchor: 'middle', fill: MUTED })]);
  const lines = [
    { label: 'overall', points: points.map((p): [number, number] => [p.tau, 100 * p.metrics.overall]) },
    { label: 'mean-class', points: points.map((p): [number, number] => [p.tau, 100 * p.metrics.meanClass]) },
  ];
  const [t0, t1] = extent(points.map((p) => p.tau));
  const x = linearScale(t0, t1, left, left + plotW, { count: 8 });
  const [lo, hi] = extent(lines.flatMap((l) => l.points.map(([, v]) => v)));
  const y = percentScale(lo, hi, top + plotH, top);
  for (const t of y.ticks) {
    out.push(line(left, y(t), left + plotW, y(t), GRID_COLOUR));
    out.push(text(left - 8, y(t), y.format(t), { size: 11, anchor: 'end', middle: true }));
  }
  for (const t of x.ticks) {
    out.push(line(x(t), top, x(t), top + plotH, GRID_COLOUR));
    out.push(text(x(t), top + plotH + 18, x.format(t), { size: 11, anchor: 'middle' }));
  }
  out.push(rect(left, top, plotW, plotH, 'none', `stroke="${AXIS_COLOUR}" stroke-width="1"`));
  const best = points.reduce((a, b) => (b.metrics.meanClass > a.metrics.meanClass ? b : a));
  out.push(line(x(best.tau), top, x(best.tau), top + plotH, MEAN_COLOUR, 1.2, '4 3'));
  if (opts.chosen !== undefined && opts.chosen !== best.tau) out.push(line(x(opts.chosen), top, x(opts.chosen), top + plotH, AXIS_COLOUR, 1.2, '2 3'));
  lines.forEach((l, i) => out.push(...seriesPath(l.points, x, y, PALETTE[i]!)));
  let ly = top + 12;
  lines.forEach((l, i) => {
    out.push(line(left + plotW + 14, ly, left + plotW + 36, ly, PALETTE[i]!, 2.5));
    out.push(text(left + plotW + 42, ly, l.label, { size: 12, middle: true }));
    ly += 20;
  });
  out.push(line(left + plotW + 14, ly, left + plotW + 36, ly, MEAN_COLOUR, 1.2, '4 3'));
  out.push(text(left + plotW + 42, ly, `best mean-class: tau ${best.tau}`, { size: 12, middle: true }));
  ly += 18;
  out.push(text(left + plotW + 42, ly, `${percent(best.metrics.meanClass)} (overall ${percent(best.metrics.overall)})`, { size: 11, fill: MUTED, middle: true }));
  if (opts.chosen !== undefined && opts.chosen !== best.tau) {
    ly += 22;
    out.push(line(left + plotW + 14, ly, left + plotW + 36, ly, AXIS_COLOUR, 1.2, '2 3'));
    out.push(text(left + plotW + 42, ly, `chosen: tau ${opts.chosen}`, { size: 12, middle: true }));
  }
  out.push(text(left + plotW / 2, height - 16, 'tau (predictions: argmax of logits - tau log prior)', { size: 13, anchor: 'middle' }));
  out.push(text(18, top + plotH / 2, 'accuracy (%)', { size: 13, anchor: 'middle', rotate: -90 }));
  return svgDocument(width, height, out);
}

export async function adjustSweepPng(path: string, points: readonly SweepPoint[], opts: { split: string; chosen?: number }): Promise<void> {
  await writeSvgPng(path, adjustSweepSvg(points, opts));
}

function rgbPng(image: RgbImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
}

/** The CAM (G x G) blended over the image, written as a PNG of the image's size. */
export async function camOverlayPng(path: string, rgb: RgbImage, cam: Float32Array, opts: OverlayOptions = {}): Promise<void> {
  await writePlotFile(path, await rgbPng(camOverlay(rgb, cam, opts)));
}

export interface CamGridOptions extends OverlayOptions {
  /** Longest side of each tile in pixels; small faces are enlarged to it. */
  tile?: number;
  /** Tiles per row at most. */
  columns?: number;
  /** Add the maximum over classes, the single map the release's inference.py draws. */
  showMax?: boolean;
  title?: string;
}

/**
 * The face, then one overlay per class (labelled with its probability when `probs` is given;
 * the most probable class in bold), from the model's [K, G, G] CAMs.
 */
export async function camGridSvg(rgb: RgbImage, cams: Float32Array, classNames: readonly string[], probs?: ArrayLike<number>, opts: CamGridOptions = {}): Promise<string> {
  const k = classNames.length;
  if (k === 0 || cams.length % k !== 0) throw new RangeError(`${cams.length} CAM values do not split into ${k} class maps`);
  if (probs && probs.length !== k) throw new RangeError(`${probs.length} probabilities for ${k} classes`);
  const n = cams.length / k;
  const scale = (opts.tile ?? 192) / Math.max(rgb.width, rgb.height);
  const tw = Math.round(rgb.width * scale);
  const th = Math.round(rgb.height * scale);
  let top1 = -1;
  if (probs) for (let c = 0; c < k; c++) if (top1 < 0 || probs[c]! > probs[top1]!) top1 = c;

  const tiles: { image: RgbImage; label: string; bold: boolean }[] = [{ image: rgb, label: 'input', bold: false }];
  if (opts.showMax ?? true) tiles.push({ image: camOverlay(rgb, maxOverClasses(cams, k), opts), label: 'max over classes', bold: false });
  for (let c = 0; c < k; c++) {
    const label = probs ? `${classNames[c]} ${(probs[c]! * 100).toFixed(1)}%` : classNames[c]!;
    tiles.push({ image: camOverlay(rgb, cams.subarray(c * n, (c + 1) * n), opts), label, bold: c === top1 });
  }
  const perRow = Math.min(tiles.length, Math.ceil(tiles.length / Math.ceil(tiles.length / (opts.columns ?? 5))));
  const rows = Math.ceil(tiles.length / perRow);
  const pad = 10;
  const labelH = 24;
  const top = opts.title ? 40 : pad;
  const width = perRow * (tw + pad) + pad;
  const height = top + rows * (th + labelH + pad);
  const out: string[] = [];
  if (opts.title) out.push(text(width / 2, 26, opts.title, { size: 16, anchor: 'middle', weight: 'bold' }));
  for (const [i, t] of tiles.entries()) {
    const x = pad + (i % perRow) * (tw + pad);
    const y = top + Math.floor(i / perRow) * (th + labelH + pad);
    // Enlarged with sharp, not by the SVG renderer, so the look does not depend on librsvg's filter.
    const png = await sharp(t.image.data, { raw: { width: t.image.width, height: t.image.height, channels: 3 } }).resize(tw, th, { kernel: 'lanczos3' }).png().toBuffer();
    out.push(`<image x="${x}" y="${y}" width="${tw}" height="${th}" href="data:image/png;base64,${png.toString('base64')}"/>`);
    if (t.bold) out.push(rect(x - 2, y - 2, tw + 4, th + 4, 'none', `stroke="${MEAN_COLOUR}" stroke-width="3"`));
    out.push(text(x + tw / 2, y + th + 17, t.label, { size: 13, anchor: 'middle', weight: t.bold ? 'bold' : 'normal' }));
  }
  return svgDocument(width, height, out);
}

export async function camGridPng(path: string, rgb: RgbImage, cams: Float32Array, classNames: readonly string[], probs?: ArrayLike<number>, opts: CamGridOptions = {}): Promise<void> {
  await writeSvgPng(path, await camGridSvg(rgb, cams, classNames, probs, opts));
}
