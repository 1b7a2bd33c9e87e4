// End to end on the cpu backend: a small synthetic set, the tiny model trained a few steps,
// evaluation, best/last checkpoints, and a resumed run that ends bit-identical to an
// uninterrupted one.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendInfo } from '../../src/backend.ts';
import { loadConfig } from '../../src/config/load.ts';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { readCheckpoint } from '../../src/io/checkpoint/read.ts';
import { lineReporter } from '../../src/train/progress.ts';
import { runTraining } from '../../src/train/run.ts';
import { newRunDir } from '../../src/train/run-dir.ts';

const root = mkdtempSync(join(tmpdir(), 'mek-run-'));
const data = join(root, 'faces');
let backend: BackendInfo;

function config(name: string, extra: string[] = []) {
  return loadConfig(undefined, [
    'model.variant=swin_tiny_test',
    `data.root=${data}`,
    `data.label_file=${join(data, 'list_patition_label.txt')}`,
    'data.workers=0',
    'train.steps=6',
    'train.batch_size=4',
    'train.eval_every=3',
    'train.log_every=1',
    'optim.lr=1e-3',
    'optim.lr_batch=0',
    'schedule.warmup_steps=2',
    'eval.batch_size=32',
    `train.out_dir=${join(root, 'runs')}`,
    `train.name=${name}`,
    ...extra,
  ]);
}

const quiet = lineReporter(() => {});

beforeAll(async () => {
  backend = await selectBackend('cpu');
  await synthesizeDataset({ out: data, seed: 3, size: 100, imageSize: 48 });
}, 120_000);

