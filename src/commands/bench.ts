// `mek bench [--config F] [--backend B] [--batch N] [--steps N] [--json]`: how fast this
// machine trains and predicts: the full MEK train step (samples/s), inference (images/s), the
// input pipeline (images/s), peak RSS and tfjs memory, for the demo model and the paper's
// Swin-T (or the config's model), with one large matMul as the backend's ceiling; inference also
// through the ONNX export on ONNX Runtime (the engine eval and predict use).
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendInfo } from '../backend.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { variantFromConfig } from '../config/variant.ts';
import { benchPipeline, type PipelineBenchResult } from '../bench/pipeline.ts';
import { benchMatMul, benchOnnxInference, benchSteps, type OnnxBenchResult, type StepBenchResult } from '../bench/step.ts';
import { countParameters } from '../model/params.ts';
import { memoryPlan } from '../train/memory.ts';
import type { GlobalOptions, MekCommand } from './program.ts';

interface BenchArgs extends GlobalOptions {
  config?: string;
  set: string[];
  batch?: number;
  inferBatch?: number;
  steps: number;
  warmup: number;
  data: boolean;
  json: boolean;
}

/** The two models a bare `mek bench` measures, with their default train batch. */
const DEFAULT_MODELS: { name: string; config: string; batch: number }[] = [
  { name: 'demo', config: 'configs/demo.yaml', batch: 32 },
  // The paper trains at 32; 8 keeps a wasm step under a minute and samples/s comparable.
  { name: 'swin_t', config: 'configs/rafdb.yaml', batch: 8 },
];

export interface ModelBench extends StepBenchResult {
  name: string;
  parameters: number;
  batch: number;
  microBatch: number;
  recompute: boolean;
  threads: number;
  inferBatch: number;
  /** The same inference batch through the ONNX export on ONNX Runtime (null where it cannot load). */
  onnxInference: OnnxBenchResult | null;
  pipeline?: PipelineBenchResult;
  peakRssMiB: number;
}

export const benchCommand: MekCommand = {
  command: 'bench',
  describe: 'Measure train-step samples/s, inference images/s, data-pipeline images/s and memory on this machine',
  builder: (y) =>
    y
      .option('config', { type: 'string', describe: 'measure this config\'s model and batch (default: the demo model and the paper\'s Swin-T)' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a key of --config' })
      .option('batch', { type: 'number', describe: 'train batch (default: the config\'s; 32 demo, 8 Swin-T without --config)' })
      .option('infer-batch', { type: 'number', describe: 'inference batch (default: 64 demo, 32 Swin-T, else the eval batch)' })
      .option('steps', { type: 'number', default: 3, describe: 'timed train steps (200 shows whether memory stays flat)' })
      .option('warmup', { type: 'number', default: 1, describe: 'untimed train steps first' })
      .option('data', { type: 'boolean', default: true, describe: 'also time the input pipeline (--no-data skips it)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
      .example('$0 bench', 'the demo model and the paper\'s Swin-T on the best backend')
      .example('$0 bench --config configs/demo.yaml --steps 200 --no-data', 'is memory flat over 200 steps?'),
  handler: async (argv) => {
    const args = argv as unknown as BenchArgs;
    const backend = await selectBackend(args.backend);
    const say = (line: string) => (args.json ? process.stderr : process.stdout).write(line + '\n');
    say(`${backend.description}; ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'})`);
    const models = args.config
      ? [{ name: args.config, config: loadConfig(args.config, args.set), batch: args.batch }]
      : DEFAULT_MODELS.map((m) => ({ name: m.name, config: loadConfig(m.config, args.set), batch: args.batch ?? m.batch }));
    const matmulGflops = await benchMatMul();
    say(`matMul 1024x1024x1024: ${matmulGflops.toFixed(1)} GFLOP/s`);
    const results: ModelBench[] = [];
    for (const m of models) {
      const result = await benchModel(m.name, m.config, m.batch, args, backend, say);
      results.push(result);
      say(summaryLine(result));
    }
    if (args.json) {
      process.stdout.write(JSON.stringify({ backend: backend.name, cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, matmulGflops, models: results }, null, 2) + '\n');
    }
  },
};

async function benchModel(name: string, config: Config, batchArg: number | undefined, args: BenchArgs, backend: BackendInfo, say: (l: string) => void): Promise<ModelBench> {
  const batch = batchArg ?? config.train.batch_size;
  const sized: Config = { ...config, train: { ...config.train, batch_size: batch } };
  const variant = variantFromConfig(sized);
  const { threads, recompute, microBatch } = memoryPlan(sized, backend, variant);
  const inferBatch = args.inferBatch ?? (name === 'demo' ? 64 : name === 'swin_t' ? 32 : config.eval.batch_size);
  say(`${name}: ${countParameters(variant).total.toLocaleString('en-US')} parameters, ${variant.imgSize} px; train batch ${batch}${microBatch ? ` in micro-batches of ${microBatch}` : ''}${recompute ? ', blocks recomputed' : ''}; inference batch ${inferBatch}; ${threads} thread${threads > 1 ? 's' : ''}`);
  const steps = await benchSteps(
    { variant, batch, microBatch, recompute, steps: args.steps, warmup: args.warmup, inferBatch, inferChunk: 16, threads, backend: backend.name },
    (i, s) => {
      if (args.steps <= 10 || (i + 1) % 10 === 0) say(`  step ${i + 1}/${args.steps}: ${s.toFixed(2)} s; ${tf.memory().numTensors} tensors`);
    },
  );
  const onnxInference = await benchOnnxInference(variant, inferBatch, threads);
  const pipeline = args.data ? await benchPipeline(sized, variant.imgSize) : undefined;
  return {
    name,
    parameters: countParameters(variant).total,
    batch,
    microBatch,
    recompute,
    threads,
    inferBatch,
    ...steps,
    onnxInference,
    pipeline,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

function summaryLine(r: ModelBench): string {
  const parts = [
    `train ${r.train.samplesPerSecond.toFixed(2)} samples/s`,
    `inference ${r.inference.imagesPerSecond.toFixed(2)} images/s`,
    r.onnxInference ? `ONNX Runtime inference ${r.onnxInference.imagesPerSecond.toFixed(2)} images/s` : 'ONNX Runtime: unavailable',
    r.pipeline ? `pipeline ${r.pipeline.imagesPerSecond.toFixed(0)} images/s (${r.pipeline.workers} workers)` : '',
    `tensors ${r.tensors.afterWarmup} -> ${r.tensors.afterSteps}`,
    `tf ${(r.tfBytes / 2 ** 20).toFixed(0)} MiB`,
    `peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
  ];
  return `${r.name}: ${parts.filter(Boolean).join('; ')}`;
}
