// The commands a user types, spawned as a user runs them: bad configs, bad --set values,
// missing data and bad checkpoints give one line and exit 2; eval and predict on a saved
// checkpoint agree with the model in memory.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { defaultConfig } from '../../src/config/load.ts';
import { normalize } from '../../src/data/augment/normalize.ts';
import { decodeImage } from '../../src/data/decode.ts';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { Model } from '../../src/model/model.ts';
import { initialValues, ParamStore } from '../../src/model/params.ts';
import { exportModel } from '../../src/io/export.ts';
import { saveTestCheckpoint } from '../helpers/checkpoint.ts';
import { VARIANTS } from '../../src/model/variants.ts';
import { Rng } from '../../src/random.ts';

const root = mkdtempSync(join(tmpdir(), 'mek-cli-'));
const data = join(root, 'faces');
const runDir = join(root, 'run');
let ckpt = '';
const image = () => join(data, 'Image', 'aligned', 'test_0001_aligned.jpg');

function mek(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/mek.js', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
}

function expectOneLineUsageError(r: ReturnType<typeof mek>, pattern: RegExp) {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('mek:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(async () => {
  await selectBackend('wasm');
  await synthesizeDataset({ out: data, seed: 5, size: 100, imageSize: 48 });
  const variant = VARIANTS.swin_tiny_test;
  const store = ParamStore.init(variant, new Rng(11));
  const cfg = defaultConfig();
  cfg.model.variant = 'swin_tiny_test';
  cfg.data.root = data;
  cfg.data.label_file = join(data, 'list_patition_label.txt');
  ckpt = await saveTestCheckpoint(runDir, store, { config: cfg });
  store.dispose();
}, 120_000);

describe('mek train: bad input is one line and exit 2', () => {
  it('an unknown key in the config file', () => {
    const bad = join(root, 'bad.yaml');
    writeFileSync(bad, 'train:\n  stpes: 10\n');
    expectOneLineUsageError(mek('train', '--config', bad), /bad\.yaml:2: unknown key 'train\.stpes' \(did you mean 'train\.steps'\?\)/);
  });

  it('a bad --set value', () => {
    expectOneLineUsageError(mek('train', '--config', 'configs/demo.yaml', '--set', 'loss.eps=lots'), /--set loss\.eps=lots: loss\.eps: expected a number/);
  });

  it('a missing dataset', () => {
    const r = mek('train', '--set', `data.root=${join(root, 'none')}`, '--set', `data.label_file=${join(root, 'none', 'labels.txt')}`);
    expectOneLineUsageError(r, /labels\.txt: RAF-DB label file not found/);
  });
});

describe('mek eval / predict on a checkpoint', () => {
  it('bad checkpoints are one line and exit 2', () => {
    const notJson = join(root, 'broken.json');
    writeFileSync(notJson, '{ nope');
    expectOneLineUsageError(mek('eval', '--ckpt', notJson), /broken\.json: is not JSON/);
    const truncated = join(root, 'trunc');
    spawnSync('cp', ['-r', runDir, truncated]);
    const meta = JSON.parse(readFileSync(join(truncated, 'best.json'), 'utf8'));
    const bin = join(truncated, meta.weightsManifest[0].paths[0]);
    writeFileSync(bin, readFileSync(bin).subarray(0, 1000));
    expectOneLineUsageError(mek('predict', '--ckpt', join(truncated, 'best.json'), image()), /truncated/);
    expectOneLineUsageError(mek('predict', '--ckpt', join(root, 'absent.json'), image()), /absent\.json: no such file/);
  });

  it('predict --json gives the logits of the model in memory, every time', async () => {
    const first = mek('predict', '--ckpt', ckpt, '--json', '--cams', image());
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out).toHaveLength(1);
    expect(Object.keys(out[0]).sort()).toEqual(['cams', 'image', 'label', 'logits', 'probs']);
    expect(out[0].cams).toHaveLength(7);
    expect(out[0].cams[0]).toHaveLength(7);
    expect(out[0].probs.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
    const again = JSON.parse(mek('predict', '--ckpt', ckpt, '--json', image()).stdout);
    expect(again[0].logits).toEqual(out[0].logits);

    const model = Model.init(VARIANTS.swin_tiny_test, new Rng(11));
    const rgb = await decodeImage(image(), 56, 'bilinear');
    const logits = tf.tidy(() => Array.from(model.forward(tf.tensor4d(normalize(rgb, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), [1, 56, 56, 3]), { training: false }).logits.dataSync()));
    logits.forEach((x, i) => expect(out[0].logits[i]).toBeCloseTo(x, 5));
    model.dispose();
  });

  it('eval --json reports overall, mean-class, per-class and the confusion matrix', () => {
    const r = mek('eval', '--ckpt', ckpt, '--json', '--out', join(root, 'report'));
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.perClass).toHaveLength(7);
    expect(report.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(report.perClass.reduce((a: number, c: { support: number }) => a + c.support, 0));
    expect(report.overall).toBeGreaterThanOrEqual(0);
    expect(readFileSync(join(root, 'report', 'confusion.png')).length).toBeGreaterThan(1000);
  });
});

