// What an evaluation prints: a one-line summary, a per-class table, the confusion matrix in
// counts and in row-normalised percent (fitted to a terminal width), the `--json` object and
// Markdown tables for READMEs and run notes.
import type { Metrics } from './metrics.ts';

/** The `mek eval --json` object. Accuracies are fractions in [0, 1]; null: no test samples. */
export interface EvalReportJson {
  overall: number;
  meanClass: number;
  perClass: { name: string; support: number; accuracy: number | null }[];
  confusion: number[][];
  confusionNormalized: number[][];
}

export interface TextOptions {
  /** Terminal columns the confusion matrices must fit in. */
  width?: number;
}

const DEFAULT_WIDTH = 100;
/** Longest row label of a matrix; longer class names are cut. */
const MAX_ROW_LABEL = 12;
const NO_VALUE = '-';

export function percent(fraction: number, digits = 2): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

function checkNames(m: Metrics, classNames: readonly string[]): void {
  if (classNames.length !== m.numClasses) throw new RangeError(`${classNames.length} class names for ${m.numClasses} classes`);
}

/** "overall 92.70%  mean-class 88.34%  (3068 samples)", plus the classes left out of the mean. */
export function summaryLine(m: Metrics, classNames: readonly string[]): string {
  checkNames(m, classNames);
  let line = `overall ${percent(m.overall)}  mean-class ${percent(m.meanClass)}  (${m.total} samples)`;
  if (m.meanClassIsPartial) {
    const names = m.missingClasses.map((c) => classNames[c]).join(', ');
    line += `  [mean-class over ${m.numClasses - m.missingClasses.length}/${m.numClasses} classes; no samples: ${names}]`;
  }
  return line;
}

/** Class, support and accuracy, one row per class. */
export function perClassTable(m: Metrics, classNames: readonly string[]): string {
  checkNames(m, classNames);
  const nameWidth = Math.max(5, ...classNames.map((n) => n.length));
  const supportWidth = Math.max(7, String(Math.max(...m.support)).length);
  const accWidth = 8;
  const lines = [`${'class'.padEnd(nameWidth)}  ${'support'.padStart(supportWidth)}  ${'accuracy'.padStart(accWidth)}`];
  classNames.forEach((name, c) => {
    const acc = m.perClass[c];
    const cell = acc === null || acc === undefined ? NO_VALUE : percent(acc);
    const note = acc === null ? '  (no samples: left out of mean-class)' : '';
    lines.push(`${name.padEnd(nameWidth)}  ${String(m.support[c]).padStart(supportWidth)}  ${cell.padStart(accWidth)}${note}`);
  });
  return lines.join('\n');
}

/**
 * Cuts names to `width` characters; where cutting makes two names equal, they become a prefix
 * plus their class index, so every column stays identifiable.
 */
export function abbreviate(names: readonly string[], width: number): string[] {
  const cut = (s: string) => (s.length <= width ? s : width > 1 ? `${s.slice(0, width - 1)}.` : s.slice(0, width));
  const short = names.map(cut);
  return short.map((s, i) => {
    if (short.indexOf(s) === short.lastIndexOf(s)) return s;
    const tag = String(i);
    return `${names[i]!.slice(0, Math.max(0, width - tag.length))}${tag}`;
  });
}

function matrixText(title: string, rows: string[][], rowNames: readonly string[], colNames: readonly string[], rowWidth: number, colWidth: number): string {
  const head = ' '.repeat(rowWidth) + colNames.map((n) => n.padStart(colWidth)).join('');
  const body = rows.map((cells, r) => rowNames[r]!.padEnd(rowWidth) + cells.map((v) => v.padStart(colWidth)).join(''));
  return [title, head, ...body].join('\n');
}

/** The confusion matrix twice, in counts and in row-normalised percent; rows = true class. */
export function confusionText(m: Metrics, classNames: readonly string[], opts: TextOptions = {}): string {
  checkNames(m, classNames);
  const width = opts.width ?? DEFAULT_WIDTH;
  const k = m.numClasses;
  const rowWidth = Math.min(MAX_ROW_LABEL, Math.max(...classNames.map((n) => n.length))) + 1;
  // A column must hold "100.0" and the largest count with a space before it; beyond that,
  // share what the row labels leave, up to a width that shows most names whole.
  const minCol = Math.max(6, String(Math.max(...m.confusion.flat())).length + 1);
  const colWidth = Math.max(minCol, Math.min(10, Math.floor((width - rowWidth) / k)));
  const rowNames = abbreviate(classNames, rowWidth - 1);
  const colNames = abbreviate(classNames, colWidth - 1);
  const counts = m.confusion.map((row) => row.map(String));
  const normalized = m.confusionNormalized.map((row, r) => row.map((v) => (m.support[r] === 0 ? NO_VALUE : (v * 100).toFixed(1))));
  return [
    matrixText('confusion (rows: true, columns: predicted), counts', counts, rowNames, colNames, rowWidth, colWidth),
    '',
    matrixText('confusion, % of each true class', normalized, rowNames, colNames, rowWidth, colWidth),
  ].join('\n');
}

/** Summary, per-class table and confusion matrices: what `mek eval` prints. */
export function reportText(m: Metrics, classNames: readonly string[], opts: TextOptions = {}): string {
  return [summaryLine(m, classNames), '', perClassTable(m, classNames), '', confusionText(m, classNames, opts)].join('\n');
}

export function reportJson(m: Metrics, classNames: readonly string[]): EvalReportJson {
  checkNames(m, classNames);
  return {
    overall: m.overall,
    meanClass: m.meanClass,
    perClass: classNames.map((name, c) => ({ name, support: m.support[c]!, accuracy: m.perClass[c] ?? null })),
    confusion: m.confusion.map((row) => [...row]),
    confusionNormalized: m.confusionNormalized.map((row) => [...row]),
  };
}

export type Align = 'left' | 'right';

/** A GitHub-flavoured Markdown table; `|` inside cells is escaped. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[], align: readonly Align[] = []): string {
  const esc = (v: string | number) => String(v).replace(/\|/g, '\\|');
  const bad = rows.findIndex((r) => r.length !== headers.length);
  if (bad >= 0) throw new RangeError(`row ${bad} has ${rows[bad]!.length} cells, expected ${headers.length}`);
  const rule = headers.map((_, i) => (align[i] === 'right' ? '---:' : '---'));
  return [headers.map(esc), rule, ...rows.map((r) => r.map(esc))].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** Per-class accuracy as Markdown, with overall and mean-class as the last rows. */
export function perClassMarkdown(m: Metrics, classNames: readonly string[]): string {
  checkNames(m, classNames);
  const rows: (string | number)[][] = classNames.map((name, c) => {
    const acc = m.perClass[c];
    return [name, m.support[c]!, acc === null || acc === undefined ? NO_VALUE : percent(acc)];
  });
  rows.push(['**mean-class**', m.total, `**${percent(m.meanClass)}**`]);
  rows.push(['**overall**', m.total, `**${percent(m.overall)}**`]);
  return markdownTable(['class', 'support', 'accuracy'], rows, ['left', 'right', 'right']);
}
