// `mek export --ckpt F --out X.pt|X.safetensors|X.onnx`: a model as the reference's full state
// dict, which PyTorch loads with torch.load(..., weights_only=True) and
// load_state_dict(strict=True); or as an ONNX graph for deployment (src/io/onnx/).
import { basename, extname } from 'node:path';
import { selectBackend } from '../backend.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { EXPORT_KEY, exportModel } from '../io/export.ts';
import { OPSET } from '../io/onnx/fer-graph.ts';
import { onnxModel } from '../io/onnx/export.ts';
import { mekVersion } from '../version.ts';
import { loadModel, printNotes } from '../io/import/load-model.ts';
import { resolveCheckpointPath } from './ckpt-path.ts';
import { UsageError } from '../errors.ts';
import type { GlobalOptions, MekCommand } from './program.ts';

interface ExportArgs extends GlobalOptions {
  ckpt: string;
  out: string;
}

const OUT_FORMATS = ['.pt', '.pth', '.safetensors', '.onnx'];

export const exportCommand: MekCommand = {
  command: 'export',
  describe: 'Write a checkpoint as a PyTorch state dict (.pt/.pth), .safetensors, or an ONNX model (.onnx) for deployment',
  builder: (y) =>
    y
      .option('ckpt', { type: 'string', demandOption: true, describe: 'checkpoint to export (a bare best.json means the latest run\'s)' })
      .option('out', { type: 'string', demandOption: true, describe: 'X.pt / X.pth (torch.save zip), X.safetensors, or X.onnx (image [N,3,H,W] -> logits, cams)' })
      .example('$0 export --ckpt best.json --out rafdb_mek.pt', '')
      .example('$0 export --ckpt best.json --out model.onnx', 'for onnxruntime (Node, Python, C++, the browser)'),
  handler: async (argv) => {
    const args = argv as unknown as ExportArgs;
    if (!OUT_FORMATS.includes(extname(args.out))) throw new UsageError(`--out ${args.out}: the file name must end in ${OUT_FORMATS.join(', ')}`);
    const { path, inferred } = resolveCheckpointPath(args.ckpt);
    await selectBackend(args.backend);
    const model = await loadModel(path, { purpose: 'use' });
    printNotes(model);
    const onnx = extname(args.out) === '.onnx';
    try {
      const values = await model.store.values();
      if (onnx) {
        const meta = { classes: model.classes, preprocessing: model.preprocessing, prior: model.prior, posthocTau: model.posthoc?.tau, version: mekVersion(), source: basename(path) };
        await writeFileAtomic(args.out, onnxModel(model.architecture, values, meta));
      } else await exportModel(args.out, model.architecture, values);
    } finally {
      model.store.dispose();
    }
    const layout = onnx
      ? `ONNX opset ${OPSET}, image [N, 3, ${model.preprocessing.imageSize}, ${model.preprocessing.imageSize}] -> logits, cams`
      : extname(args.out) === '.safetensors'
        ? 'the SwinTransFER state dict'
        : `{"${EXPORT_KEY}": SwinTransFER state dict}`;
    process.stdout.write(`wrote ${args.out} from ${path}${inferred ? ' (latest run)' : ''}: ${layout}, ${model.classes.length} classes (${model.classes.join(', ')})\n`);
  },
};
