// `mek eval --report` and `mek predict --report`, spawned as a user runs them, then opened in a
// headless Chromium: the page's numbers equal `mek eval --json`, a confusion cell shows its
// images when clicked, the hardest images and the training curves are there, and a screenshot
// is saved. Without a browser the browser checks are skipped with the reason printed.
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, launchChromium } from '../helpers/browser.ts';
import { expectOneLineUsageError, spawnMekSync as mek } from '../helpers/cli.ts';
import { useCliWorkspace } from '../helpers/cli-workspace.ts';

const { root, runDir, ckpt, data } = useCliWorkspace({ checkpoint: true });
const evalReport = join(root, 'eval-report');
const predictReport = join(root, 'predict-report');
const chromium = findChromium();
if (!chromium) console.warn('report browser tests skipped: no Chromium found (install Debian\'s chromium, or set MEK_CHROMIUM)');

const percent = (f: number) => `${(100 * f).toFixed(2)}%`;
const strips = (dir: string) => readdirSync(join(dir, 'strips'));

describe('mek eval --report', () => {
  let json: { overall: number; meanClass: number; perClass: { accuracy: number | null }[]; confusion: number[][] };
  beforeAll(() => {
    // A run folder's history: the report draws its training curves.
    const lines = [1, 2, 3].map((s) => JSON.stringify({ event: 'log', step: s * 10, loss: 2 - s / 10, lr: 1e-3 }));
    writeFileSync(join(runDir, 'metrics.jsonl'), lines.join('\n') + '\n');
    const r = mek('eval', '--ckpt', ckpt, '--json');
    expect(r.code, r.stderr).toBe(0);
    json = JSON.parse(r.stdout);
    const w = mek('eval', '--ckpt', ckpt, '--report', evalReport, '--report-per-cell', '2', '--report-hardest', '1');
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/report: .*index\.html \(\d+ images drawn/);
  }, 120_000);

  it('bounds the images drawn by the per-cell and per-class limits', () => {
    const nonEmptyCells = json.confusion.flat().filter((n) => n > 0).length;
    expect(strips(evalReport).length).toBeGreaterThan(0);
    expect(strips(evalReport).length).toBeLessThanOrEqual(2 * nonEmptyCells + json.perClass.length);
    expect(existsSync(join(evalReport, 'strips.new'))).toBe(false);
  });

  it('refuses a folder that holds other files, leaving them as they were', () => {
    const other = join(root, 'not-a-report');
    cpSync(join(data, 'list_patition_label.txt'), join(other, 'keep.txt'), { recursive: true });
    expectOneLineUsageError(mek('eval', '--ckpt', ckpt, '--report', other), /not-a-report: the folder has files and is not a mek report/);
    expect(readdirSync(other)).toEqual(['keep.txt']);
    expectOneLineUsageError(mek('eval', '--ckpt', ckpt, '--report', evalReport, '--report-per-cell', '-1'), /--report-per-cell -1/);
  });

  it('writes a report again over an earlier one', () => {
    const before = statSync(join(evalReport, 'index.html')).mtimeMs;
    const again = join(root, 'again');
    expect(mek('eval', '--ckpt', ckpt, '--report', again, '--report-per-cell', '1', '--report-hardest', '0').code).toBe(0);
    const first = strips(again).length;
    const r = mek('eval', '--ckpt', ckpt, '--report', again, '--report-per-cell', '3', '--report-hardest', '0');
    expect(r.code, r.stderr).toBe(0);
    expect(strips(again).length).toBeGreaterThanOrEqual(first);
    expect(readdirSync(again).sort()).toEqual(['index.html', 'strips']);
    expect(statSync(join(evalReport, 'index.html')).mtimeMs).toBe(before);
  });

  it('shares a folder with --out, and with it again', () => {
    const both = join(root, 'both');
    for (let i = 0; i < 2; i++) {
      const r = mek('eval', '--ckpt', ckpt, '--out', both, '--report', both, '--report-per-cell', '1', '--report-hardest', '0');
      expect(r.code, r.stderr).toBe(0);
    }
    expect(readdirSync(both).sort()).toEqual(['confusion.png', 'index.html', 'per_class.png', 'report.json', 'strips']);
  });

  describe.skipIf(!chromium)('in Chromium', () => {
    let browser: Browser;
    let page: Page;
    const errors: string[] = [];
    beforeAll(async () => {
      browser = await launchChromium(chromium!);
      page = await browser.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('requestfailed', (r) => errors.push(`failed: ${r.url()}`));
      await page.goto(`file://${join(evalReport, 'index.html')}`);
    }, 60_000);
    afterAll(async () => browser?.close());

    it('shows the numbers of mek eval --json', async () => {
      expect(await page.$eval('#overall', (e) => e.textContent)).toBe(percent(json.overall));
      expect(await page.$eval('#mean-class', (e) => e.textContent)).toBe(percent(json.meanClass));
      const recall = await page.$$eval('#recall .bar-text', (es) => es.map((e) => e.textContent));
      expect(recall).toEqual(json.perClass.map((c) => (c.accuracy === null ? 'no images' : `${(100 * c.accuracy).toFixed(1)}%`)));
      const counts = await page.$$eval('#confusion tbody tr', (rows) => rows.map((r) => Array.from(r.querySelectorAll('.count'), (c) => Number(c.textContent))));
      expect(counts).toEqual(json.confusion);
    });

    it('shows the images of a confusion cell when it is clicked, most confident first', async () => {
      const [t, p] = json.confusion.flatMap((row, t) => row.map((n, p) => [t, p, n] as const)).find(([, , n]) => n > 0)!;
      await page.click(`#confusion td[data-t="${t}"][data-p="${p}"]`);
      await page.waitForSelector('#cell-view .card img');
      const shown = await page.$$eval('#cell-view .card', (cards) => cards.length);
      expect(shown).toBe(Math.min(2, json.confusion[t]![p]!));
      await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('#cell-view img')).every((i) => i.complete && i.naturalWidth > 0));
      const shares = await page.$$eval('#cell-view .card .wrong, #cell-view .card .right', (es) => es.map((e) => Number(/([\d.]+)%/.exec(e.textContent!)![1])));
      expect(shares).toEqual([...shares].sort((a, b) => b - a));
    });

    it('has the hardest images per class and the training curves, loads nothing that fails, and saves a screenshot', async () => {
      expect(await page.$$eval('#hardest .class-block', (es) => es.length)).toBeGreaterThan(0);
      expect(await page.$$eval('#curves svg', (es) => es.length)).toBe(1);
      const shot = join(root, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
      expect(errors).toEqual([]);
    });
  });
});

describe('mek predict --report', () => {
  const images = [1, 2, 3].map((i) => join(data, 'Image', 'aligned', `test_000${i}_aligned.jpg`));
  beforeAll(() => {
    const r = mek('predict', '--ckpt', ckpt, '--report', predictReport, ...images);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it('draws every image', () => {
    expect(strips(predictReport)).toHaveLength(images.length);
  });

  it.skipIf(!chromium)('shows each image with its prediction, filtered by a click on a class', async () => {
    const browser = await launchChromium(chromium!);
    try {
      const page = await browser.newPage();
      await page.goto(`file://${join(predictReport, 'index.html')}`);
      expect(await page.$$eval('#gallery .card', (es) => es.length)).toBe(images.length);
      const counts = await page.$$eval('#pred-distribution .bar-text', (es) => es.map((e) => Number(e.textContent)));
      const top = counts.indexOf(Math.max(...counts));
      await page.click(`#pred-distribution .bar-row[data-class="${top}"]`);
      expect(await page.$$eval('#gallery .card', (es) => es.length)).toBe(counts[top]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
