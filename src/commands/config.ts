// `mek config defaults` prints every key with its default and meaning (configs/default.yaml is
// this output); `mek config show --config F [--set k=v]` prints the resolved configuration.
import { configToYaml, defaultConfigYaml, loadConfig } from '../config/load.ts';
import type { MekCommand } from './program.ts';

export const configCommand: MekCommand = {
  command: 'config <action>',
  describe: 'Print the default configuration or a resolved one',
  builder: (y) =>
    y
      .positional('action', { choices: ['defaults', 'show'] as const, describe: 'defaults: every key documented; show: the resolved config' })
      .option('config', { type: 'string', describe: 'config file (show)' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a key: --set train.batch_size=64' }),
  handler: (argv) => {
    if (argv.action === 'defaults') {
      process.stdout.write(defaultConfigYaml());
      return;
    }
    process.stdout.write(configToYaml(loadConfig(argv.config, argv.set as string[])));
  },
};