describe('PyTorch checkpoints from the command line: import, predict, eval, export', () => {
  // copies, so the ONNX export that eval and predict cache beside a checkpoint lands in the temp folder
  const torchFixture = (name: string) => {
    const copy = join(root, 'torch', name);
    if (!existsSync(copy)) cpSync(fileURLToPath(new URL(`../fixtures/torch/${name}`, import.meta.url)), copy);
    return copy;
  };

  it('predict on a release checkpoint (.pt, DDP prefix) equals predict on its import, and export round-trips', () => {
    const direct = mek('predict', '--ckpt', torchFixture('micro_model_module.pt'), '--json', image());
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stderr).toMatch(/note: removed the DistributedDataParallel prefix 'module\.'/);
    const imported = join(root, 'imported', 'micro.json');
    const imp = mek('import', '--from', torchFixture('micro_model_module.pt'), '--out', imported);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/wrote .*micro\.json: Swin 28 px, patch 2, embed 8, depths \[2, 2\], 7 classes/);
    const viaJson = mek('predict', '--ckpt', imported, '--json', image());
    expect(JSON.parse(viaJson.stdout)[0].logits).toEqual(JSON.parse(direct.stdout)[0].logits);

    const exported = join(root, 'exported.pt');
    const exp = mek('export', '--ckpt', imported, '--out', exported);
    expect(exp.code, exp.stderr).toBe(0);
    const viaExport = mek('predict', '--ckpt', exported, '--json', image());
    expect(JSON.parse(viaExport.stdout)[0].logits).toEqual(JSON.parse(direct.stdout)[0].logits);
  });

  it('eval on a .pt with the default data settings: RAF-DB class names, a full report', () => {
    const r = mek('eval', '--ckpt', torchFixture('micro_model.pt'), '--json', '--set', `data.root=${data}`, '--set', `data.label_file=${join(data, 'list_patition_label.txt')}`);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).perClass.map((c: { name: string }) => c.name)[0]).toBe('Surprise');
  });

  it('unusable files are one line and exit 2', () => {
    expectOneLineUsageError(mek('predict', '--ckpt', torchFixture('args.pt'), image()), /args\.pt: its pickle names argparse\.Namespace/);
    expectOneLineUsageError(mek('import', '--from', torchFixture('legacy.pt'), '--out', join(root, 'x.json')), /legacy \(pre-1\.6\) torch\.save format/);
    expectOneLineUsageError(mek('predict', '--ckpt', torchFixture('micro_backbone.pt'), image()), /holds a backbone only/);
    expectOneLineUsageError(
      mek('predict', '--ckpt', torchFixture('micro_model.pt'), '--config', 'configs/demo.yaml', image()),
      /micro_model\.pt: was built with model\.patch_size 2 \(config 4\).* would fit/,
    );
    const cut = join(root, 'cut.pt');
    writeFileSync(cut, readFileSync(torchFixture('micro_model.pt')).subarray(0, 5000));
    expectOneLineUsageError(mek('predict', '--ckpt', cut, image()), /cut\.pt: .*truncated/);
    expectOneLineUsageError(mek('export', '--ckpt', torchFixture('micro_model.pt'), '--out', join(root, 'x.tflite')), /--out .*x\.tflite: the file name must end in \.pt, \.pth, \.safetensors, \.onnx/);
  });
});

