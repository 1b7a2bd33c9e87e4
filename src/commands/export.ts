// `mek export --ckpt F --out X.pt|X.safetensors`: a model as the reference's full state dict,
// which PyTorch loads with torch.load(..., weights_only=True) and load_state_dict(strict=True).
import { extname } from 'node:path';
import { selectBackend } from '../backend.ts';
import { EXPORT_KEY, exportModel } from '../io/export.ts';
import { loadModel, printNotes } from '../io/import/load-model.ts';
import { resolveCheckpointPath } from './ckpt-path.ts';
import { UsageError } from './errors.ts';
import type { GlobalOptions, MekCommand } from './program.ts';

interface ExportArgs extends GlobalOptions {
  ckpt: string;
  out: string;
}

const OUT_FORMATS = ['.pt', '.pth', '.safetensors'];

export const exportCommand: MekCommand = {
  command: 'export',
  describe: 'Write a checkpoint as a PyTorch state dict (.pt/.pth) or .safetensors for the reference code',
  builder: (y) =>
    y
      .option('ckpt', { type: 'string', demandOption: true, describe: 'checkpoint to export (a bare best.json means the latest run\'s)' })
      .option('out', { type: 'string', demandOption: true, describe: 'X.pt / X.pth (torch.save zip) or X.safetensors' })
      .example('$0 export --ckpt best.json --out rafdb_mek.pt', ''),
  handler: async (argv) => {
    const args = argv as unknown as ExportArgs;
    if (!OUT_FORMATS.includes(extname(args.out))) throw new UsageError(`--out ${args.out}: the file name must end in ${OUT_FORMATS.join(', ')}`);
    const { path, inferred } = resolveCheckpointPath(args.ckpt);
    await selectBackend(args.backend);
    const model = await loadModel(path, { purpose: 'use' });
    printNotes(model);
    try {
      await exportModel(args.out, model.architecture, await model.store.values());
    } finally {
      model.store.dispose();
    }
    const layout = extname(args.out) === '.safetensors' ? 'the SwinTransFER state dict' : `{"${EXPORT_KEY}": SwinTransFER state dict}`;
    process.stdout.write(`wrote ${args.out} from ${path}${inferred ? ' (latest run)' : ''}: ${layout}, ${model.classes.length} classes (${model.classes.join(', ')})\n`);
  },
};
