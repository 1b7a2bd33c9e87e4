// The confusion heat-map: rows the true class, columns the predicted one, each row normalised.
import type { Metrics } from '../metrics.ts';
import { accuracyLine, accuracySubtitle, checkNames, MUTED, plotTitle } from './chart.ts';
import { AXIS_COLOUR, clamp, line, num, rect, svgDocument, text, textWidth, writeSvgPng } from './svg.ts';

const MISSING_FILL = '#f0f0f0';

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
  const width = Math.ceil(Math.max(barX + 16 + 48, textWidth(accuracyLine(m), 13) + 40));
  const out: string[] = [plotTitle(width, title), accuracySubtitle(width, m)];

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
  out.push(...colourBar(barX, top, size));
  return svgDocument(width, height, out);
}

/** The colour bar at (x, top), `size` high with 0 at the bottom: the cells' stops as one gradient. */
function colourBar(x: number, top: number, size: number): string[] {
  const stops = BLUES.map((c, i) => `<stop offset="${num(i / (BLUES.length - 1))}" stop-color="${c}"/>`).join('');
  const out = [`<defs><linearGradient id="blues" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>`];
  out.push(rect(x, top, 16, size, 'url(#blues)', `stroke="${AXIS_COLOUR}" stroke-width="1"`));
  for (const t of [0, 25, 50, 75, 100]) {
    const y = top + size - (t / 100) * size;
    out.push(line(x + 16, y, x + 20, y, AXIS_COLOUR));
    out.push(text(x + 23, y, `${t}%`, { size: 10, middle: true }));
  }
  return out;
}

export async function confusionPng(path: string, m: Metrics, classNames: readonly string[]): Promise<void> {
  await writeSvgPng(path, confusionSvg(m, classNames));
}
