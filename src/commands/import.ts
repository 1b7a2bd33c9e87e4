// `mek import --from FILE.pt --out FILE.json [--config F]`: a PyTorch or safetensors model as
// a mek checkpoint (architecture, classes and preprocessing included, so it works alone).
import { basename, dirname, extname } from 'node:path';
import { selectBackend } from '../backend.ts';
import { loadConfig } from '../config/load.ts';
import { saveCheckpoint } from '../io/checkpoint/save.ts';
import { loadModel, printNotes } from '../io/import/load-model.ts';
import { UsageError } from '../errors.ts';
import type { GlobalOptions, MekCommand } from './program.ts';

interface ImportArgs extends GlobalOptions {
  from: string;
  out: string;
  config?: string;
  set: string[];
}

export const importCommand: MekCommand = {
  command: 'import',
  describe: 'Convert a PyTorch .pt/.pth or .safetensors model into a mek checkpoint JSON',
  builder: (y) =>
    y
      .option('from', { type: 'string', demandOption: true, describe: 'the PyTorch (.pt/.pth) or safetensors file' })
      .option('out', { type: 'string', demandOption: true, describe: 'the checkpoint to write (NAME.json, with NAME.<hash>.weights.bin beside it)' })
      .option('config', { type: 'string', describe: 'architecture, class names and preprocessing to hold the file to (default: read from the file)' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a key of --config' })
      .example('$0 import --from checkpoint_step_50000.pt --out rafdb.json --config configs/rafdb.yaml', ''),
  handler: async (argv) => {
    const args = argv as unknown as ImportArgs;
    if (extname(args.out) !== '.json') throw new UsageError(`--out ${args.out}: a mek checkpoint is a .json file`);
    const config = args.config ? loadConfig(args.config, args.set) : undefined;
    await selectBackend(args.backend);
    const model = await loadModel(args.from, { purpose: 'use', config });
    printNotes(model);
    try {
      const path = await saveCheckpoint(dirname(args.out), basename(args.out, '.json'), {
        store: model.store,
        classes: model.classes,
        preprocessing: model.preprocessing,
        step: model.step,
        metrics: { ...model.metrics, imported_from: args.from },
        config,
      });
      const v = model.architecture;
      process.stdout.write(
        `wrote ${path}: Swin ${v.imgSize} px, patch ${v.patchSize}, embed ${v.embedDim}, depths [${v.depths.join(', ')}], ` +
          `${v.numClasses} classes (${model.classes.join(', ')})\n`,
      );
    } finally {
      model.store.dispose();
    }
  },
};
