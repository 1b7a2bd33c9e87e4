// `mek train --config F [--set k=v]... [--name N] [--resume PATH]`: one training run.
import { selectBackend } from '../backend.ts';
import { loadConfig, loadSavedConfig } from '../config/load.ts';
import { barReporter, lineReporter } from '../train/progress.ts';
import { runTraining, type TrainRunOptions } from '../train/run.ts';
import type { Config } from '../config/schema.ts';
import type { Argv } from 'yargs';
import { resumePath } from '../train/run-dir.ts';
import type { TrainSummary } from '../train/summary.ts';
import { readCheckpointMeta } from '../io/checkpoint/read.ts';
import { UsageError } from '../errors.ts';
import { listenForStop } from './stop.ts';
import type { GlobalOptions, MekCommand } from './program.ts';

export interface RunArgs extends GlobalOptions {
  config?: string;
  set: string[];
  name?: string;
  resume?: string;
}

/** The options of a command that makes a run folder (mek train, mek pretrain). */
export function runOptions(y: Argv, setExample: string): Argv {
  return y
    .option('config', { type: 'string', describe: 'experiment config (YAML); keys not in it take the defaults of `mek config defaults`' })
    .option('set', { type: 'string', array: true, default: [], describe: `override a key: --set ${setExample} (repeatable)` })
    .option('name', { type: 'string', describe: 'run folder name under train.out_dir (default: the config file name)' })
    .option('resume', { type: 'string', describe: 'continue a run: its folder or its last.json (config, weights, optimizer, data order and RNG)' });
}

/** What a run returns that its last line needs. */
interface RunEnd {
  runDir: string;
  step: number;
  interrupted: boolean;
}

/**
 * A run from the command line: the config (a resumed run keeps its own; --set still applies on
 * top), the backend, progress bars or lines, Ctrl-C saving last.json; then the last line,
 * "done: N steps; <outcome>; files in DIR", and on a stop the signal's exit code.
 */
export async function runFromArgs<S extends RunEnd>(argv: unknown, run: (o: TrainRunOptions) => Promise<S>, outcome: (s: S, config: Config) => string): Promise<void> {
  const args = argv as RunArgs;
  const sets = [...args.set, ...(args.name ? [`train.name=${args.name}`] : [])];
  const config = args.resume && !args.config ? await resumedConfig(args.resume, sets) : loadConfig(args.config, sets);
  const backend = await selectBackend(args.backend);
  const progress = process.stdout.isTTY ? barReporter(process.stdout) : lineReporter((line) => process.stdout.write(line + '\n'));
  const stop = listenForStop((signal) => progress.line(`${signal}: stopping after this step and saving last.json (${signal} again to quit at once)`));
  try {
    const summary = await run({ config, configPath: args.config, resume: args.resume, backend, progress, stopRequested: () => stop.signal !== null });
    process.stdout.write(`${summary.interrupted ? 'interrupted' : 'done'}: ${summary.step} steps; ${outcome(summary, config)}; files in ${summary.runDir}\n`);
    if (summary.interrupted) process.exitCode = stop.exitCode();
  } finally {
    stop.dispose();
  }
}

export const trainCommand: MekCommand = {
  command: 'train',
  describe: 'Train a model (Swin + MEK) from a config',
  builder: (y) =>
    runOptions(y, 'train.batch_size=64')
      .example('$0 train --config configs/demo.yaml', 'the CPU demo on synthetic faces')
      .example('$0 train --config configs/rafdb.yaml --set train.batch_size=64', 'the paper recipe with a bigger batch'),
  handler: (argv) => runFromArgs(argv, runTraining, (summary, config) => outcome(summary, config.train.best_metric)),
};

/** What the last line of a run says: the test figures a user can quote, and how best.json was picked. */
export function outcome(s: TrainSummary, metric: string): string {
  const figures = (m: Record<string, unknown>) =>
    `accuracy ${(100 * (m['accuracy'] as number)).toFixed(2)}% mean-class ${(100 * (m['mean_class_accuracy'] as number)).toFixed(2)}%`;
  if (s.selection === 'val' && s.test && s.posthoc) {
    return `test split with best.json (step ${s.best!.step}, picked on the validation split): ${figures(s.test)}; with post-hoc tau ${s.posthoc.tau}: ${figures(s.posthoc.test)}`;
  }
  if (!s.last) return 'no evaluation yet';
  const where = s.selection === 'val' ? 'validation split' : 'test split';
  const best = s.best ? `; best.json: step ${s.best.step} by ${metric}, picked on the ${where}${s.selection === 'test' ? ' (optimistic)' : ''}` : '';
  return `${where} at step ${s.last.step}: ${figures(s.last.metrics)}${best}`;
}

/** The configuration a run was saved with (last.json carries it), with --set applied on top. */
export async function resumedConfig(resume: string, sets: string[]) {
  const path = resumePath(resume);
  const meta = await readCheckpointMeta(path);
  if (!meta.config) throw new UsageError(`${path}: holds no configuration; pass the run's --config as well`);
  return loadSavedConfig(meta.config, sets);
}