describe('training run', () => {
  it('writes the run folder: config, metrics, best and last checkpoints, plots', async () => {
    const wasm = await selectBackend('wasm');
    // Two threads: the batch is split between this thread and a replica, as on any 2-core machine.
    const summary = await runTraining({ config: config('full', ['train.threads=2', 'train.log_head_projection=true']), backend: wasm, progress: quiet, stopRequested: () => false });
    await selectBackend('cpu');
    expect(summary.step).toBe(6);
    for (const f of ['config.yaml', 'metrics.jsonl', 'best.json', 'last.json', 'curves.png', 'confusion.png', 'summary.json']) {
      expect(existsSync(join(summary.runDir, f)), f).toBe(true);
    }
    const events = readFileSync(join(summary.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.event === 'train').length).toBe(6);
    const evals = events.filter((e) => e.event === 'eval');
    expect(evals.map((e) => e.step)).toEqual([3, 6]);
    for (const e of evals) {
      expect(e.accuracy).toBeGreaterThanOrEqual(0);
      expect(Object.keys(e.per_class)).toHaveLength(7);
      // train.log_head_projection: one non-negative number per class
      expect(e.head_projection).toHaveLength(7);
      for (const v of e.head_projection) expect(v).toBeGreaterThanOrEqual(0);
    }
    const best = await readCheckpoint(join(summary.runDir, 'best.json'));
    expect(best.meta.classes).toHaveLength(7);
    expect(best.meta.preprocessing.imageSize).toBe(56);
  });

  it('an interrupted and resumed run ends with the same weights as an uninterrupted one (cpu)', async () => {
    // Short and small: what matters is that every piece of state (weights, AdamW moments and
    // step, schedule position, data order, augmentation and drop-path draws) carries over.
    const small = ['train.steps=4', 'train.batch_size=2', 'train.eval_every=0'];
    const whole = await runTraining({ config: config('whole', small), backend, progress: quiet, stopRequested: () => false });
    let calls = 0;
    const first = await runTraining({ config: config('parts', small), backend, progress: quiet, stopRequested: () => ++calls > 2 });
    expect(first.interrupted).toBe(true);
    expect(first.step).toBe(2);
    const rest = await runTraining({
      config: config('parts', small),
      resume: first.runDir,
      backend,
      progress: quiet,
      stopRequested: () => false,
    });
    expect(rest.step).toBe(4);
    expect(rest.runDir).toBe(first.runDir);
    const a = await readCheckpoint(join(whole.runDir, 'last.json'));
    const b = await readCheckpoint(join(rest.runDir, 'last.json'));
    for (const [name, values] of a.values) expect(b.values.get(name), name).toEqual(values);
    expect(b.optimizer!.step).toBe(a.optimizer!.step);
    expect(b.meta.training!.loader).toEqual(a.meta.training!.loader);
  });

  it('loss.warm_start_steps: plain cross-entropy first (bit-identical to a CE run), then the configured loss', async () => {
    const small = ['train.steps=3', 'train.batch_size=2', 'train.eval_every=0', 'loss.focal_gamma=2'];
    // All three steps in stage 1: the same weights as a plain cross-entropy run.
    const warm = await runTraining({ config: config('warm-all', [...small, 'loss.warm_start_steps=3']), backend, progress: quiet, stopRequested: () => false });
    const ce = await runTraining({ config: config('plain-ce', [...small, 'loss.rbl=false', 'loss.rac=false', 'loss.focal_gamma=0']), backend, progress: quiet, stopRequested: () => false });
    const a = await readCheckpoint(join(warm.runDir, 'last.json'));
    const b = await readCheckpoint(join(ce.runDir, 'last.json'));
    for (const [name, values] of a.values) expect(b.values.get(name), name).toEqual(values);

    // The switch, with the batch split across two threads (the replica gets the loss with each batch).
    const wasm = await selectBackend('wasm');
    const split = await runTraining({
      config: config('warm-switch', ['train.steps=4', 'train.batch_size=4', 'train.eval_every=0', 'loss.warm_start_steps=2', 'train.threads=2']),
      backend: wasm,
      progress: quiet,
      stopRequested: () => false,
    });
    await selectBackend('cpu');
    const events = readFileSync(join(split.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'train');
    expect(events.map((e) => e.loss_rac === null)).toEqual([true, true, false, false]);
    for (const e of events.slice(2)) expect(e.loss).toBeCloseTo(e.loss_cls + 0.1 * e.loss_rac, 5);
  });

  it('model.init starts from a PyTorch backbone (the release\'s start_0.pt layout) and says what it did', async () => {
    const fixtures = new URL('../fixtures/torch/', import.meta.url).pathname;
    const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8'));
    const micro = [
      'model.img_size=28', 'model.patch_size=2', 'model.embed_dim=8', 'model.depths=[2,2]', 'model.num_heads=[1,2]', 'model.window_size=7',
      'train.steps=1', 'train.batch_size=2', 'train.eval_every=0', 'optim.lr=0', 'schedule.warmup_lr=0', 'schedule.min_lr=0',
    ];
    const lines: string[] = [];
    const summary = await runTraining({
      config: config('init', [...micro, `model.init=${join(fixtures, 'micro_backbone.pt')}`]),
      backend,
      progress: lineReporter((l) => lines.push(l)),
      stopRequested: () => false,
    });
    expect(lines.join('\n')).toMatch(/model\.init: .*micro_backbone\.pt/);
    expect(lines.join('\n')).toMatch(/no FER head in the file \(norm\.weight, norm\.bias, head\.weight, head\.bias\): initialised fresh/);
    // lr 0: the one step leaves the weights as loaded.
    const last = await readCheckpoint(join(summary.runDir, 'last.json'));
    for (const [name, t] of Object.entries<any>(expected.micro.params)) {
      if (!name.startsWith('encoder.')) continue;
      const bytes = Buffer.from(t.b64, 'base64');
      expect(Array.from(last.values.get(name)!), name).toEqual(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)));
    }

    const absent = join(root, 'absent_start_0.pt');
    await expect(runTraining({ config: config('init-missing', [...micro, `model.init=${absent}`]), backend, progress: quiet, stopRequested: () => false })).rejects.toThrow(
      /absent_start_0\.pt: no such file/,
    );
    const optional: string[] = [];
    const fallback = await runTraining({
      config: config('init-optional', [...micro, `model.init=${absent}`, 'model.init_optional=true']),
      backend,
      progress: lineReporter((l) => optional.push(l)),
      stopRequested: () => false,
    });
    expect(fallback.step).toBe(1);
    expect(optional.join('\n')).toMatch(/absent_start_0\.pt not found: starting from random weights/);
  });

  it('a synthetic set written with other settings is rewritten for the config; real data never is', async () => {
    const cfg = (dir: string, name: string) =>
      loadConfig(undefined, [
        'model.variant=swin_tiny_test', `data.root=${dir}`, `data.label_file=${join(dir, 'list_patition_label.txt')}`,
        'data.workers=0', 'data.synth_size=100', 'data.synth_difficulty=0.5', 'train.steps=1', 'train.batch_size=2',
        'train.eval_every=0', `train.out_dir=${join(root, 'runs')}`, `train.name=${name}`,
      ]);
    const demo = join(root, 'stale-demo');
    await synthesizeDataset({ out: demo, seed: cfg(demo, 'x').train.seed, size: 100, imageSize: 100, difficulty: 1 });
    await runTraining({ config: cfg(demo, 'stale'), backend, progress: quiet, stopRequested: () => false });
    expect(JSON.parse(readFileSync(join(demo, 'synth.json'), 'utf8')).difficulty).toBe(0.5);

    // A folder of real data (no synth.json) with a label file: used as it is.
    const real = join(root, 'real');
    mkdirSync(join(real, 'Image', 'aligned'), { recursive: true });
    const labels = readFileSync(join(data, 'list_patition_label.txt'), 'utf8');
    for (const line of labels.trim().split('\n')) {
      const name = line.split(' ')[0]!.replace('.jpg', '_aligned.jpg');
      writeFileSync(join(real, 'Image', 'aligned', name), readFileSync(join(data, 'Image', 'aligned', name)));
    }
    writeFileSync(join(real, 'list_patition_label.txt'), labels);
    await runTraining({ config: cfg(real, 'real'), backend, progress: quiet, stopRequested: () => false });
    expect(existsSync(join(real, 'synth.json'))).toBe(false);
    expect(readFileSync(join(real, 'list_patition_label.txt'), 'utf8')).toBe(labels);
  }, 300_000);

  it('two runs of one name never share a folder, also when they claim it at the same moment', () => {
    const c = config('twin');
    // Back to back, before either has written a file: the race of two `mek train --name twin`.
    const first = newRunDir(c);
    const second = newRunDir(c);
    expect(first).toBe(join(root, 'runs', 'twin'));
    expect(second).toBe(join(root, 'runs', 'twin-2'));
    // An empty folder made beforehand is still taken by the first run that claims it.
    mkdirSync(join(root, 'runs', 'ready'));
    expect(newRunDir(config('ready'))).toBe(join(root, 'runs', 'ready'));
    expect(newRunDir(config('ready'))).toBe(join(root, 'runs', 'ready-2'));
  });

  it('a missing dataset is one line naming the label file and where the images go', async () => {
    const c = config('missing', [`data.label_file=${join(root, 'nope', 'list_patition_label.txt')}`, `data.root=${join(root, 'nope')}`]);
    await expect(runTraining({ config: c, backend, progress: quiet, stopRequested: () => false })).rejects.toThrow(
      /nope\/list_patition_label\.txt: RAF-DB label file not found; put list_patition_label\.txt there and the images under/,
    );
  });

  it('learns a separable task: colour-coded classes reach >= 90% test accuracy in 25 steps', async () => {
    // A control for the whole loop (loader, labels, augmentation, MEK step, evaluation): any
    // misalignment between images and labels, or a step that does not descend, fails here.
    const colours = [[230, 30, 30], [30, 200, 30], [30, 30, 230], [230, 230, 30], [30, 220, 220], [220, 30, 220], [128, 128, 128]];
    const dir = join(root, 'colours');
    mkdirSync(join(dir, 'Image', 'aligned'), { recursive: true });
    const lines: string[] = [];
    let state = 7;
    const noise = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 60 - 30;
    for (const [split, n, width] of [['train', 210, 5], ['test', 70, 4]] as const) {
      for (let i = 1; i <= n; i++) {
        const label = i % 7;
        const px = Buffer.alloc(24 * 24 * 3);
        for (let p = 0; p < 24 * 24; p++) for (let c = 0; c < 3; c++) px[p * 3 + c] = Math.max(0, Math.min(255, colours[label]![c]! + noise()));
        const name = `${split}_${String(i).padStart(width, '0')}`;
        await sharp(px, { raw: { width: 24, height: 24, channels: 3 } }).jpeg().toFile(join(dir, 'Image', 'aligned', `${name}_aligned.jpg`));
        lines.push(`${name}.jpg ${label + 1}`);
      }
    }
    writeFileSync(join(dir, 'list_patition_label.txt'), lines.join('\n') + '\n');
    const wasm = await selectBackend('wasm');
    const c = config('colours', [
      'model.variant=swin_demo',
      `data.root=${dir}`,
      `data.label_file=${join(dir, 'list_patition_label.txt')}`,
      'train.steps=25',
      'train.batch_size=16',
      'train.eval_every=25',
      'train.log_every=25',
      'schedule.warmup_steps=5',
    ]);
    const summary = await runTraining({ config: c, backend: wasm, progress: quiet, stopRequested: () => false });
    await selectBackend('cpu');
    expect(summary.best!.metrics['accuracy']).toBeGreaterThanOrEqual(0.9);
  });

  it('a NaN loss stops the run and names the last good checkpoint', async () => {
    const c = config('nan', ['optim.lr=1e30', 'optim.clip_norm=0', 'train.eval_every=0', 'train.steps=3', 'train.batch_size=2']);
    const wasm = await selectBackend('wasm');
    await expect(runTraining({ config: c, backend: wasm, progress: quiet, stopRequested: () => false })).rejects.toThrow(
      /loss is (NaN|Infinity|-Infinity) at step \d+ .*last good checkpoint is .*last\.json/,
    );
  });
});
