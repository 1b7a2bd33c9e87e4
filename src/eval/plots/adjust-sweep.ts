// The accuracy / mean-class trade-off of post-hoc logit adjustment, against tau.
import type { SweepPoint } from '../adjust.ts';
import { percent } from '../report.ts';
import { extent, legendEntry, MEAN_COLOUR, MUTED, percentScale, plotTitle, seriesPath, yGrid } from './chart.ts';
import { AXIS_COLOUR, GRID_COLOUR, line, linearScale, PALETTE, rect, svgDocument, text, writeSvgPng } from './svg.ts';

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
  const out: string[] = [plotTitle(width, opts.title ?? `Post-hoc adjustment on the ${opts.split} split`)];
  if (points.length === 0) return svgDocument(width, height, [...out, text(width / 2, height / 2, 'no tau evaluated', { size: 14, anchor: 'middle', fill: MUTED })]);
  const lines = [
    { label: 'overall', points: points.map((p): [number, number] => [p.tau, 100 * p.metrics.overall]) },
    { label: 'mean-class', points: points.map((p): [number, number] => [p.tau, 100 * p.metrics.meanClass]) },
  ];
  const [t0, t1] = extent(points.map((p) => p.tau));
  const x = linearScale(t0, t1, left, left + plotW, { count: 8 });
  const [lo, hi] = extent(lines.flatMap((l) => l.points.map(([, v]) => v)));
  const y = percentScale(lo, hi, top + plotH, top);
  out.push(...yGrid(y, left, plotW));
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
    out.push(...legendEntry(left + plotW, ly, PALETTE[i]!, l.label));
    ly += 20;
  });
  out.push(...legendEntry(left + plotW, ly, MEAN_COLOUR, `best mean-class: tau ${best.tau}`, 1.2, '4 3'));
  ly += 18;
  out.push(text(left + plotW + 42, ly, `${percent(best.metrics.meanClass)} (overall ${percent(best.metrics.overall)})`, { size: 11, fill: MUTED, middle: true }));
  if (opts.chosen !== undefined && opts.chosen !== best.tau) {
    ly += 22;
    out.push(...legendEntry(left + plotW, ly, AXIS_COLOUR, `chosen: tau ${opts.chosen}`, 1.2, '2 3'));
  }
  out.push(text(left + plotW / 2, height - 16, 'tau (predictions: argmax of logits - tau log prior)', { size: 13, anchor: 'middle' }));
  out.push(text(18, top + plotH / 2, 'accuracy (%)', { size: 13, anchor: 'middle', rotate: -90 }));
  return svgDocument(width, height, out);
}

export async function adjustSweepPng(path: string, points: readonly SweepPoint[], opts: { split: string; chosen?: number }): Promise<void> {
  await writeSvgPng(path, adjustSweepSvg(points, opts));
}
