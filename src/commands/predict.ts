// `mek predict --ckpt FILE [--json] [--cams] [--cam-out DIR] IMAGE...`: class probabilities
// and, on request, the class attention maps of each image (the contract in docs/design.md).
import { mkdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { selectBackend } from '../backend.ts';
import { loadConfig } from '../config/load.ts';
import { createNormalizer } from '../data/augment/normalize.ts';
import { decodeImage } from '../data/decode.ts';
import { softmaxRows } from '../eval/metrics.ts';
import { camGridPng } from '../eval/plots/cam-grid.ts';
import type { InferenceEngine, ModelInfo } from '../infer/engine.ts';
import { openModel } from '../infer/select.ts';
import { writePredictReport } from '../report/predict-report.ts';
import { describeAdjustment, resolveAdjustment, type Adjustment } from './adjustment.ts';
import { resolveCheckpointPath } from './ckpt-path.ts';
import { ENGINE_OPTIONS, type EngineArgs } from './engine-options.ts';
import type { GlobalOptions, MekCommand } from './program.ts';

interface PredictArgs extends GlobalOptions, EngineArgs {
  ckpt: string;
  config?: string;
  set: string[];
  images: string[];
  json: boolean;
  cams: boolean;
  camOut?: string;
  adjust?: number;
  report?: string;
}

export interface Prediction {
  image: string;
  logits: number[];
  probs: number[];
  label: string;
  /** The post-hoc adjustment tau behind probs and label, when one applies (logits stay raw). */
  adjust?: number;
  cams?: number[][][];
}

/** `<stem>_cams.png`, or `<stem>-2_cams.png`, ... when an image of another folder had that stem. */
export function camFileName(image: string, used: Set<string>): string {
  const stem = basename(image, extname(image));
  let name = `${stem}_cams.png`;
  for (let i = 2; used.has(name); i++) name = `${stem}-${i}_cams.png`;
  used.add(name);
  return name;
}

export const predictCommand: MekCommand = {
  command: 'predict <images..>',
  describe: 'Classify face images with a checkpoint; optionally their class attention maps',
  builder: (y) =>
    y
      .positional('images', { type: 'string', array: true, describe: 'image files (any format sharp reads)' })
      .option('ckpt', { type: 'string', demandOption: true, describe: 'checkpoint: our .json (a bare best.json means the latest run\'s), a PyTorch .pt/.pth or .safetensors' })
      .option('config', { type: 'string', describe: 'for a PyTorch file: the architecture, class names and preprocessing to hold it to' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a key of --config' })
      .option('json', { type: 'boolean', default: false, describe: 'stdout is exactly one JSON array, one object per image' })
      .option('cams', { type: 'boolean', default: false, describe: 'include the class attention maps (class x row x col)' })
      .option('cam-out', { type: 'string', describe: 'write a heat-map overlay per image to this folder' })
      .option('adjust', { type: 'number', describe: 'post-hoc adjustment tau: probabilities softmax(logits - tau log prior) (default: the tau chosen on the validation split after training, if any, else 0)' })
      .option('report', { type: 'string', describe: 'write an HTML page to this folder: each image with its prediction and the heat-maps of its two most probable classes' })
      .options(ENGINE_OPTIONS)
      .example('$0 predict --ckpt best.json face1.jpg face2.jpg', '')
      .example('$0 predict --ckpt best.json --report faces-report photos/*.jpg', 'open faces-report/index.html')
      .example('$0 predict --ckpt checkpoint_step_50000.pt --cam-out cams face.jpg', 'a checkpoint of the PyTorch release'),
  handler: async (argv) => {
    const args = argv as unknown as PredictArgs;
    const { path, inferred } = resolveCheckpointPath(args.ckpt);
    const config = args.config ? loadConfig(args.config, args.set) : undefined;
    const backend = await selectBackend(args.backend);
    // One image at a time: a single thread each (a second would only wait).
    const threadsFrom = loadConfig(undefined, ['train.threads=1']);
    const { engine, info, notes } = await openModel({ path, engine: args.engine, device: args.device, config, backend, threadsFrom });
    try {
      const adjustment = resolveAdjustment(path, info, args.adjust, config);
      process.stderr.write(`${engine.description}; checkpoint ${path}${inferred ? ' (latest run)' : ''}\n`);
      if (adjustment.source !== 'none') process.stderr.write(`${describeAdjustment(adjustment)}\n`);
      for (const note of notes) process.stderr.write(`note: ${note}\n`);
      const results = await predictImages(args, engine, info, adjustment);
      if (args.json) process.stdout.write(JSON.stringify(results) + '\n');
      if (args.camOut && !args.json) process.stdout.write(`heat-maps written to ${args.camOut}\n`);
      if (args.report) await writeReport(args, engine, info, results, [`checkpoint ${path}; ${engine.description}`, describeAdjustment(adjustment)]);
    } finally {
      await engine.close();
    }
  },
};

/** The predictions as a page, with the heat-maps of each image's two most probable classes. */
async function writeReport(args: PredictArgs, engine: InferenceEngine, info: ModelInfo, results: Prediction[], about: string[]): Promise<void> {
  const predicted = results.map((r) => ({ file: r.image, probs: r.probs, pred: info.classes.indexOf(r.label) }));
  const written = await writePredictReport(engine, info, predicted, about, args.report!);
  (args.json ? process.stderr : process.stdout).write(`report: ${join(args.report!, 'index.html')} (${written.images} images, ${(written.bytes / 1e6).toFixed(1)} MB)\n`);
}

async function predictImages(args: PredictArgs, engine: InferenceEngine, info: ModelInfo, adjustment: Adjustment): Promise<Prediction[]> {
  const { imageSize, mean, std, interpolation } = info.preprocessing;
  const normalize = createNormalizer(mean, std);
  const { grid } = info;
  const k = info.classes.length;
  const offset = adjustment.tau > 0 ? adjustment.logPrior!.map((lp) => -adjustment.tau * lp) : null;
  if (args.camOut) mkdirSync(args.camOut, { recursive: true });
  const results: Prediction[] = [];
  const usedNames = new Set<string>();
  for (const image of args.images) {
    const rgb = await decodeImage(image, imageSize, interpolation);
    const out = await engine.run(normalize(rgb), 1, true);
    const logits = out.logits;
    const cams = out.cams!;
    // Post-hoc adjustment moves the probabilities and the label; the logits stay the model's.
    const probs = softmaxRows(offset ? logits.map((v, c) => v + offset[c]!) : logits, k);
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[c]! > probs[best]!) best = c;
    const result: Prediction = { image, logits: Array.from(logits), probs: Array.from(probs), label: info.classes[best]!, ...(offset ? { adjust: adjustment.tau } : {}) };
    if (args.cams) {
      result.cams = Array.from({ length: k }, (_, c) =>
        Array.from({ length: grid }, (_, r) => Array.from(cams.subarray(c * grid * grid + r * grid, c * grid * grid + (r + 1) * grid))),
      );
    }
    if (args.camOut) await camGridPng(join(args.camOut, camFileName(image, usedNames)), await decodeImage(image, 224, 'bicubic'), cams, info.classes, probs);
    results.push(result);
    if (!args.json) {
      const ranked = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]!);
      const others = ranked.slice(1, 3).map((c) => `${info.classes[c]} ${(100 * probs[c]!).toFixed(1)}%`).join(', ');
      process.stdout.write(`${image}: ${result.label} ${(100 * probs[best]!).toFixed(1)}% (${others})\n`);
    }
  }
  return results;
}
