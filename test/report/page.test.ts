// The report page on its own: self-contained (nothing fetched from a network), its numbers in
// the HTML, its data safe inside the script element whatever the file names hold.
import { describe, expect, it } from 'vitest';
import type { ReportData } from '../../src/report/data.ts';
import { REPORT_MARKER, reportHtml, scriptJson } from '../../src/report/page.ts';

const data: ReportData = {
  kind: 'eval',
  title: 'mek evaluation report',
  about: ['checkpoint a.json'],
  classes: ['A', 'B'],
  images: { '0': { file: 'x</script><script>alert(1)</script>.jpg', strip: 'strips/000000.jpg', label: 0, pred: 1, probs: [0.25, 0.75], pair: [0, 1] } },
  headline: { overall: 0.5, meanClass: 0.625, perClass: [0.25, 1], support: [4, 2], confusion: [[1, 3], [0, 2]], confusionNormalized: [[0.25, 0.75], [0, 1]] },
  cells: [[[], [0]], [[], []]],
  cellTotals: [[1, 3], [0, 2]],
  hardest: [[0], []],
};

describe('reportHtml', () => {
  const html = reportHtml(data, { curvesSvg: '<svg id="c"></svg>' });

  it('states the numbers in the HTML', () => {
    expect(html).toContain('<span id="overall">50.00%</span>');
    expect(html).toContain('<span id="mean-class">62.50%</span>');
    expect(html).toMatch(/data-t="0" data-p="1"[^>]*><span class="count">3<\/span><span class="row-pct">75\.0%<\/span>/);
    expect(html).toContain('<svg id="c"></svg>');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(REPORT_MARKER);
  });

  it('loads nothing from elsewhere: no external script, style, image or link', () => {
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect(html).not.toMatch(/<script[^>]+src=/i);
  });

  it('keeps the data inside its script element', () => {
    const json = scriptJson(data);
    expect(json).not.toContain('</');
    expect(JSON.parse(json)).toEqual(data);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });
});
