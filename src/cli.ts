// The `mek` command line. bin/mek.js imports this file; it runs at once and sets the exit code
// (0 ok, 2 bad usage / config / data / checkpoint, 1 anything else: see commands/error-report.ts).
import { hideBin } from 'yargs/helpers';
import { ablateCommand } from './commands/ablate.ts';
import { benchCommand } from './commands/bench.ts';
import { configCommand } from './commands/config.ts';
import { dataCommand } from './commands/data.ts';
import { doctorCommand } from './commands/doctor.ts';
import { evalCommand } from './commands/eval.ts';
import { exportCommand } from './commands/export.ts';
import { importCommand } from './commands/import.ts';
import { predictCommand } from './commands/predict.ts';
import { pretrainCommand } from './commands/pretrain.ts';
import { trainCommand } from './commands/train.ts';
import { runCli, type MekCommand } from './commands/program.ts';

// One line per command; each lives in its own module under commands/.
const commands: MekCommand[] = [
  doctorCommand,
  configCommand,
  dataCommand,
  trainCommand,
  pretrainCommand,
  ablateCommand,
  evalCommand,
  predictCommand,
  importCommand,
  exportCommand,
  benchCommand,
];

process.exitCode = await runCli(hideBin(process.argv), commands);
