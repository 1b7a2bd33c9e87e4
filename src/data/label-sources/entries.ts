// The lines of a label file (rafdb's one file, list's one per split): `name label`, the label
// the last field, blank lines and `#` comments skipped; every bad line is a problem naming its
// file and line.
import { isAbsolute, normalize, sep } from 'node:path';
import type { DataProblem } from '../labels.ts';
import { MiB, readRegularFileSync } from '../../io/read-file.ts';

/** A label file lists names and labels: RAF-DB's is 270 kB, AffectNet's lists a few MB. */
const MAX_LABEL_FILE_BYTES = 256 * MiB;

/** The file's lines; null (and a problem naming `key`) when it is not set or cannot be read. */
export function readLines(file: string, key: string, problems: DataProblem[]): string[] | null {
  if (!file) {
    problems.push({ kind: 'missing-source', message: `${key} is not set` });
    return null;
  }
  try {
    const fail = (p: string): never => {
      throw new Error(p);
    };
    return readRegularFileSync(file, { maxBytes: MAX_LABEL_FILE_BYTES, what: 'label file' }, fail).toString('utf8').split(/\r?\n/);
  } catch (err) {
    problems.push({ kind: 'missing-source', message: `${key} ${file}: cannot read (${reason(err)})` });
    return null;
  }
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'a folder, not a file';
  return code ?? (err instanceof Error ? err.message : String(err));
}

/** "name label" with the label the last field; null when the line has fewer than two fields. */
function splitLine(text: string): { name: string; labelText: string } | null {
  const m = /^(.*\S)\s+(\S+)$/.exec(text);
  return m ? { name: m[1]!, labelText: m[2]! } : null;
}

export /**
 * Each "name label" entry of a label file with its "file:line", skipping blank and `#` lines;
 * a line without two fields is reported as malformed (`expected` says what was wanted), a name
 * listed twice (it would count twice in the class counts and balance weights) and a relative
 * name that leads out of the data root (`../`) as problems too.
 */
function forEachEntry(
  lines: string[],
  file: string,
  expected: string,
  problems: DataProblem[],
  visit: (fields: { name: string; labelText: string }, where: string) => void,
): void {
  const seen = new Map<string, string>();
  lines.forEach((raw, i) => {
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const fields = splitLine(text);
    if (!fields) {
      problems.push({ kind: 'malformed', message: `${where}: expected ${expected}, got '${text}'` });
      return;
    }
    const first = seen.get(fields.name);
    if (first) {
      problems.push({ kind: 'duplicate', message: `${where}: '${fields.name}' is listed already at line ${first.slice(first.lastIndexOf(':') + 1)}` });
      return;
    }
    seen.set(fields.name, where);
    const normalised = normalize(fields.name);
    if (!isAbsolute(fields.name) && (normalised === '..' || normalised.startsWith(`..${sep}`))) {
      problems.push({ kind: 'malformed', message: `${where}: '${fields.name}' leads out of data.root; list images by their path inside it` });
      return;
    }
    visit(fields, where);
  });
}

export /** The label as an integer in [first, first + K), or the problem with it. */
function parseLabel(text: string, first: number, classes: number, where: string): number | DataProblem {
  if (!/^[+-]?\d+$/.test(text)) return { kind: 'malformed', message: `${where}: label '${text}' is not an integer` };
  const value = Number(text);
  const last = first + classes - 1;
  if (value < first || value > last) {
    return {
      kind: 'label-range',
      message: `${where}: label ${value} out of range ${first}..${last} (${classes} classes: ${first}-based labels)`,
    };
  }
  return value - first;
}