describe('inference engines: ONNX Runtime and tfjs', () => {
  it('predict and eval give the same answers on both; the ONNX export is cached beside the checkpoint', () => {
    const dir = join(root, 'engines');
    // the checkpoint alone: earlier tests may have cached an export beside the original
    cpSync(runDir, dir, { recursive: true, filter: (f) => !f.endsWith('.onnx') });
    const best = join(dir, 'best.json');
    writeFileSync(join(dir, 'best.0123456789abcdef.onnx'), 'an export of an older version of this checkpoint');
    const viaOnnx = mek('predict', '--engine', 'onnx', '--json', '--ckpt', best, image());
    expect(viaOnnx.code, viaOnnx.stderr).toBe(0);
    expect(viaOnnx.stderr).toMatch(/^engine: onnxruntime-node [\d.]+ \(cpu, 1 thread\)/);
    expect(viaOnnx.stderr).toMatch(/note: exported the model to ONNX, cached as .*best\.[0-9a-f]{16}\.onnx/);
    const caches = readdirSync(dir).filter((f) => f.endsWith('.onnx'));
    expect(caches).toHaveLength(1);
    expect(caches[0]).not.toBe('best.0123456789abcdef.onnx');
    const viaTfjs = mek('predict', '--engine', 'tfjs', '--json', '--ckpt', best, image());
    expect(viaTfjs.stderr).toMatch(/^engine: tfjs/);
    const [a] = JSON.parse(viaOnnx.stdout);
    const [b] = JSON.parse(viaTfjs.stdout);
    expect(a.label).toBe(b.label);
    a.logits.forEach((v: number, i: number) => expect(Math.abs(v - b.logits[i])).toBeLessThan(1e-4));
    // the second time the cache is used, not written
    const again = mek('predict', '--json', '--ckpt', best, image());
    expect(again.stderr).not.toMatch(/exported/);
    expect(JSON.parse(again.stdout)[0].logits).toEqual(a.logits);
    const evals = ['onnx', 'tfjs'].map((engine) => JSON.parse(mek('eval', '--engine', engine, '--json', '--ckpt', best).stdout));
    expect(evals[0].engine).toBe('onnx');
    expect(evals[0].confusion).toEqual(evals[1].confusion);
    expect(existsSync(join(dir, caches[0]!))).toBe(true);
  });

  it('an exported .onnx runs as --ckpt; a corrupt or foreign one, tfjs on an .onnx, or a missing CUDA provider is one line', () => {
    const out = join(root, 'model.onnx');
    expect(mek('export', '--ckpt', ckpt, '--out', out).code).toBe(0);
    const direct = mek('predict', '--json', '--ckpt', out, image());
    expect(direct.code, direct.stderr).toBe(0);
    expect(JSON.parse(direct.stdout)[0].label).toBe(JSON.parse(mek('predict', '--json', '--engine', 'tfjs', '--ckpt', ckpt, image()).stdout)[0].label);
    const corrupt = join(root, 'corrupt.onnx');
    writeFileSync(corrupt, 'not protobuf at all');
    expectOneLineUsageError(mek('predict', '--ckpt', corrupt, image()), /corrupt\.onnx: not a (readable ONNX file|model exported by mek)/);
    expectOneLineUsageError(mek('predict', '--engine', 'tfjs', '--ckpt', out, image()), /model\.onnx: an \.onnx file runs on ONNX Runtime: use --engine onnx/);
    expectOneLineUsageError(mek('predict', '--device', 'cuda', '--ckpt', out, image()), /the CUDA execution provider of ONNX Runtime is not installed or cannot start .*README "GPU setup"/);
    expectOneLineUsageError(mek('eval', '--device', 'cuda', '--engine', 'tfjs', '--ckpt', ckpt), /--device cuda runs on ONNX Runtime/);
  });
});

describe('the README\'s deployment example', () => {
  it('is examples/classify.mjs word for word, and gives mek predict\'s label', async () => {
    const example = readFileSync('examples/classify.mjs', 'utf8');
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain('```js\n' + example + '```');
    const out = join(root, 'deploy.onnx');
    expect(mek('export', '--ckpt', ckpt, '--out', out).code).toBe(0);
    // an image at the model's size: no resampling on either side
    const face = join(root, 'face56.png');
    const sharp = (await import('sharp')).default;
    await sharp(image()).resize(56, 56, { fit: 'fill' }).png().toFile(face);
    const r = spawnSync(process.execPath, ['examples/classify.mjs', out, face], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(mek('predict', '--json', '--ckpt', out, face).stdout)[0].label);
  });
});

