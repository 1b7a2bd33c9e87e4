// `mek data <check|synth>`: the dataset tools, one module per subcommand.
import { dataCheckCommand } from './data-check.ts';
import { dataSynthCommand } from './data-synth.ts';
import type { MekCommand } from './program.ts';

export const dataCommand: MekCommand = {
  command: 'data <command>',
  describe: 'Dataset tools: check a dataset, write the synthetic one',
  builder: (y) => y.command(dataCheckCommand).command(dataSynthCommand).demandCommand(1, 'name a data command: check or synth'),
  handler: () => {},
};
