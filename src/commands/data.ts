// `mek data <check|synth|longtail>`: the dataset tools, one module per subcommand.
import { dataCheckCommand } from './data-check.ts';
import { dataLongtailCommand } from './data-longtail.ts';
import { dataSynthCommand } from './data-synth.ts';
import type { MekCommand } from './program.ts';

export const dataCommand: MekCommand = {
  command: 'data <command>',
  describe: 'Dataset tools: check a dataset, write the synthetic one or a long-tailed Fashion-MNIST',
  builder: (y) => y.command(dataCheckCommand).command(dataSynthCommand).command(dataLongtailCommand).demandCommand(1, 'name a data command: check, synth or longtail'),
  handler: () => {},
};
