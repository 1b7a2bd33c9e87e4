// What the plots share beyond the SVG toolkit (svg.ts): colours, the title and accuracy line
// over a metrics plot, data extents, the percentage scale, series lines and legend entries.
import type { Metrics } from '../metrics.ts';
import { percent } from '../report.ts';
import { GRID_COLOUR, linearScale, line, num, text, type Scale } from './svg.ts';

export const MUTED = '#777777';
export const MEAN_COLOUR = '#d62728';

/** The plot's title, centred at the top. */
export function plotTitle(width: number, title: string): string {
  return text(width / 2, 28, title, { size: 18, anchor: 'middle', weight: 'bold' });
}

/** The line under a metrics plot's title: overall and mean-class accuracy, sample count. */
export function accuracySubtitle(width: number, m: Metrics): string {
  return text(width / 2, 50, accuracyLine(m), { size: 13, anchor: 'middle', fill: '#444444' });
}

export function accuracyLine(m: Metrics): string {
  const partial = m.meanClassIsPartial ? ` (over ${m.numClasses - m.missingClasses.length} classes)` : '';
  return `overall ${percent(m.overall)} · mean-class ${percent(m.meanClass)}${partial} · ${m.total} samples`;
}

export function checkNames(m: Metrics, classNames: readonly string[]): void {
  if (classNames.length !== m.numClasses) throw new RangeError(`${classNames.length} class names for ${m.numClasses} classes`);
}

/** [min, max] by a loop: a long run logs more values than Math.min(...spread) takes as arguments. */
export function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** A scale for percentages in [lo, hi], widened to whole ticks but never beyond 0 and 100. */
export function percentScale(lo: number, hi: number, r0: number, r1: number): Scale {
  const s = linearScale(lo, hi, 0, 1, { count: 5 });
  return linearScale(Math.max(0, s.ticks[0]!), Math.min(100, s.ticks[s.ticks.length - 1]!), r0, r1, { count: 5 });
}

/** Draws one series; markers where points are few enough to tell apart (always for one point). */
export function seriesPath(points: [number, number][], x: Scale, y: Scale, colour: string): string[] {
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

/** Horizontal grid lines with their labels on the left, for each tick of `y`. */
export function yGrid(y: Scale, left: number, plotW: number): string[] {
  return y.ticks.flatMap((t) => [line(left, y(t), left + plotW, y(t), GRID_COLOUR), text(left - 8, y(t), y.format(t), { size: 11, anchor: 'end', middle: true })]);
}

/** A legend entry in the right margin (which starts at x0): a stroke of the series' line, then its label. */
export function legendEntry(x0: number, y: number, colour: string, label: string, width = 2.5, dash?: string): string[] {
  return [line(x0 + 14, y, x0 + 36, y, colour, width, dash), text(x0 + 42, y, label, { size: 12, middle: true })];
}
