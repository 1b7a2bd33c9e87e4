// `mek ablate --config F [--seeds N] [--methods ce,mek,la,...] [--name N] [--set k=v]...`:
// the paper's ablation and the long-tail remedies on one config (plain cross-entropy, RBL, RAC,
// MEK, logit adjustment, DRW, the balanced sampler, MEK + LA), each over N seeds with everything
// else identical (src/ablate/), then the table of final and post-hoc accuracies.
import { join } from 'node:path';
import { parseMethods } from '../ablate/plan.ts';
import { ABLATION_JSON, ABLATION_MD } from '../ablate/report.ts';
import { runAblation } from '../ablate/run.ts';
import { DEFAULT_METHODS, METHOD_NAMES, METHODS } from '../ablate/table.ts';
import { selectBackend } from '../backend.ts';
import { loadConfig } from '../config/load.ts';
import { barReporter, lineReporter } from '../train/progress.ts';
import type { GlobalOptions, MekCommand } from './program.ts';
import { listenForStop } from './stop.ts';

interface AblateArgs extends GlobalOptions {
  config?: string;
  set: string[];
  seeds: number;
  methods: string;
  name?: string;
}

export const ablateCommand: MekCommand = {
  command: 'ablate',
  describe: 'Train CE, MEK and the long-tail remedies over seeds with everything else equal; print the ablation table',
  builder: (y) =>
    y
      .option('config', { type: 'string', describe: 'experiment config (YAML), the base of every run' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a key of the base config (repeatable)' })
      .option('seeds', { type: 'number', default: 3, describe: 'seeds per method: train.seed, train.seed + 1, ... (each also changes the data order)' })
      .option('methods', {
        type: 'string',
        default: DEFAULT_METHODS.join(','),
        describe: `comma-separated, from: ${METHOD_NAMES.map((m) => `${m} (${METHODS[m].label})`).join(', ')}`,
      })
      .option('name', { type: 'string', describe: 'ablation folder under train.out_dir (default: <config name>-ablation)' })
      .example('$0 ablate --config configs/fmnist-lt.yaml --seeds 3', 'the long-tailed Fashion-MNIST ablation'),
  handler: async (argv) => {
    const args = argv as unknown as AblateArgs;
    const methods = parseMethods(args.methods);
    const config = loadConfig(args.config, args.set);
    const backend = await selectBackend(args.backend);
    const tty = process.stdout.isTTY;
    const write = (line: string) => process.stdout.write(line + '\n');
    const stop = listenForStop((signal) => write(`${signal}: stopping after this step and saving last.json (${signal} again to quit at once); the same command continues`));
    try {
      const result = await runAblation({
        config,
        configPath: args.config,
        methods,
        seeds: args.seeds,
        name: args.name,
        backend,
        // A fresh bar per run on a terminal; elsewhere each run's lines carry its tag.
        reporterFor: (tag) => (tty ? barReporter(process.stdout) : lineReporter((l) => write(`[${tag}] ${l}`))),
        line: write,
        stopRequested: () => stop.signal !== null,
      });
      write('');
      process.stdout.write(result.table);
      write(`${result.complete ? 'done' : 'incomplete'}: ${result.runs.length} run${result.runs.length === 1 ? '' : 's'}; ${join(result.dir, ABLATION_JSON)}, ${join(result.dir, ABLATION_MD)}`);
      if (result.interrupted) process.exitCode = stop.exitCode();
    } finally {
      stop.dispose();
    }
  },
};
