// Per-class accuracy as bars, with the mean-class and overall accuracy as lines across.
import type { Metrics } from '../metrics.ts';
import { percent } from '../report.ts';
import { accuracyLine, accuracySubtitle, checkNames, MEAN_COLOUR, MUTED, plotTitle } from './chart.ts';
import { AXIS_COLOUR, clamp, GRID_COLOUR, line, linearScale, rect, svgDocument, text, textWidth, writeSvgPng, type Scale } from './svg.ts';

const BAR_COLOUR = '#4c78a8';

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
  const width = Math.ceil(Math.max(left + plotW + right, textWidth(accuracyLine(m), 13) + 40));
  const labelsH = (showSupport ? 18 : 0) + (rotate ? widest * Math.SQRT1_2 + labelSize + 6 : labelSize + 8);
  const height = Math.ceil(top + plotH + labelsH + 16);
  const y = linearScale(0, 100, top + plotH, top, { count: 5 });
  const out: string[] = [plotTitle(width, title), accuracySubtitle(width, m)];
  for (const t of y.ticks) {
    out.push(line(left, y(t), left + plotW, y(t), GRID_COLOUR));
    out.push(line(left - 5, y(t), left, y(t), AXIS_COLOUR));
    out.push(text(left - 8, y(t), y.format(t), { size: 11, anchor: 'end', middle: true }));
  }
  out.push(text(left - 46, top + plotH / 2, 'accuracy (%)', { size: 13, anchor: 'middle', rotate: -90, middle: true }));

  // Reference lines go behind the bars, so they never cross the values printed inside them.
  out.push(...referenceLines(m, y, left, plotW));
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

/** Mean-class and overall accuracy as lines across; their labels sit in the right margin, pushed apart where they would collide. */
function referenceLines(m: Metrics, y: Scale, left: number, plotW: number): string[] {
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
  return refs.flatMap((r, i) => [
    line(left, y(r.v * 100), left + plotW, y(r.v * 100), r.colour, 1.5, r.dash),
    text(left + plotW + 8, ys[i]!, r.label, { size: 12, fill: r.colour, middle: true }),
  ]);
}

export async function perClassBarsPng(path: string, m: Metrics, classNames: readonly string[]): Promise<void> {
  await writeSvgPng(path, perClassBarsSvg(m, classNames));
}
