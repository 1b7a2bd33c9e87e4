// `mek eval --ckpt F [--config F] [--set k=v] [--data ROOT] [--split train|val|test] [--out DIR]
//  [--json] [--tta flip] [--adjust TAU] [--sweep-adjust]`
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../backend.ts';
import { loadConfig, loadSavedConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { Sample } from '../data/labels.ts';
import { PreparePool } from '../data/pool.ts';
import { loadSplitAsTrained, type SplitChoice } from '../data/splits.ts';
import { adjustedPredictions, adjustLogits, bestTau, sweepAdjustment, type SweepPoint } from '../eval/adjust.ts';
import { evaluate, evaluationLoader, type Evaluation } from '../eval/evaluate.ts';
import { computeMetrics, type Metrics } from '../eval/metrics.ts';
import { writeEvalReport, type ReportContext } from '../report/eval-report.ts';
import { adjustSweepPng } from '../eval/plots/adjust-sweep.ts';
import { confusionPng } from '../eval/plots/confusion.ts';
import { perClassBarsPng } from '../eval/plots/per-class-bars.ts';
import { percent, reportJson, reportText } from '../eval/report.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import type { InferenceEngine, ModelInfo } from '../infer/engine.ts';
import { openModel } from '../infer/select.ts';
import { describeAdjustment, resolveAdjustment, type Adjustment } from './adjustment.ts';
import { resolveCheckpointPath } from './ckpt-path.ts';
import { UsageError } from '../errors.ts';
import { ENGINE_OPTIONS, type EngineArgs } from './engine-options.ts';
import type { GlobalOptions, MekCommand } from './program.ts';

interface EvalArgs extends GlobalOptions, EngineArgs {
  ckpt: string;
  config?: string;
  set: string[];
  data?: string;
  split: SplitChoice;
  out?: string;
  json: boolean;
  tta: 'none' | 'flip';
  adjust?: number;
  sweepAdjust: boolean;
  report?: string;
  reportPerCell: number;
  reportHardest: number;
}

const SPLIT_NAMES: Record<SplitChoice, string> = { train: 'training', val: 'validation', test: 'test' };

/** --set and --data as config overrides. */
function evalSets(args: EvalArgs): string[] {
  const sets = [...args.set];
  if (!args.data) return sets;
  sets.push(`data.root=${args.data}`);
  // A root with its own label file uses it; otherwise the config's (e.g. the shipped RAF-DB one) stays.
  const own = join(args.data, 'list_patition_label.txt');
  if (existsSync(own)) sets.push(`data.label_file=${own}`);
  return sets;
}

/** "step 400, picked on the validation split" for the first line. */
function describeCheckpoint(model: ModelInfo): string {
  const picked = model.selection
    ? `, picked on the ${SPLIT_NAMES[model.selection.split]} split by ${model.selection.metric}${model.selection.split === 'test' ? ' (optimistic)' : ''}`
    : '';
  return `step ${model.step}${picked}`;
}

export const evalCommand: MekCommand = {
  command: 'eval',
  describe: 'Evaluate a checkpoint: overall, mean-class and per-class accuracy, confusion matrix',
  builder: (y) =>
    y
      .option('ckpt', { type: 'string', demandOption: true, describe: 'checkpoint: our .json (a bare best.json / last.json means the latest run\'s), a PyTorch .pt/.pth or .safetensors' })
      .option('config', { type: 'string', describe: 'take the data settings (and, for a PyTorch file, the architecture and class names) from this config' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a config key (data.*, eval.batch_size)' })
      .option('data', { type: 'string', describe: 'dataset root in RAF-DB layout: sets data.root, and data.label_file when ROOT/list_patition_label.txt exists' })
      .option('split', { choices: ['train', 'val', 'test'] as const, default: 'test' as const, describe: 'val: the validation hold-out of the training split (data.val_fraction); train: the rest' })
      .option('out', { type: 'string', describe: 'folder for confusion.png, per_class.png, report.json (and adjust.png with --sweep-adjust)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
      .option('tta', { choices: ['none', 'flip'] as const, default: 'none' as const, describe: 'flip: average with the mirrored image' })
      .option('adjust', { type: 'number', describe: 'post-hoc adjustment tau: predict argmax(logits - tau log prior) (default: the tau chosen on the validation split after training, if any, else 0)' })
      .option('sweep-adjust', { type: 'boolean', default: false, describe: 'also evaluate tau = 0, 0.25, ..., 2 and print overall and mean-class accuracy for each (plot: adjust.png in --out)' })
      .option('report', { type: 'string', describe: 'write an HTML report to this folder: headline, confusion matrix with the images of each cell, heat-maps, hardest images, training curves' })
      .option('report-per-cell', { type: 'number', default: 8, describe: 'most images the report shows per confusion cell (most confident first)' })
      .option('report-hardest', { type: 'number', default: 8, describe: 'hardest images the report shows per class' })
      .options(ENGINE_OPTIONS)
      .example('$0 eval --ckpt best.json', 'the latest run\'s best checkpoint on its test split')
      .example('$0 eval --ckpt best.json --report report', 'open report/index.html to see which faces fail and where the model looked')
      .example('$0 eval --ckpt best.json --split val --sweep-adjust --out report', 'the accuracy / mean-class trade-off on the validation split'),
  handler: async (argv) => {
    const args = argv as unknown as EvalArgs;
    const { path, inferred } = resolveCheckpointPath(args.ckpt);
    const sets = evalSets(args);
    const explicit = args.config ? loadConfig(args.config, sets) : undefined;
    const backend = await selectBackend(args.backend);
    // The threads are decided before the model opens (ONNX Runtime sizes its pool then).
    const early = explicit ?? loadConfig(undefined, sets);
    const { engine, info, notes } = await openModel({ path, engine: args.engine, device: args.device, config: explicit, backend, threadsFrom: early });
    try {
      // The data settings: --config, else the checkpoint's own config, else the defaults.
      const config: Config = explicit ?? (info.savedConfig ? loadSavedConfig(info.savedConfig, sets) : early);
      if (config.data.classes.length !== info.classes.length) {
        throw new UsageError(`${path}: the checkpoint has ${info.classes.length} classes, the data config ${config.data.classes.length}`);
      }
      checkReportCounts(args);
      const adjustment = resolveAdjustment(path, info, args.adjust, explicit, args.sweepAdjust);
      process.stderr.write(`${engine.description}; checkpoint ${path}${inferred ? ' (latest run)' : ''}, ${describeCheckpoint(info)}\n`);
      for (const note of notes) process.stderr.write(`note: ${note}\n`);
      const split = loadSplitAsTrained(config, args.split, { checkImages: config.data.on_bad_image === 'error' });
      await evaluateSplit(args, engine, path, info, config, split.samples, adjustment);
    } finally {
      await engine.close();
    }
  },
};

async function evaluateSplit(
  args: EvalArgs,
  engine: InferenceEngine,
  path: string,
  info: ModelInfo,
  config: Config,
  samples: Sample[],
  adjustment: Adjustment,
): Promise<void> {
  const { classes, preprocessing } = info;
  const pool = new PreparePool(config.data.workers);
  try {
    const loader = evaluationLoader(config, samples, preprocessing, pool);
    const run = await evaluate(engine, loader, { numClasses: classes.length, flipTta: args.tta === 'flip' });
    const skipped = loader.skippedImages;
    if (skipped.length > 0) process.stderr.write(`skipped ${skipped.length} unreadable images (data.on_bad_image: skip), e.g. ${skipped.slice(0, 3).join(', ')}\n`);
    const metrics = adjustment.tau > 0 ? computeMetrics(run.labels, adjustedPredictions(run.logits, adjustment.logPrior!, adjustment.tau), classes.length) : run.metrics;
    const sweep = args.sweepAdjust ? sweepAdjustment(run.logits, run.labels, adjustment.logPrior!) : null;
    const json = {
      checkpoint: path,
      step: info.step,
      selection: info.selection ?? null,
      split: args.split,
      tta: args.tta,
      engine: engine.name,
      adjust: { tau: adjustment.tau, source: adjustment.source, prior: adjustment.prior?.probabilities ?? null },
      ...reportJson(metrics, classes),
      ...(sweep ? { sweep: sweep.map((p) => ({ tau: p.tau, ...reportJson(p.metrics, classes) })), sweepBestTau: bestTau(sweep).tau } : {}),
    };
    if (args.json) process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    else {
      process.stdout.write(`${describeAdjustment(adjustment)}\n${reportText(metrics, classes).replace(/\n?$/, '\n')}`);
      if (sweep) process.stdout.write('\n' + sweepText(sweep, args.split));
    }
    // The report first: --out may name the same folder, which must not hold other files yet.
    if (args.report) {
      const kept = skipped.length > 0 ? samples.filter((s) => !skipped.includes(s.path)) : samples;
      await writeReport(args, { engine, info, config, pool, checkpoint: path }, kept, run, metrics, adjustment, sweep);
    }
    if (args.out) {
      mkdirSync(args.out, { recursive: true });
      await confusionPng(join(args.out, 'confusion.png'), metrics, classes);
      await perClassBarsPng(join(args.out, 'per_class.png'), metrics, classes);
      if (sweep) await adjustSweepPng(join(args.out, 'adjust.png'), sweep, { split: SPLIT_NAMES[args.split], chosen: adjustment.source === 'checkpoint' ? adjustment.tau : undefined });
      await writeFileAtomic(join(args.out, 'report.json'), JSON.stringify(json, null, 2) + '\n');
      if (!args.json) process.stdout.write(`wrote confusion.png, per_class.png, ${sweep ? 'adjust.png, ' : ''}report.json to ${args.out}\n`);
    }
  } finally {
    await pool.close();
  }
}

function checkReportCounts(args: EvalArgs): void {
  for (const [flag, value] of [['--report-per-cell', args.reportPerCell], ['--report-hardest', args.reportHardest]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new UsageError(`${flag} ${value}: give a whole number of images, 0 or more`);
  }
}

/** The HTML report of this evaluation: the same numbers, the images behind them. */
async function writeReport(args: EvalArgs, ctx: ReportContext, samples: Sample[], run: Evaluation, metrics: Metrics, adjustment: Adjustment, sweep: SweepPoint[] | null): Promise<void> {
  const started = Date.now();
  const adjusted = adjustment.tau > 0;
  const logits = adjusted ? adjustLogits(run.logits, adjustment.logPrior!, adjustment.tau) : run.logits;
  const points = sweep ?? (adjustment.logPrior ? sweepAdjustment(run.logits, run.labels, adjustment.logPrior) : null);
  const about = [
    `checkpoint ${ctx.checkpoint}, ${describeCheckpoint(ctx.info)}`,
    `${SPLIT_NAMES[args.split]} split: ${run.labels.length} images${args.tta === 'flip' ? ', flip test-time augmentation' : ''}; ${ctx.engine.description}`,
    describeAdjustment(adjustment),
  ];
  const split = {
    samples,
    labels: run.labels,
    predictions: adjusted ? adjustedPredictions(run.logits, adjustment.logPrior!, adjustment.tau) : run.predictions,
    logits,
    metrics,
    about,
    ...(points ? { sweep: { points, split: SPLIT_NAMES[args.split], chosen: adjustment.source === 'checkpoint' ? adjustment.tau : undefined } } : {}),
  };
  const written = await writeEvalReport(ctx, split, { dir: args.report!, perCell: args.reportPerCell, hardest: args.reportHardest });
  const say = args.json ? process.stderr : process.stdout;
  say.write(`report: ${join(args.report!, 'index.html')} (${written.images} images drawn, ${(written.bytes / 1e6).toFixed(1)} MB, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

/** The sweep as a table, the tau of the best mean-class accuracy, and what choosing it on this split means. */
export function sweepText(points: readonly SweepPoint[], split: SplitChoice): string {
  const lines = [`post-hoc adjustment on the ${SPLIT_NAMES[split]} split: predictions argmax(logits - tau log prior)`, '   tau   overall  mean-class'];
  for (const p of points) lines.push(`${p.tau.toFixed(2).padStart(6)}  ${percent(p.metrics.overall).padStart(8)}  ${percent(p.metrics.meanClass).padStart(10)}`);
  const best = bestTau(points);
  lines.push(`best mean-class: tau ${best.tau} (${percent(best.metrics.meanClass)}, overall ${percent(best.metrics.overall)})`);
  if (split === 'test') lines.push('a tau picked on the test split is optimistic: pick it with --split val and apply it with --adjust');
  return lines.join('\n') + '\n';
}
