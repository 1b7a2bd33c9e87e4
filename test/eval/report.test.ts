// Terminal report, --json shape and Markdown.
import { describe, expect, it } from 'vitest';
import { computeMetrics, metricsFromConfusion } from '../../src/eval/metrics.ts';
import { abbreviate, confusionText, markdownTable, perClassMarkdown, perClassTable, reportJson, reportText, summaryLine } from '../../src/eval/report.ts';
import { RAFDB_CLASSES, RAFDB_CONFUSION } from '../helpers/rafdb.ts';

const rafdb = metricsFromConfusion(RAFDB_CONFUSION);

describe('text report', () => {
  it('summarises overall and mean-class accuracy on one line', () => {
    expect(summaryLine(rafdb, RAFDB_CLASSES)).toBe('overall 92.70%  mean-class 88.34%  (3068 samples)');
  });

  it('lists support and accuracy per class', () => {
    const table = perClassTable(rafdb, RAFDB_CLASSES).split('\n');
    expect(table[0]).toMatch(/^class\s+support\s+accuracy$/);
    expect(table[2]).toMatch(/^Fear\s+74\s+74\.32%$/);
    expect(table[4]).toMatch(/^Happiness\s+1185\s+96\.88%$/);
  });

  it('prints the confusion matrix in counts and row percent within 100 columns', () => {
    const text = confusionText(rafdb, RAFDB_CLASSES);
    const lines = text.split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(lines.find((l) => l.startsWith('Happiness'))).toMatch(/^Happiness\s+5\s+0\s+3\s+1148\s+6\s+4\s+19$/);
    expect(lines.filter((l) => l.startsWith('Fear'))[1]).toMatch(/^Fear\s+8\.1\s+74\.3\s+2\.7\s+2\.7\s+6\.8\s+1\.4\s+4\.1$/);
  });

  it('abbreviates column names to fit many classes, keeping them distinct', () => {
    const names = Array.from({ length: 12 }, (_, i) => `expression_class_${i}`);
    const labels = Array.from({ length: 24 }, (_, i) => i % 12);
    const text = confusionText(computeMetrics(labels, labels, 12), names);
    const lines = text.split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    const header = lines[1]!.trim().split(/\s+/);
    expect(new Set(header).size).toBe(12);
    expect(abbreviate(['Happiness', 'Sadness', 'Surprise'], 6)).toEqual(['Happi.', 'Sadne.', 'Surpr.']);
    expect(abbreviate(['class_a1', 'class_a2'], 6)).toEqual(['class0', 'class1']);
  });

  it('marks a class without samples and says the mean is partial', () => {
    const m = computeMetrics([0, 0, 2], [0, 1, 2], 3);
    const names = ['a', 'b', 'c'];
    const text = reportText(m, names);
    expect(summaryLine(m, names)).toContain('mean-class over 2/3 classes; no samples: b');
    expect(text).toMatch(/^b\s+0\s+-\s+\(no samples/m);
    expect(text).not.toMatch(/NaN/);
  });

  it('refuses class names that do not match the class count', () => {
    expect(() => reportText(rafdb, ['a', 'b'])).toThrow(/2 class names for 7 classes/);
  });
});

describe('reportJson', () => {
  it('has the --json shape and survives a round trip through JSON', () => {
    const json = JSON.parse(JSON.stringify(reportJson(rafdb, RAFDB_CLASSES)));
    expect(Object.keys(json).sort()).toEqual(['confusion', 'confusionNormalized', 'meanClass', 'overall', 'perClass']);
    expect(json.overall).toBeCloseTo(2844 / 3068, 12);
    expect(json.meanClass).toBeCloseTo(rafdb.meanClass, 12);
    expect(json.perClass[1]).toEqual({ name: 'Fear', support: 74, accuracy: 55 / 74 });
    expect(json.confusion).toEqual(RAFDB_CONFUSION);
    expect(json.confusionNormalized).toHaveLength(7);
    for (const row of json.confusionNormalized) expect(row.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('writes null, not NaN, for a class without samples', () => {
    const json = JSON.parse(JSON.stringify(reportJson(computeMetrics([0], [0], 2), ['a', 'b'])));
    expect(json.perClass[1]).toEqual({ name: 'b', support: 0, accuracy: null });
  });
});

describe('Markdown', () => {
  it('builds a table with alignment and escaped pipes', () => {
    expect(markdownTable(['a', 'b|c'], [['x', 1]], ['left', 'right'])).toBe('| a | b\\|c |\n| --- | ---: |\n| x | 1 |');
    expect(() => markdownTable(['a'], [['x', 'y']])).toThrow(/row 0/);
  });

  it('lists per-class accuracy with mean-class and overall rows', () => {
    const md = perClassMarkdown(rafdb, RAFDB_CLASSES).split('\n');
    expect(md).toHaveLength(2 + 7 + 2);
    expect(md[3]).toBe('| Fear | 74 | 74.32% |');
    expect(md[9]).toBe('| **mean-class** | 3068 | **88.34%** |');
    expect(md[10]).toBe('| **overall** | 3068 | **92.70%** |');
  });
});
