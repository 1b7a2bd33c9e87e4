// The one way mek reads a file a user names (checkpoints, weights, images, configs, label
// files): a regular file, of at most a bounded size (of exactly the expected size where that is
// known). A symlink to /dev/zero, a FIFO or a folder would otherwise be read without end, and a
// giant file would be read whole before any check; here each is one line naming the file.
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

export interface ReadLimits {
  /** Largest size accepted, in bytes. */
  maxBytes: number;
  /** The exact size the file must have (a weights file named in a manifest), when known. */
  expectedBytes?: number;
  /** What the file is, for the message: "weights file", "image", ... */
  what: string;
}

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? 'an' : 'a';
}

/** The problem with a file of these stats for these limits, or null. */
function problem(stats: { isFile(): boolean; isDirectory(): boolean; size: number }, limits: ReadLimits): string | null {
  if (stats.isDirectory()) return 'is a folder, not a file';
  if (!stats.isFile()) return `is not a regular file (a device or a FIFO): ${article(limits.what)} ${limits.what} must be a file`;
  const expected = limits.expectedBytes;
  if (expected !== undefined && stats.size < expected) return `is truncated (${stats.size} of ${expected} bytes)`;
  if (expected !== undefined && stats.size > expected) return `has ${stats.size} bytes, ${expected} expected`;
  if (stats.size > limits.maxBytes) return `is ${stats.size} bytes, more than the ${limits.maxBytes} ${article(limits.what)} ${limits.what} may have`;
  return null;
}

/** A file's bytes, after the checks; `fail` turns a problem into the caller's error. */
export async function readRegularFile(path: string, limits: ReadLimits, fail: (problem: string) => never): Promise<Buffer> {
  const p = problem(await stat(path), limits);
  if (p) fail(p);
  return readFile(path);
}

export function readRegularFileSync(path: string, limits: ReadLimits, fail: (problem: string) => never): Buffer {
  const p = problem(statSync(path), limits);
  if (p) fail(p);
  return readFileSync(path);
}
