// The CLI's error contract: exit 2 for anything the user can fix (a UsageError or one of its
// subclasses in errors.ts: config, data, checkpoint, an unavailable backend), reported as one
// line; exit 1 for everything else.
import { UsageError } from '../errors.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function exitCodeFor(err: unknown): number {
  return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}

/**
 * The text the CLI prints to stderr for an error: one line normally; the message plus the
 * stack with `debug`. yargs' own messages span lines ("Invalid values:\n  Argument: ..."),
 * so lines are joined rather than cut.
 */
export function formatError(err: unknown, debug: boolean): string {
  if (debug && err instanceof Error && err.stack) return `mek: ${err.stack}`;
  const message = oneLine(err instanceof Error ? err.message : String(err));
  if (exitCodeFor(err) === EXIT_USAGE) return `mek: ${message}`;
  const kind = err instanceof Error && err.name !== 'Error' ? `${err.name}: ` : '';
  return `mek: ${kind}${message} (run with --debug for the stack trace)`;
}

function oneLine(text: string): string {
  return text.trim().split(/\s*\n\s*/).join(' ');
}
