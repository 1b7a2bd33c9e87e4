// `mek eval --ckpt F [--config F] [--set k=v] [--data ROOT] [--split test] [--out DIR] [--json] [--tta flip]`
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../backend.ts';
import { loadConfig, loadSavedConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { loadSplit } from '../data/labels.ts';
import { BatchLoader } from '../data/loader.ts';
import { PreparePool } from '../data/pool.ts';
import { confusionPng, perClassBarsPng } from '../eval/plots.ts';
import { reportJson, reportText } from '../eval/report.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { loadModel, printNotes } from '../io/import/load-model.ts';
import { SwinConstants } from '../model/swin.ts';
import { evaluate } from '../train/evaluate.ts';
import { threadsFor } from '../train/memory.ts';
import { ReplicaPool } from '../train/replicas/pool.ts';
import { resolveCheckpointPath } from './ckpt-path.ts';
import { UsageError } from './errors.ts';
import type { GlobalOptions, MekCommand } from './program.ts';

interface EvalArgs extends GlobalOptions {
  ckpt: string;
  config?: string;
  set: string[];
  data?: string;
  split: 'train' | 'test';
  out?: string;
  json: boolean;
  tta: 'none' | 'flip';
}

/** --set and --data as config overrides. */
function evalSets(args: EvalArgs): string[] {
  const sets = [...args.set];
  if (args.data) sets.push(`data.root=${args.data}`, `data.label_file=${join(args.data, 'list_patition_label.txt')}`);
  return sets;
}

export const evalCommand: MekCommand = {
  command: 'eval',
  describe: 'Evaluate a checkpoint: overall, mean-class and per-class accuracy, confusion matrix',
  builder: (y) =>
    y
      .option('ckpt', { type: 'string', demandOption: true, describe: 'checkpoint: our .json (a bare best.json / last.json means the latest run\'s), a PyTorch .pt/.pth or .safetensors' })
      .option('config', { type: 'string', describe: 'take the data settings (and, for a PyTorch file, the architecture and class names) from this config' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a config key (data.*, eval.batch_size)' })
      .option('data', { type: 'string', describe: 'dataset root in RAF-DB layout (sets data.root and data.label_file)' })
      .option('split', { choices: ['train', 'test'] as const, default: 'test' as const })
      .option('out', { type: 'string', describe: 'folder for confusion.png, per_class.png and report.json' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
      .option('tta', { choices: ['none', 'flip'] as const, default: 'none' as const, describe: 'flip: average with the mirrored image' })
      .example('$0 eval --ckpt best.json', 'the latest run\'s best checkpoint on its test split'),
  handler: async (argv) => {
    const args = argv as unknown as EvalArgs;
    const { path, inferred } = resolveCheckpointPath(args.ckpt);
    const sets = evalSets(args);
    const explicit = args.config ? loadConfig(args.config, sets) : undefined;
    const backend = await selectBackend(args.backend);
    const model = await loadModel(path, { purpose: 'use', config: explicit });
    const { store, classes: modelClasses, preprocessing } = model;
    // The data settings: --config, else the checkpoint's own config, else the defaults.
    const config: Config = explicit ?? (model.savedConfig ? loadSavedConfig(model.savedConfig, sets) : loadConfig(undefined, sets));
    const meta = { classes: modelClasses, preprocessing, step: model.step };
    if (config.data.classes.length !== meta.classes.length) {
      store.dispose();
      throw new UsageError(`${path}: the checkpoint has ${meta.classes.length} classes, the data config ${config.data.classes.length}`);
    }
    process.stderr.write(`${backend.description}; checkpoint ${path}${inferred ? ' (latest run)' : ''}, step ${meta.step}\n`);
    printNotes(model);
    const split = loadSplit(config.data, args.split, { checkImages: config.data.on_bad_image === 'error' });
    const consts = new SwinConstants(model.architecture);
    const pool = new PreparePool(config.data.workers);
    // Inference shares each batch across threads as training does (wasm computes on one).
    const threads = threadsFor(config, backend, config.eval.batch_size);
    const replicas =
      threads > 1
        ? await ReplicaPool.start(threads - 1, { backend: backend.name, store, training: false, microBatch: 0, recompute: false })
        : undefined;
    try {
      const loader = new BatchLoader(
        {
          samples: split.samples,
          numClasses: meta.classes.length,
          batchSize: config.eval.batch_size,
          imageSize: meta.preprocessing.imageSize,
          mode: 'eval',
          interpolation: meta.preprocessing.interpolation,
          augment: { ...config.augment, mean: meta.preprocessing.mean, std: meta.preprocessing.std },
          seed: 0,
          sampler: 'sequential',
          repeatTo: 0,
          dropLast: false,
          prefetch: config.data.prefetch,
          onBadImage: config.data.on_bad_image,
          pool,
        },
        undefined,
        true,
      );
      const { metrics } = await evaluate(store.params, consts, loader, {
        numClasses: meta.classes.length,
        flipTta: args.tta === 'flip',
        replicas,
      });
      const json = { checkpoint: path, step: meta.step, split: args.split, tta: args.tta, ...reportJson(metrics, meta.classes) };
      process.stdout.write(args.json ? JSON.stringify(json, null, 2) + '\n' : reportText(metrics, meta.classes).replace(/\n?$/, '\n'));
      if (args.out) {
        mkdirSync(args.out, { recursive: true });
        await confusionPng(join(args.out, 'confusion.png'), metrics, meta.classes);
        await perClassBarsPng(join(args.out, 'per_class.png'), metrics, meta.classes);
        await writeFileAtomic(join(args.out, 'report.json'), JSON.stringify(json, null, 2) + '\n');
        if (!args.json) process.stdout.write(`wrote confusion.png, per_class.png and report.json to ${args.out}\n`);
      }
    } finally {
      await pool.close();
      await replicas?.close();
      consts.dispose();
      store.dispose();
    }
  },
};
