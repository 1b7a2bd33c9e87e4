// Times the core on one backend: one full MEK train step (2B forward, both losses, backward,
// clipping, AdamW) and one inference batch, for a named model variant.
//   node bin/run-ts.js scripts/bench/core.ts --backend wasm --variant swin_t --batch 8 --micro-batch 2 --checkpoint --infer-batch 32
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendChoice } from '../../src/backend.ts';
import { balanceWeights } from '../../src/mek/balance.ts';
import { REFERENCE_LOSS } from '../../src/mek/objective.ts';
import { ferInference } from '../../src/model/fer.ts';
import { ParamStore } from '../../src/model/params.ts';
import { SwinConstants } from '../../src/model/swin.ts';
import { VARIANTS, type VariantName } from '../../src/model/variants.ts';
import { Rng } from '../../src/random.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { trainStep } from '../../src/train/step.ts';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    variant: { type: 'string', default: 'swin_t' },
    batch: { type: 'string', default: '8' },
    'infer-batch': { type: 'string', default: '32' },
    steps: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1' },
    // Images per forward/backward chunk; the full Swin-T needs 1 on wasm (4 GiB heap).
    'micro-batch': { type: 'string', default: '0' },
    // Recompute blocks in the backward pass: bounds activation memory (see model/swin.ts).
    checkpoint: { type: 'boolean', default: false },
    // Images per inference forward; the batch is processed in such chunks.
    'infer-chunk': { type: 'string', default: '8' },
  },
});

const variantName = args.variant as VariantName;
const variant = VARIANTS[variantName];
if (!variant) throw new Error(`unknown variant ${args.variant}; known: ${Object.keys(VARIANTS).join(', ')}`);
const batchSize = Number(args.batch);
const inferBatch = Number(args['infer-batch']);
const steps = Number(args.steps);
const warmup = Number(args.warmup);

const info = await selectBackend(args.backend as BackendChoice);
console.log(
  `${info.description}; variant ${variantName}; train batch ${batchSize} (x2 with flips, micro-batch ${args['micro-batch']}, checkpoint ${args.checkpoint}); inference batch ${inferBatch} in chunks of ${args['infer-chunk']}`,
);

const store = ParamStore.init(variant, new Rng(2048));
const consts = new SwinConstants(variant);
const ctx = {
  store,
  consts,
  optimizer: new AdamW(store.trainable(), { weightDecay: 0.05 }),
  loss: { ...REFERENCE_LOSS, classWeights: balanceWeights([1290, 281, 717, 4772, 1982, 705, 2524]) },
  clipNorm: 5,
  rng: new Rng(1),
  training: true,
  microBatch: Number(args['micro-batch']),
  checkpoint: args.checkpoint,
};
const images = tf.randomUniform([batchSize, variant.imgSize, variant.imgSize, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
const labels = tf.tensor1d(Array.from({ length: batchSize }, (_, i) => i % variant.numClasses), 'int32');

async function timeTrainStep(): Promise<number> {
  const start = performance.now();
  const r = trainStep(ctx, { images, labels }, 1e-4);
  await r.total.data(); // forces the step to finish on asynchronous backends
  tf.dispose([r.total, r.cls, r.rac!, r.gradNorm]);
  return (performance.now() - start) / 1000;
}

async function timeInference(): Promise<number> {
  const x = tf.randomUniform([inferBatch, variant.imgSize, variant.imgSize, 3], -1, 1, 'float32', 2);
  const start = performance.now();
  const { logits: out, cams } = ferInference(store.params, x, consts, Number(args['infer-chunk']));
  cams.dispose();
  await out.data();
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([x, out]);
  return seconds;
}

for (let i = 0; i < warmup; i++) await timeTrainStep();
const trainTimes: number[] = [];
for (let i = 0; i < steps; i++) trainTimes.push(await timeTrainStep());
const trainMean = trainTimes.reduce((a, b) => a + b, 0) / trainTimes.length;
const inferTime = await timeInference();
const rssMiB = process.memoryUsage().rss / 2 ** 20;

console.log(
  `train step: ${trainMean.toFixed(2)} s (${(batchSize / trainMean).toFixed(2)} samples/s; ${trainTimes.map((t) => t.toFixed(2)).join(', ')} s)`,
);
console.log(`inference batch ${inferBatch}: ${inferTime.toFixed(2)} s (${(inferBatch / inferTime).toFixed(2)} images/s)`);
console.log(`tf.memory: ${tf.memory().numTensors} tensors, ${(tf.memory().numBytes / 2 ** 20).toFixed(0)} MiB; peak-ish RSS ${rssMiB.toFixed(0)} MiB`);
