// Every problem with a checkpoint is one CheckpointError line naming the file (CLI exit 2).
import { CheckpointError } from '../../errors.ts';

/** Reports a problem found in a checkpoint; never returns. */
export type Problem = (text: string) => never;

export function fail(file: string, problem: string): never {
  // One line whatever the problem text holds (JSON.parse quotes the offending input).
  throw new CheckpointError(`checkpoint ${file}: ${problem.replace(/[\u0000-\u001f\u007f]+/g, ' ')}`);
}

/** What a failed read says about the file, from its error code. */
export function ioProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  return `cannot be read (${code ?? (err as Error).message})`;
}

/** A value for a message, kept short. */
export function show(x: unknown): string {
  const text = x === undefined ? 'nothing' : JSON.stringify(x);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
