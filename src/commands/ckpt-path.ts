// Where `--ckpt best.json` points: the file itself when it exists, else (a bare name) the
// newest run folder under checkpoints/ that holds it. Commands say which file they used.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../errors.ts';

export function resolveCheckpointPath(ckpt: string, runsDir = 'checkpoints'): { path: string; inferred: boolean } {
  if (existsSync(ckpt)) return { path: ckpt, inferred: false };
  if (basename(ckpt) !== ckpt) throw new UsageError(`--ckpt ${ckpt}: no such file`);
  const runs = existsSync(runsDir)
    ? readdirSync(runsDir)
        .map((d) => join(runsDir, d, ckpt))
        .filter((p) => existsSync(p))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  if (runs.length === 0) throw new UsageError(`--ckpt ${ckpt}: not in the current folder nor in any run folder under ${runsDir}/`);
  return { path: runs[0]!, inferred: true };
}
