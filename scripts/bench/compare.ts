// mek against PyTorch on this machine: runs `mek bench --json` and torch_bench.py --json on the
// same models and batch sizes, one after the other (never concurrently), and prints a table
// with the ratio mek / PyTorch (above 1: mek is faster).
//   npm run bench:compare -- [--models demo,swin_t] [--steps 3] [--backend wasm] [--threads 2]
// --threads sets both sides: mek's train.threads and torch.set_num_threads.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'demo,swin_t' },
    steps: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'auto' },
    threads: { type: 'string', default: '2' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const models = args.models.split(',');

function run(command: string, argv: string[]): any {
  process.stderr.write(`$ ${command} ${argv.join(' ')}\n`);
  const r = spawnSync(command, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${command} exited with ${r.status}`);
  return JSON.parse(r.stdout);
}

const configs: Record<string, string> = { demo: 'configs/demo.yaml', swin_t: 'configs/rafdb.yaml' };
const mekModels = models.map((m) => {
  const batch = m === 'demo' ? '32' : '8';
  const out = run(process.execPath, ['bin/mek.js', 'bench', '--json', '--no-data', '--backend', args.backend, '--config', configs[m]!, '--batch', batch, '--infer-batch', m === 'demo' ? '64' : '32', '--steps', args.steps, '--set', `train.threads=${args.threads}`]);
  return { ...out.models[0], name: m, backend: out.backend, matmul: out.matmulGflops };
});
const torch = run(args.python, ['scripts/bench/torch_bench.py', '--json', '--models', models.join(','), '--steps', args.steps, '--threads', args.threads]);

const rows: string[] = [
  `| model | measure | mek tfjs (${mekModels[0]?.backend}, ${mekModels[0]?.threads} threads) | mek ONNX Runtime (${mekModels[0]?.threads} threads) | PyTorch ${torch.torch} (${torch.threads} threads) | mek tfjs / PyTorch | mek ONNX / PyTorch | mek ONNX / mek tfjs |`,
  '|---|---|---|---|---|---|---|---|',
];
for (const m of mekModels) {
  const t = torch.models.find((x: any) => x.name === m.name);
  const n = (v: number | undefined, unit: string) => (v === undefined ? '-' : `${v.toFixed(2)} ${unit}`);
  const x = (a: number | undefined, b: number) => (a === undefined ? '-' : `**${(a / b).toFixed(2)}x**`);
  const train = m.train.samplesPerSecond;
  rows.push(`| ${m.name} | train step, batch ${m.batch} | ${n(train, 'samples/s')} | - | ${n(t.train.samplesPerSecond, 'samples/s')} | ${x(train, t.train.samplesPerSecond)} | - | - |`);
  const tfjs = m.inference.imagesPerSecond;
  const onnx = m.onnxInference?.imagesPerSecond;
  const pt = t.inference.imagesPerSecond;
  rows.push(`| ${m.name} | inference, batch ${m.inferBatch} | ${n(tfjs, 'images/s')} | ${n(onnx, 'images/s')} | ${n(pt, 'images/s')} | ${x(tfjs, pt)} | ${x(onnx, pt)} | ${x(onnx, tfjs)} |`);
  rows.push(`| ${m.name} | peak RSS | ${m.peakRssMiB.toFixed(0)} MiB | | ${t.peakRssMiB.toFixed(0)} MiB | | | |`);
}
rows.push(`| - | matMul 1024^3 | ${mekModels[0]?.matmul.toFixed(1)} GFLOP/s | | ${torch.matmulGflops.toFixed(1)} GFLOP/s | ${(mekModels[0]?.matmul / torch.matmulGflops).toFixed(2)}x | | |`);
console.log(rows.join('\n'));
