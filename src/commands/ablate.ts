// `mek ablate --config F [--seeds N] [--methods ce,mek,la,...] [--name N] [--set k=v]...`:
// the paper's ablation and the long-tail remedies on one config (plain cross-entropy, RBL, RAC,
// MEK, logit adjustment, DRW, the balanced sampler, MEK + LA), each over N seeds with everything
// else identical (src/ablate/), then the table of final and post-hoc accuracies.
// --as-given trains the config exactly as given instead of the methods (a recipe without a name).
// With --plan-only it writes every run folder's resolved config and trains nothing (for another
// trainer: scripts/reference/train_longtail.py); `mek ablate --table DIR` makes the table of
// an ablation folder from the runs in it, whoever trained them.
import { join } from 'node:path';
import { tableFromFolder } from '../ablate/from-folder.ts';
import { parseMethods, planAblation, writePlan, writePlannedRuns, type PlanOptions } from '../ablate/plan.ts';
import { ABLATION_JSON, ABLATION_MD } from '../ablate/report.ts';
import { runAblation, type AblationResult } from '../ablate/run.ts';
import { AS_GIVEN, DEFAULT_METHODS, METHOD_NAMES, METHODS } from '../ablate/table.ts';
import { selectBackend } from '../backend.ts';
import { loadConfig } from '../config/load.ts';
import { barReporter, lineReporter } from '../train/progress.ts';
import { UsageError } from '../errors.ts';
import type { GlobalOptions, MekCommand } from './program.ts';
import { listenForStop } from './stop.ts';

const DEFAULT_SEEDS = 3;

interface AblateArgs extends GlobalOptions {
  config?: string;
  set: string[];
  /** Undefined when not given, so that --table can refuse them: the defaults apply in planOptions. */
  seeds?: number;
  methods?: string;
  name?: string;
  asGiven: boolean;
  planOnly: boolean;
  table?: string;
}

export const ablateCommand: MekCommand = {
  command: 'ablate',
  describe: 'Train CE, MEK and the long-tail remedies over seeds with everything else equal; print the ablation table',
  builder: (y) =>
    y
      .option('config', { type: 'string', describe: 'experiment config (YAML), the base of every run' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a key of the base config (repeatable)' })
      .option('seeds', {
        type: 'number',
        defaultDescription: String(DEFAULT_SEEDS),
        describe: 'seeds per method: train.seed, train.seed + 1, ... (each also changes the data order)',
      })
      .option('methods', {
        type: 'string',
        defaultDescription: JSON.stringify(DEFAULT_METHODS.join(',')),
        describe: `comma-separated, from: ${METHOD_NAMES.map((m) => `${m} (${METHODS[m].label})`).join(', ')}`,
      })
      .option('name', { type: 'string', describe: 'ablation folder under train.out_dir (default: <config name>-ablation)' })
      .option('as-given', {
        type: 'boolean',
        default: false,
        describe: `instead of the methods, the config exactly as given (runs named ${AS_GIVEN}-s<seed>), for a recipe without a name`,
      })
      .option('plan-only', {
        type: 'boolean',
        default: false,
        describe: 'write the ablation folder and every run folder with its resolved config.yaml; train nothing',
      })
      .option('table', { type: 'string', describe: 'the table of this ablation folder from the runs in it, whoever trained them; train nothing' })
      .example('$0 ablate --config configs/fmnist-lt.yaml --seeds 3', 'the long-tailed Fashion-MNIST ablation')
      .example('$0 ablate --table checkpoints/fmnist-lt-ablation', 'its table again, from the run folders'),
  handler: async (argv) => {
    const args = argv as unknown as AblateArgs;
    const write = (line: string) => process.stdout.write(line + '\n');
    if (args.table !== undefined) {
      const clash = planningOptionsGiven(args);
      if (clash.length > 0) throw new UsageError(`--table reads the plan in its folder; it takes no ${clash.join(', ')}`);
      printResult(await tableFromFolder(args.table, write), write);
      return;
    }
    const options = planOptions(args);
    if (args.planOnly) {
      await planOnly(options, write);
      return;
    }
    await trainAblation(options, args, write);
  },
};

/** The options that make a plan, as written on the command line. */
function planningOptionsGiven(args: AblateArgs): string[] {
  const given: [string, boolean][] = [
    ['--config', args.config !== undefined],
    ['--set', args.set.length > 0],
    ['--seeds', args.seeds !== undefined],
    ['--methods', args.methods !== undefined],
    ['--name', args.name !== undefined],
    ['--as-given', args.asGiven],
    ['--plan-only', args.planOnly],
  ];
  return given.filter(([, present]) => present).map(([option]) => option);
}

function planOptions(args: AblateArgs): PlanOptions {
  if (args.asGiven && args.methods !== undefined) throw new UsageError('--as-given trains the config as given instead of --methods; give one of them');
  return {
    methods: args.asGiven ? [AS_GIVEN] : parseMethods(args.methods ?? DEFAULT_METHODS.join(',')),
    config: loadConfig(args.config, args.set),
    configPath: args.config,
    seeds: args.seeds ?? DEFAULT_SEEDS,
    name: args.name,
  };
}

async function planOnly(options: PlanOptions, write: (line: string) => void): Promise<void> {
  const plan = planAblation(options);
  await writePlan(plan, write);
  const written = new Set(await writePlannedRuns(plan));
  for (const [i, run] of plan.runs.entries()) {
    write(`[${i + 1}/${plan.runs.length}] ${run.tag}: ${written.has(run) ? 'planned' : 'already started or done, left as it is'}; ${run.dir}`);
  }
  write(`planned: ${plan.runs.length} run${plan.runs.length === 1 ? '' : 's'} in ${plan.dir}; train them (mek ablate with the same arguments, or another trainer), then: mek ablate --table ${plan.dir}`);
}

async function trainAblation(options: PlanOptions, args: AblateArgs, write: (line: string) => void): Promise<void> {
  const backend = await selectBackend(args.backend);
  const tty = process.stdout.isTTY;
  const stop = listenForStop((signal) => write(`${signal}: stopping after this step and saving last.json (${signal} again to quit at once); the same command continues`));
  try {
    const result = await runAblation({
      ...options,
      backend,
      // A fresh bar per run on a terminal; elsewhere each run's lines carry its tag.
      reporterFor: (tag) => (tty ? barReporter(process.stdout) : lineReporter((l) => write(`[${tag}] ${l}`))),
      line: write,
      stopRequested: () => stop.signal !== null,
    });
    printResult(result, write);
    if (result.interrupted) process.exitCode = stop.exitCode();
  } finally {
    stop.dispose();
  }
}

function printResult(result: AblationResult, write: (line: string) => void): void {
  write('');
  process.stdout.write(result.table);
  write(`${result.complete ? 'done' : 'incomplete'}: ${result.runs.length} run${result.runs.length === 1 ? '' : 's'}; ${join(result.dir, ABLATION_JSON)}, ${join(result.dir, ABLATION_MD)}`);
}
