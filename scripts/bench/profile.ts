// Where a train step's time goes, per kernel: runs one full MEK step (2B forward, both
// losses, backward, clipping, AdamW) under tf.profile and prints the kernels by total time,
// grouped by kernel name and input shapes.
//   node bin/run-ts.js scripts/bench/profile.ts --backend wasm --variant swin_demo --batch 32
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendChoice } from '../../src/backend.ts';
import { balanceWeights } from '../../src/mek/balance.ts';
import { REFERENCE_LOSS } from '../../src/mek/objective.ts';
import { Model } from '../../src/model/model.ts';
import { VARIANTS, type VariantName } from '../../src/model/variants.ts';
import { Rng } from '../../src/random.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { trainStep } from '../../src/train/step.ts';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    variant: { type: 'string', default: 'swin_demo' },
    batch: { type: 'string', default: '32' },
    'micro-batch': { type: 'string', default: '0' },
    recompute: { type: 'boolean', default: false },
    top: { type: 'string', default: '30' },
    'by-shape': { type: 'boolean', default: false },
  },
});
const variant = VARIANTS[args.variant as VariantName];
const batch = Number(args.batch);
await selectBackend(args.backend as BackendChoice);
const model = Model.init(variant, new Rng(2048));
const ctx = {
  model,
  optimizer: new AdamW(model.weights.trainable(), { weightDecay: 0.05 }),
  loss: { ...REFERENCE_LOSS, classWeights: balanceWeights([1290, 281, 717, 4772, 1982, 705, 2524]) },
  clipNorm: 5,
  rng: new Rng(1),
  training: true,
  microBatch: Number(args['micro-batch']),
  recompute: args.recompute,
};
const images = tf.randomUniform([batch, variant.imgSize, variant.imgSize, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % variant.numClasses), 'int32');
const step = async () => {
  const r = await trainStep(ctx, { images, labels }, 1e-4);
  await r.total.data();
  tf.dispose([r.total, r.cls, r.rac!, r.gradNorm]);
};
await step(); // warm-up
const start = performance.now();
const profile = await tf.profile(step);
const wall = performance.now() - start;
const groups = new Map<string, { ms: number; calls: number }>();
const SCOPES = /^(unnamed scope|forward|.*__op)$/;
for (const k of profile.kernels) {
  if (SCOPES.test(k.name)) continue;
  const key = args['by-shape'] ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
  const g = groups.get(key) ?? { ms: 0, calls: 0 };
  g.ms += Number(k.kernelTimeMs) || 0;
  g.calls++;
  groups.set(key, g);
}
const total = [...groups.values()].reduce((a, g) => a + g.ms, 0);
console.log(`${args.variant} batch ${batch}: step ${(wall / 1000).toFixed(2)} s wall under the profiler, kernels ${(total / 1000).toFixed(2)} s in ${profile.kernels.length} calls`);
for (const [key, g] of [...groups].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(args.top))) {
  console.log(`${(g.ms / 1000).toFixed(3).padStart(8)} s ${((100 * g.ms) / total).toFixed(1).padStart(5)}% ${String(g.calls).padStart(6)}x  ${key}`);
}

// Matrix products by kind, with their achieved rate: 2-D (linear layers) against batched
// (window attention), the split that decides where wasm's time goes.
const kinds = new Map<string, { ms: number; flops: number }>();
for (const k of profile.kernels) {
  if (k.name !== 'BatchMatMul') continue;
  const [a, b] = k.inputShapes as number[][];
  const out = k.outputShapes[0]!;
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const [m, n] = out.slice(-2) as [number, number];
  const batch = size(out.slice(0, -2));
  const kk = size(a!.slice(-2)) / m;
  const batched = batch > 1;
  // A transposed operand shows in its shape unless the matrix is square.
  const transposed = a!.at(-1) !== kk || b!.at(-2) !== kk ? ' (transposed)' : '';
  const key = `${batched ? 'batched' : '2-D'}${transposed}`;
  const g = kinds.get(key) ?? { ms: 0, flops: 0 };
  g.ms += Number(k.kernelTimeMs) || 0;
  g.flops += 2 * batch * m * kk * n;
  kinds.set(key, g);
}
for (const [key, g] of kinds) console.log(`matMul ${key}: ${(g.ms / 1000).toFixed(2)} s, ${(g.flops / 1e9).toFixed(1)} GFLOP, ${(g.flops / 1e6 / g.ms).toFixed(1)} GFLOP/s`);
