// The report page: one HTML file with its style, script and data inlined, so it opens from the
// file system in any browser with no network. The numbers (headline, per-class recall, the
// split's distribution, the confusion matrix) are in the HTML itself; the script adds what
// needs a click: the thumbnails of a confusion cell, the hardest images per class, the sort
// order of the bars. The plots of a run folder (training curves, the post-hoc trade-off) come
// in as SVG.
import { readFileSync } from 'node:fs';
import { esc } from '../eval/plots/svg.ts';
import { percent } from '../eval/report.ts';
import type { ReportData, ReportHeadline } from './data.ts';

const ASSETS = new URL('./assets/', import.meta.url);
/** Marks a folder as a mek report, so that writing one again may replace it. */
export const REPORT_MARKER = '<meta name="generator" content="mek report">';

export interface PageExtras {
  /** Training curves of the checkpoint's run folder. */
  curvesSvg?: string;
  /** Accuracy and mean-class accuracy over the post-hoc tau. */
  sweepSvg?: string;
}

function asset(name: string): string {
  return readFileSync(new URL(name, ASSETS), 'utf8');
}

/** JSON safe inside a <script> element: no "</script>" or "<!--" can end it early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** A row of labelled horizontal bars: value in [0, 1] (null: no samples), text beside each. */
function bars(id: string, rows: { name: string; value: number | null; text: string }[]): string {
  const items = rows.map(
    (r, i) =>
      `<div class="bar-row" data-class="${i}" data-value="${r.value ?? -1}"><span class="bar-name">${esc(r.name)}</span>` +
      `<span class="bar-track"><span class="bar" style="width:${((r.value ?? 0) * 100).toFixed(2)}%"></span></span><span class="bar-text">${esc(r.text)}</span></div>`,
  );
  return `<div class="bars" id="${id}">${items.join('')}</div>`;
}

function headlineHtml(h: ReportHeadline, classes: readonly string[]): string {
  const total = h.support.reduce((a, b) => a + b, 0);
  const recall = classes.map((name, c) => ({ name, value: h.perClass[c] ?? null, text: h.perClass[c] == null ? 'no images' : percent(h.perClass[c]!, 1) }));
  const share = classes.map((name, c) => ({ name, value: total ? h.support[c]! / total : 0, text: `${h.support[c]} (${percent(total ? h.support[c]! / total : 0, 1)})` }));
  return `<section id="headline"><div class="big"><span class="label">overall</span><span id="overall">${percent(h.overall)}</span></div>
<div class="big"><span class="label">mean-class</span><span id="mean-class">${percent(h.meanClass)}</span></div>
<div class="big"><span class="label">images</span><span id="total">${total}</span></div></section>
<section class="two"><div><h2>Recall per class <button id="sort-recall" type="button">sort by recall</button></h2>${bars('recall', recall)}</div>
<div><h2>Images per class in the split</h2>${bars('distribution', share)}</div></section>`;
}

function confusionHtml(h: ReportHeadline, classes: readonly string[]): string {
  const head = classes.map((c) => `<th scope="col">${esc(c)}</th>`).join('');
  const rows = classes.map((name, t) => {
    const cells = classes.map((_, p) => {
      const n = h.confusion[t]![p]!;
      const frac = h.confusionNormalized[t]![p]!;
      const kind = t === p ? 'hit' : 'miss';
      return `<td class="cell ${kind}${n ? '' : ' empty'}" data-t="${t}" data-p="${p}" style="--share:${frac.toFixed(4)}"><span class="count">${n}</span><span class="row-pct">${percent(frac, 1)}</span></td>`;
    });
    return `<tr><th scope="row">${esc(name)}</th>${cells.join('')}</tr>`;
  });
  return `<section id="confusion-section"><h2>Confusion matrix</h2><p class="hint">Rows: true class; columns: predicted. Counts and % of the row. Click a cell to see its images.</p>
<table id="confusion"><thead><tr><th>true \\ predicted</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>
<div id="cell-view" class="gallery-block"></div></section>`;
}

function plotsHtml(extras: PageExtras): string {
  const parts: string[] = [];
  if (extras.curvesSvg) parts.push(`<section id="curves"><h2>Training</h2><div class="plot">${extras.curvesSvg}</div></section>`);
  if (extras.sweepSvg) parts.push(`<section id="sweep"><h2>Post-hoc adjustment: accuracy against mean-class accuracy</h2><div class="plot">${extras.sweepSvg}</div></section>`);
  return parts.join('\n');
}

function bodyHtml(data: ReportData, extras: PageExtras): string {
  if (data.kind === 'predict') {
    return `<section class="two"><div><h2>Predicted classes <span class="hint">(click one to filter)</span></h2><div id="pred-distribution"></div></div></section>
<section><h2>Images, most confident first</h2><div id="gallery" class="gallery-block"></div></section>`;
  }
  const h = data.headline!;
  return `${headlineHtml(h, data.classes)}\n${confusionHtml(h, data.classes)}
<section><h2>Hardest images per class <span class="hint">(lowest probability of the true class)</span></h2><div id="hardest"></div></section>
${plotsHtml(extras)}`;
}

/** The whole page. */
export function reportHtml(data: ReportData, extras: PageExtras = {}): string {
  const about = data.about.map((l) => `<p>${esc(l)}</p>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${REPORT_MARKER}
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(data.title)}</title>
<style>${asset('report.css')}</style></head>
<body><header><h1>${esc(data.title)}</h1><div class="about">${about}</div>
<p class="legend">Each strip: the face as the model sees it, the class attention maps of two classes over it, then the same two maps of the mirrored face (MEK asks these to be mirror images of the first two).</p></header>
<main>${bodyHtml(data, extras)}</main>
<script type="application/json" id="mek-data">${scriptJson(data)}</script>
<script>${asset('report.js')}</script></body></html>
`;
}
