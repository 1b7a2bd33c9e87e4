// mek pretrain end to end, in process, on a micro Swin: the run folder, rotation accuracy rising above chance on
// an easy set, a resumed run identical to an uninterrupted one (cpu), and the handoff into
// mek train through model.init: the backbone arrives unchanged, the expression head is fresh.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendInfo } from '../../src/backend.ts';
import { loadConfig } from '../../src/config/load.ts';
import { variantFromConfig } from '../../src/config/variant.ts';
import { CheckpointError } from '../../src/errors.ts';
import { readCheckpoint } from '../../src/io/checkpoint/read.ts';
import { loadModel } from '../../src/io/import/load-model.ts';
import { initialValues } from '../../src/model/params.ts';
import { runPretraining } from '../../src/pretrain/run.ts';
import { Rng } from '../../src/random.ts';
import { lineReporter } from '../../src/train/progress.ts';
import { runTraining } from '../../src/train/run.ts';

const root = mkdtempSync(join(tmpdir(), 'mek-pretrain-'));
const data = join(root, 'bands');
const quiet = lineReporter(() => {});
let cpu: BackendInfo;

/**
 * An easy set for the pretext task, in RAF-DB's layout with 4 classes: noisy 24 px images with
 * a bright band along the top edge, so that which edge holds it tells the rotation.
 */
async function writeBands(dir: string): Promise<void> {
  mkdirSync(join(dir, 'Image', 'aligned'), { recursive: true });
  let state = 11;
  const noise = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 80;
  const lines: string[] = [];
  for (const [split, n] of [['train', 48], ['test', 8]] as const) {
    for (let i = 1; i <= n; i++) {
      const px = Buffer.alloc(24 * 24 * 3);
      for (let p = 0; p < 24 * 24; p++) for (let c = 0; c < 3; c++) px[p * 3 + c] = (p < 24 * 6 ? 170 : 20) + noise();
      const name = `${split}_${String(i).padStart(4, '0')}`;
      await sharp(px, { raw: { width: 24, height: 24, channels: 3 } }).jpeg().toFile(join(dir, 'Image', 'aligned', `${name}_aligned.jpg`));
      lines.push(`${name}.jpg ${(i % 4) + 1}`);
    }
  }
  writeFileSync(join(dir, 'list_patition_label.txt'), lines.join('\n') + '\n');
}

/** A model small enough for the cpu backend's runs to take seconds (the PyTorch fixtures' micro Swin). */
const MICRO = ['model.img_size=28', 'model.patch_size=2', 'model.embed_dim=8', 'model.depths=[2,2]', 'model.num_heads=[1,2]', 'model.window_size=7'];

function config(name: string, extra: string[] = []) {
  return loadConfig(undefined, [
    'model.variant=swin_tiny_test',
    `data.root=${data}`,
    `data.label_file=${join(data, 'list_patition_label.txt')}`,
    'data.classes=[a,b,c,d]',
    'data.workers=0',
    'augment.randaugment=',
    'augment.erasing=0',
    'train.steps=4',
    'train.batch_size=2',
    'train.eval_every=0',
    'train.log_every=1',
    'optim.lr=1e-3',
    'optim.lr_batch=0',
    'schedule.warmup_steps=2',
    'pretrain.eval_images=8',
    `train.out_dir=${join(root, 'runs')}`,
    `train.name=${name}`,
    ...extra,
  ]);
}

const events = (runDir: string) => readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

beforeAll(async () => {
  cpu = await selectBackend('cpu');
  await writeBands(data);
}, 60_000);

