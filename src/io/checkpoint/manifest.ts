// A checkpoint's manifests: one group naming one binary file in the checkpoint's folder, whose
// entries are exactly the arrays the architecture stores (names and shapes), with the byte
// count and sha256 the file must have.
import { basename } from 'node:path';
import { BYTES_PER_VALUE, sizeOf } from './arrays.ts';
import type { WeightEntry } from './format.ts';
import { isCount, isRecord } from './guards.ts';
import { show, type Problem } from './problem.ts';

/** An array a manifest must list. */
export interface ManifestEntry {
  name: string;
  shape: number[];
}

const NAMES_SHOWN = 3;

/** Checks a manifest (one group, one file in the checkpoint's folder) against the expected entries. */
export function checkStoredArrays(
  x: Record<string, unknown>,
  what: string,
  expected: ManifestEntry[],
  problem: Problem,
): void {
  const manifest = x['weightsManifest'];
  if (!Array.isArray(manifest) || manifest.length !== 1 || !isRecord(manifest[0])) {
    problem(`${what} manifest must be a list of one group`);
  }
  const group = (manifest as unknown[])[0] as Record<string, unknown>;
  const paths = group['paths'];
  if (!Array.isArray(paths) || paths.length !== 1 || typeof paths[0] !== 'string') {
    problem(`${what} manifest must name one file in "paths"`);
  }
  const file = (paths as string[])[0]!;
  if (file !== basename(file) || file === '' || file === '.' || file === '..' || file.includes('\\')) {
    problem(`${what} file ${show(file)} must be a file name in the checkpoint's folder`);
  }
  const weights = group['weights'];
  if (!Array.isArray(weights)) return problem(`${what} manifest lacks its "weights" list`);
  weights.forEach((w: unknown, i) => {
    if (!isRecord(w) || typeof w['name'] !== 'string' || !Array.isArray(w['shape']) || !w['shape'].every(isCount)) {
      problem(`${what} manifest entry ${i} is not {name, shape, dtype}`);
    }
    if (w['dtype'] !== 'float32') problem(`${what} manifest entry ${w['name']} has dtype ${show(w['dtype'])}; checkpoints store float32`);
  });
  const mismatch = compareEntries(weights as WeightEntry[], expected);
  if (mismatch) problem(`${what} manifest does not match the architecture: ${mismatch}`);
  const bytes = (weights as WeightEntry[]).reduce((n, w) => n + sizeOf(w.shape) * BYTES_PER_VALUE, 0);
  if (x['weightsBytes'] !== bytes) problem(`${what} "weightsBytes" is ${show(x['weightsBytes'])} but the manifest describes ${bytes} bytes`);
  const digest = x['weightsSha256'];
  if (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) problem(`${what} "weightsSha256" must be 64 hex digits`);
}

/** Missing, unexpected, repeated and mis-shaped names as a short summary; null when they agree. */
function compareEntries(entries: WeightEntry[], expected: ManifestEntry[]): string | null {
  const want = new Map(expected.map((e) => [e.name, e.shape]));
  const seen = new Set<string>();
  const unexpected: string[] = [];
  const repeated: string[] = [];
  const misshaped: string[] = [];
  for (const e of entries) {
    if (seen.has(e.name)) repeated.push(e.name);
    seen.add(e.name);
    const shape = want.get(e.name);
    if (!shape) unexpected.push(e.name);
    else if (shape.length !== e.shape.length || shape.some((n, i) => n !== e.shape[i])) {
      misshaped.push(`${e.name} [${e.shape.join(', ')}] vs [${shape.join(', ')}]`);
    }
  }
  const missing = expected.filter((e) => !seen.has(e.name)).map((e) => e.name);
  const parts = [
    summary('missing', missing),
    summary('unexpected', unexpected),
    summary('repeated', repeated),
    summary('mis-shaped', misshaped),
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : null;
}

function summary(label: string, names: string[]): string {
  if (!names.length) return '';
  const more = names.length > NAMES_SHOWN ? `, ... ${names.length - NAMES_SHOWN} more` : '';
  return `${names.length} ${label} (${names.slice(0, NAMES_SHOWN).join(', ')}${more})`;
}