describe('mek train --resume', () => {
  it('continues a run from its folder with the saved configuration', () => {
    const sets = [
      '--set', 'model.variant=swin_demo',
      '--set', `data.root=${data}`,
      '--set', `data.label_file=${join(data, 'list_patition_label.txt')}`,
      '--set', 'data.workers=0',
      '--set', 'train.batch_size=4',
      '--set', 'train.eval_every=0',
      '--set', `train.out_dir=${join(root, 'runs')}`,
    ];
    const first = mek('train', ...sets, '--set', 'train.steps=2', '--name', 'resumable');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('done: 2 steps');
    // What a crash after logging step 3, before any save, leaves: events past last.json's step.
    const metrics = join(root, 'runs', 'resumable', 'metrics.jsonl');
    writeFileSync(metrics, readFileSync(metrics, 'utf8') + JSON.stringify({ event: 'train', step: 3, loss: 9 }) + '\n{"event": "tr');
    const more = mek('train', '--resume', join(root, 'runs', 'resumable'), '--set', 'train.steps=4');
    expect(more.code, more.stderr).toBe(0);
    expect(more.stdout).toContain('done: 4 steps');
    const events = readFileSync(metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // each step once: the lost step 3 dropped (and trained again), the cut line gone
    expect(events.filter((e) => e.event === 'train').map((e) => e.step)).toEqual([2, 4]);
    expect(events.some((e) => e.loss === 9)).toBe(false);
  });
});

describe('mek predict on awkward file names', () => {
  it('a file named -h.jpg after --, and two images of one name from two folders, each get their own heat-map', async () => {
    const dirs = [join(root, 'names', 'a'), join(root, 'names', 'b')];
    for (const d of dirs) {
      mkdirSync(d, { recursive: true });
      cpSync(image(), join(d, 'face.jpg'));
    }
    cpSync(image(), join(root, 'names', '-h.jpg'));
    const out = join(root, 'names', 'cams');
    const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/mek.js'), 'predict', '--ckpt', ckpt, '--cam-out', out, join(dirs[0]!, 'face.jpg'), join(dirs[1]!, 'face.jpg'), '--', '-h.jpg'], {
      encoding: 'utf8',
      cwd: join(root, 'names'),
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\.\/-h\.jpg: /m);
    expect(readdirSync(out).sort()).toEqual(['-h_cams.png', 'face-2_cams.png', 'face_cams.png']);
  });
});

describe('unreadable data with data.on_bad_image: skip', () => {
  it('training and evaluation stop with one line and exit 2 when no image can be read, never looping', async () => {
    const sets = [
      '--set', 'model.variant=swin_demo',
      '--set', `data.root=${join(root, 'no-images-here')}`,
      '--set', `data.label_file=${join(data, 'list_patition_label.txt')}`,
      '--set', 'data.on_bad_image=skip',
      '--set', 'data.max_skip_fraction=1',
      '--set', 'train.batch_size=4',
      '--set', 'train.steps=50',
      '--set', `train.out_dir=${join(root, 'unreadable')}`,
    ];
    expectOneLineUsageError(mek('train', ...sets), /no image of an epoch could be read \(\d+ unreadable, data\.on_bad_image: skip\).*; nothing to train on$/);
    expectOneLineUsageError(mek('eval', '--ckpt', ckpt, ...sets.slice(0, 10)), /no image of an epoch could be read .*; nothing to evaluate$/);
    // one unreadable test image of many: evaluated without it, and counted
    const one = join(root, 'one-bad');
    cpSync(data, one, { recursive: true });
    writeFileSync(join(one, 'Image', 'aligned', 'test_0003_aligned.jpg'), 'not a jpeg');
    const partial = mek('eval', '--ckpt', ckpt, '--set', `data.root=${one}`, '--set', `data.label_file=${join(one, 'list_patition_label.txt')}`, '--set', 'data.on_bad_image=skip');
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stderr).toMatch(/^skipped 1 unreadable images \(data\.on_bad_image: skip\), e\.g\. .*test_0003_aligned\.jpg$/m);
    const bounded = mek('train', ...sets.slice(0, 8), '--set', 'data.max_skip_fraction=0.1', ...sets.slice(10));
    expectOneLineUsageError(bounded, /images \(\d+\.\d%\) are unreadable, more than data\.max_skip_fraction 0\.1 allows/);
  });
});

describe('non-finite weights', () => {
  it('a checkpoint (mek, .pt or .safetensors) holding a NaN or an infinity is refused naming the tensor (exit 2)', async () => {
    const variant = VARIANTS.swin_tiny_test;
    const values = initialValues(variant, new Rng(3));
    values.get('head.weight')![5] = Number.NaN;
    const store = ParamStore.fromValues(variant, values);
    const nan = await saveTestCheckpoint(join(root, 'nan'), store);
    store.dispose();
    expectOneLineUsageError(mek('predict', '--ckpt', nan, image()), /nan\/best\.json: head\.weight holds NaN \(element 5\): weights must be finite/);
    values.get('head.weight')![5] = 0;
    values.get('norm.bias')![0] = Number.POSITIVE_INFINITY;
    for (const ext of ['pt', 'safetensors']) {
      const file = join(root, `inf.${ext}`);
      await exportModel(file, variant, values);
      expectOneLineUsageError(mek('eval', '--ckpt', file, '--set', `data.root=${data}`, '--set', `data.label_file=${join(data, 'list_patition_label.txt')}`), /inf\.(pt|safetensors): norm\.bias holds Infinity \(element 0\)/);
    }
  });
});

