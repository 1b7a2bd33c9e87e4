// Training curves from metrics.jsonl: loss terms, learning rate and evaluation accuracy against
// the step, one panel each.
import { series, type MetricEvent, type MetricRecord } from '../history.ts';
import { extent, legendEntry, MUTED, percentScale, plotTitle, seriesPath, yGrid } from './chart.ts';
import { AXIS_COLOUR, formatStep, GRID_COLOUR, line, linearScale, logScale, padRange, PALETTE, rect, svgDocument, text, writeSvgPng, type Scale } from './svg.ts';

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

interface Panel {
  spec: PanelSpec;
  /** The series the history holds, as (step, value) points. */
  data: (SeriesSpec & { points: [number, number][] })[];
}

const WIDTH = 900;
const LEFT = 84;
const RIGHT = 190;
const PLOT_W = WIDTH - LEFT - RIGHT;
const PANEL_H = 200;
const GAP = 64;
const TOP = 56;

/**
 * Training curves from metrics events: loss terms, learning rate and test accuracy against the
 * step, one panel each; a panel with no data is left out, series absent from the log too.
 */
export function curvesSvg(history: readonly MetricRecord[], title = 'Training curves'): string {
  const panels: Panel[] = PANELS.map((spec) => ({
    spec,
    data: spec.series.map((s) => ({ ...s, points: series(history, s.field).map(([st, v]): [number, number] => [st, spec.percent ? v * 100 : v]) })).filter((s) => s.points.length > 0),
  })).filter((p) => p.data.length > 0);
  if (panels.length === 0) {
    return svgDocument(WIDTH, 200, [plotTitle(WIDTH, title), text(WIDTH / 2, 110, 'no metrics recorded yet', { size: 14, anchor: 'middle', fill: MUTED })]);
  }
  const height = TOP + panels.length * PANEL_H + (panels.length - 1) * GAP + 50;
  const [first, last] = extent(panels.flatMap((p) => p.data.flatMap((s) => s.points.map(([st]) => st))));
  // Steps are whole and, from a fresh run, non-negative: a lone point at step 0 gets [0, 1].
  const [s0, s1] = padRange(first, last);
  const x = linearScale(first >= 0 ? Math.max(0, s0) : s0, s1, LEFT, LEFT + PLOT_W, { count: 8, integer: true });
  const out: string[] = [plotTitle(WIDTH, title)];
  // Evaluations during training run on the validation split when the run has one (mek pretrain
  // without one: on training images).
  const splits = new Set(history.filter((e) => e['event'] === 'eval').map((e) => e['split']));
  const evalSplit = splits.has('val') ? 'validation' : splits.has('train') ? 'training-image' : 'test';
  panels.forEach((panel, i) => out.push(...panelSvg(panel, i, x, evalSplit)));
  out.push(text(LEFT + PLOT_W / 2, height - 12, 'step', { size: 13, anchor: 'middle' }));
  return svgDocument(WIDTH, height, out);
}

/** Panel `pi` (from the top): its axes, its series clipped to it, and its legend on the right. */
function panelSvg(panel: Panel, pi: number, x: Scale, evalSplit: string): string[] {
  const out: string[] = [];
  const py = TOP + pi * (PANEL_H + GAP);
  const [lo, hi] = extent(panel.data.flatMap((s) => s.points.map(([, v]) => v)));
  const log = panel.spec.logAbove !== undefined && lo > 0 && hi / lo > panel.spec.logAbove;
  let y = log ? logScale(lo, hi, py + PANEL_H, py) : linearScale(lo, hi, py + PANEL_H, py, { count: 5 });
  if (panel.spec.percent) y = percentScale(lo, hi, py + PANEL_H, py);
  const title = panel.spec.percent ? `${evalSplit} ${panel.spec.title}` : panel.spec.title;
  out.push(text(LEFT, py - 10, title + (log ? ' (log scale)' : ''), { size: 14, weight: 'bold' }));
  out.push(...yGrid(y, LEFT, PLOT_W));
  for (const t of x.ticks) {
    out.push(line(x(t), py, x(t), py + PANEL_H, GRID_COLOUR));
    out.push(line(x(t), py + PANEL_H, x(t), py + PANEL_H + 5, AXIS_COLOUR));
    out.push(text(x(t), py + PANEL_H + 18, formatStep(t), { size: 11, anchor: 'middle' }));
  }
  out.push(rect(LEFT, py, PLOT_W, PANEL_H, 'none', `stroke="${AXIS_COLOUR}" stroke-width="1"`));
  // Lines stay inside the panel even where a log scale's widened range still clips a point.
  out.push(`<clipPath id="panel${pi}">${rect(LEFT, py, PLOT_W, PANEL_H, '#000')}</clipPath>`);
  out.push(`<g clip-path="url(#panel${pi})">`);
  const colour = (s: SeriesSpec) => PALETTE[panel.spec.series.findIndex((q) => q.field === s.field)]!;
  // Drawn last to first, so the first series (the total loss) stays on top where lines meet.
  for (const s of [...panel.data].reverse()) out.push(...seriesPath(s.points, x, y, colour(s)));
  out.push('</g>');

  let ly = py + 12;
  for (const s of panel.data) {
    out.push(...legendEntry(LEFT + PLOT_W, ly, colour(s), s.label));
    ly += 18;
    if (panel.spec.best) {
      const [bestStep, bestValue] = s.points.reduce((a, b) => (b[1] > a[1] ? b : a));
      out.push(text(LEFT + PLOT_W + 42, ly - 2, `best ${bestValue.toFixed(2)}% @ ${formatStep(bestStep)}`, { size: 11, fill: MUTED, middle: true }));
      ly += 20;
    }
  }
  return out;
}

export async function curvesPng(path: string, history: readonly MetricRecord[]): Promise<void> {
  await writeSvgPng(path, curvesSvg(history));
}
