// Builds the yargs program from a list of command modules and runs it, turning every outcome
// into an exit code. Kept apart from cli.ts (which runs on import) so tests can drive it in
// process with commands of their own.
import { mekVersion } from '../version.ts';
import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { BACKEND_NAMES, type BackendChoice } from '../backend.ts';
import { UsageError } from '../errors.ts';
import { EXIT_OK, exitCodeFor, formatError } from './error-report.ts';

/** Options every command accepts. */
export interface GlobalOptions {
  backend: BackendChoice;
  debug: boolean;
}

// Each command declares its own options on top of the global ones; the list of commands is
// heterogeneous in those, hence `any` for the command's own argument type.
export type MekCommand = CommandModule<GlobalOptions, any>;

const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...BACKEND_NAMES];

export interface CliOutput {
  /** Receives error reports; stdout stays free for command output such as `--json`. */
  stderr: (text: string) => void;
}

/**
 * `--` ends the options: the words after it are files (mek predict's images), even one named
 * `-h.jpg`. yargs does not hand words after `--` to a command's positionals, so they are passed
 * as the same paths written so that they cannot read as options (`./-h.jpg`).
 */
export function fileWordsAfterDashes(args: readonly string[]): string[] {
  const at = args.indexOf('--');
  if (at < 0) return [...args];
  return [...args.slice(0, at), ...args.slice(at + 1).map((w) => (w.startsWith('-') ? `./${w}` : w))];
}

const processOutput: CliOutput = { stderr: (text) => process.stderr.write(text) };

/** Parses `args` (without node and script), runs the chosen command and returns the exit code. */
export async function runCli(
  args: readonly string[],
  commands: readonly MekCommand[],
  out: CliOutput = processOutput,
): Promise<number> {
  // The flag must work even when parsing itself fails, so it is read from the raw words too.
  const debug = args.some((a) => a === '--debug' || a === '--debug=true');
  const program = yargs(fileWordsAfterDashes(args))
    .scriptName('mek')
    .usage('$0 <command> [options]')
    .option('backend', {
      choices: BACKEND_CHOICES,
      default: 'auto' as BackendChoice,
      describe: 'TensorFlow.js backend: auto tries tensorflow (tfjs-node-gpu), then wasm, then cpu',
    })
    .option('debug', {
      type: 'boolean',
      default: false,
      describe: 'print stack traces with errors',
    })
    .version(mekVersion())
    .help()
    .alias('help', 'h')
    .strict()
    .strictCommands()
    .recommendCommands()
    .demandCommand(1, 'no command given')
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs calls this for its own validation failures (msg set; err null or a YError) and
      // also for an error a command handler throws (err set), which parseAsync rejects with
      // as well. Either way the error is only thrown here and reported once, below.
      if (err && err.name !== 'YError') throw err;
      const text = msg ?? err?.message ?? 'invalid usage';
      throw new UsageError(`${text}${/[.?!]$/.test(text) ? '' : '.'} See 'mek --help'.`);
    })
    .wrap(Math.min(100, process.stdout.columns ?? 100));
  for (const command of commands) program.command(command);

  try {
    await program.parseAsync();
    // A command that ended on purpose with a code of its own (mek train stopped by Ctrl-C: 130).
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (err) {
    out.stderr(formatError(err, debug) + '\n');
    return exitCodeFor(err);
  }
}