describe('mek pretrain', () => {
  it('learns to tell the rotations apart on an easy set, and writes a run folder like mek train\'s', async () => {
    const wasm = await selectBackend('wasm');
    const lines: string[] = [];
    const c = config('easy', [...MICRO, 'train.steps=30', 'train.batch_size=8', 'train.eval_every=15', 'train.log_every=5', 'pretrain.eval_images=32', 'train.threads=1']);
    const summary = await runPretraining({ config: c, backend: wasm, progress: lineReporter((l) => lines.push(l)), stopRequested: () => false });
    await selectBackend('cpu');
    expect(lines[0]).toMatch(/rotation pretraining on 48 training images, labels unused, all 4 rotations of each \(32 images a step\); rotation accuracy on 32 training images/);
    expect(summary.step).toBe(30);
    expect(summary.evalSplit).toBe('train');
    for (const f of ['config.yaml', 'metrics.jsonl', 'last.json', 'curves.png', 'summary.json']) expect(existsSync(join(summary.runDir, f)), f).toBe(true);
    // the pretext task's accuracy picks no backbone: only last.json
    expect(existsSync(join(summary.runDir, 'best.json'))).toBe(false);
    const log = events(summary.runDir);
    expect(log.filter((e) => e.event === 'train').map((e) => e.step)).toEqual([5, 10, 15, 20, 25, 30]);
    const evals = log.filter((e) => e.event === 'eval');
    expect(evals.map((e) => [e.step, e.split])).toEqual([[15, 'train'], [30, 'train']]);
    expect(Object.keys(evals[1].per_class)).toEqual(['rot0', 'rot90', 'rot180', 'rot270']);
    // chance is 25% (measured: 82% at step 15, 84% at step 30)
    expect(summary.last!.metrics['accuracy']).toBeGreaterThan(0.6);
    expect(lines.join('\n')).toMatch(/step 30: rotation \(training images\) accuracy \d+\.\d\d%/);
    const last = await readCheckpoint(join(summary.runDir, 'last.json'));
    expect(last.meta.pretext).toBe('rotation');
    expect(last.meta.classes).toEqual(['rot0', 'rot90', 'rot180', 'rot270']);
    expect(last.meta.selection).toBeUndefined();
    // the run's own config, the expression classes included
    expect(last.meta.config!.data.classes).toEqual(['a', 'b', 'c', 'd']);
    // not a model to evaluate or predict with
    await expect(loadModel(join(summary.runDir, 'last.json'), { purpose: 'use' })).rejects.toThrow(CheckpointError);
    await expect(loadModel(join(summary.runDir, 'last.json'), { purpose: 'use' })).rejects.toThrow(/rotation-pretraining checkpoint .*use it as model\.init/);
  });

  it('an interrupted and resumed run ends as an uninterrupted one (cpu): weights, optimizer, data position, metrics', async () => {
    // One random rotation per image and a validation hold-out: the draws and the split must both carry over.
    const small = [...MICRO, 'pretrain.rotations=random', 'data.val_fraction=0.25', 'train.eval_every=2'];
    const whole = await runPretraining({ config: config('whole', small), backend: cpu, progress: quiet, stopRequested: () => false });
    let calls = 0;
    const first = await runPretraining({ config: config('parts', small), backend: cpu, progress: quiet, stopRequested: () => ++calls > 2 });
    expect(first.interrupted).toBe(true);
    expect(first.step).toBe(2);
    const rest = await runPretraining({ config: config('parts', small), resume: first.runDir, backend: cpu, progress: quiet, stopRequested: () => false });
    expect(rest.step).toBe(4);
    expect(rest.runDir).toBe(first.runDir);
    const a = await readCheckpoint(join(whole.runDir, 'last.json'));
    const b = await readCheckpoint(join(rest.runDir, 'last.json'));
    for (const [name, values] of a.values) expect(b.values.get(name), name).toEqual(values);
    expect(b.optimizer!.step).toBe(a.optimizer!.step);
    expect(b.meta.training!.loader).toEqual(a.meta.training!.loader);
    expect(b.meta.training!.rngState).toEqual(a.meta.training!.rngState);
    const figures = (dir: string) => events(dir).map(({ samples_per_s: _speed, ...e }) => e);
    expect(figures(rest.runDir)).toEqual(figures(whole.runDir));
    expect(figures(whole.runDir).filter((e) => e.event === 'eval').map((e) => e.split)).toEqual(['val', 'val']);
    // 36 training images, 12 held out: rotation accuracy on the hold-out's 12
    expect(whole.evalSplit).toBe('val');
  });

  it('model.init takes the pretrain checkpoint: backbone unchanged, the rotation head dropped for a fresh one, also at 4 classes', async () => {
    const pre = await runPretraining({ config: config('handoff-pre', MICRO), backend: cpu, progress: quiet, stopRequested: () => false });
    const pretrained = await readCheckpoint(join(pre.runDir, 'last.json'));
    const lines: string[] = [];
    // lr 0: the one step leaves the weights as loaded
    const frozen = [...MICRO, 'train.steps=1', 'optim.lr=0', 'schedule.warmup_lr=0', 'schedule.min_lr=0', `model.init=${join(pre.runDir, 'last.json')}`];
    const c = config('handoff-train', frozen);
    const run = await runTraining({ config: c, backend: cpu, progress: lineReporter((l) => lines.push(l)), stopRequested: () => false });
    expect(lines.join('\n')).toMatch(/a rotation-pretraining checkpoint \(mek pretrain\): backbone loaded, its rotation head \(head\.weight, head\.bias\) dropped/);
    const trained = await readCheckpoint(join(run.runDir, 'last.json'));
    expect(trained.meta.pretext).toBeUndefined();
    expect(trained.meta.classes).toEqual(['a', 'b', 'c', 'd']);
    let compared = 0;
    for (const [name, values] of pretrained.values) {
      if (name.startsWith('head.')) continue;
      expect(trained.values.get(name), name).toEqual(values);
      compared++;
    }
    expect(compared).toBeGreaterThan(30);
    // The head: as a fresh start initialises one (same shape as the rotation head here, [4, C]), not the rotation head.
    const fresh = initialValues(variantFromConfig(c), new Rng(c.train.seed));
    for (const name of ['head.weight', 'head.bias']) {
      expect(trained.values.get(name), name).toEqual(fresh.get(name));
      expect(trained.values.get(name)!.length).toBe(pretrained.values.get(name)!.length);
      expect(trained.values.get(name), name).not.toEqual(pretrained.values.get(name));
    }

    // Each command continues only its own runs.
    await expect(runPretraining({ config: config('x', MICRO), resume: run.runDir, backend: cpu, progress: quiet, stopRequested: () => false })).rejects.toThrow(
      /is a mek train run, not a mek pretrain run; continue it with mek train --resume/,
    );
    await expect(runTraining({ config: config('y', MICRO), resume: pre.runDir, backend: cpu, progress: quiet, stopRequested: () => false })).rejects.toThrow(
      /is a mek pretrain run, not a mek train run; continue it with mek pretrain --resume, or start training from it with --set model\.init=/,
    );
  });
});