describe('a corrupt test image', () => {
  it('stops the run at the evaluation with one line, after saving last.json, so --resume loses nothing', async () => {
    const copy = join(root, 'faces-bad-test');
    cpSync(data, copy, { recursive: true });
    writeFileSync(join(copy, 'Image', 'aligned', 'test_0002_aligned.jpg'), 'not a jpeg');
    const out = join(root, 'bad-test');
    const r = mek(
      'train',
      '--set', 'model.variant=swin_demo',
      '--set', `data.root=${copy}`,
      '--set', `data.label_file=${join(copy, 'list_patition_label.txt')}`,
      '--set', 'train.batch_size=4',
      '--set', 'train.steps=6',
      '--set', 'train.eval_every=3',
      '--set', `train.out_dir=${out}`,
      '--name', 'run',
    );
    expectOneLineUsageError(r, /test_0002_aligned\.jpg.*; saved .*last\.json at step 3 first: fix it and continue with --resume /);
    expect(JSON.parse(readFileSync(join(out, 'run', 'last.json'), 'utf8')).step).toBe(3);
  });
});

describe('a non-finite loss', () => {
  it('stops with its one line and writes summary.json, with data workers or without (exit 1, never a silent 13)', () => {
    for (const workers of [0, 1]) {
      const out = join(root, `nan-${workers}`);
      const r = mek(
        'train',
        '--set', 'model.variant=swin_demo',
        '--set', `data.root=${data}`,
        '--set', `data.label_file=${join(data, 'list_patition_label.txt')}`,
        '--set', `data.workers=${workers}`,
        '--set', 'train.batch_size=4',
        '--set', 'train.steps=40',
        '--set', 'train.eval_every=0',
        '--set', 'train.log_every=1',
        '--set', 'optim.lr=1e9',
        '--set', `train.out_dir=${out}`,
        '--name', 'run',
      );
      expect(r.code, `workers ${workers}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/^mek: TrainingStopped: loss is (NaN|-?Infinity) at step \d+ .*last good checkpoint/m);
      const summary = JSON.parse(readFileSync(join(out, 'run', 'summary.json'), 'utf8'));
      expect(summary.stopped).toMatch(/^loss is (NaN|-?Infinity)/);
      expect(summary.step).toBeGreaterThan(0);
    }
  });
});

describe('stop signals during mek train', () => {
  // Ctrl-C, and what Slurm / Kubernetes (SIGTERM) and a closed terminal (SIGHUP) send.
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s finishes the step, saves last.json and exits %i', async (signal, exitCode) => {
    const { spawn } = await import('node:child_process');
    const out = join(root, `stopped-${signal}`);
    const child = spawn(process.execPath, [
      'bin/mek.js', 'train',
      '--set', 'model.variant=swin_demo',
      '--set', `data.root=${data}`,
      '--set', `data.label_file=${join(data, 'list_patition_label.txt')}`,
      '--set', 'data.workers=1',
      '--set', 'train.batch_size=4',
      '--set', 'train.steps=100000',
      '--set', 'train.eval_every=0',
      '--set', 'train.log_every=1',
      '--set', `train.out_dir=${out}`,
      '--name', 'run',
    ]);
    let stdout = '';
    let sent = false;
    child.stdout.on('data', (d) => {
      stdout += String(d);
      // One signal: a second one quits at once, without saving.
      if (!sent && /step 2\/100000/.test(stdout)) {
        sent = true;
        child.kill(signal);
      }
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stdout + stderr).toBe(exitCode);
    expect(stdout).toContain(`${signal}: stopping after this step and saving last.json`);
    expect(stdout).toMatch(/interrupted at step \d+: saved .*last\.json; continue with --resume/);
    const meta = JSON.parse(readFileSync(join(out, 'run', 'last.json'), 'utf8'));
    expect(meta.step).toBeGreaterThanOrEqual(2);
    expect(meta.step).toBeLessThan(100000);
  });
});
