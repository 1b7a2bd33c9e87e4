// A run with a validation split (data.val_fraction) end to end on one wasm thread: evaluation
// and best.json on the validation split, the test split once at the end, the post-hoc tau
// chosen on the validation split and stored in best.json; then `mek eval` and `mek predict`
// apply that tau by default and agree with what training reported.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { evalCommand } from '../../src/commands/eval.ts';
import { predictCommand } from '../../src/commands/predict.ts';
import { loadConfig } from '../../src/config/load.ts';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { TAU_GRID } from '../../src/eval/adjust.ts';
import { readCheckpoint } from '../../src/io/checkpoint/read.ts';
import { lineReporter } from '../../src/train/progress.ts';
import { runTraining } from '../../src/train/run.ts';
import type { TrainSummary } from '../../src/train/summary.ts';
import { runCommands } from '../helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'mek-val-'));
const data = join(root, 'faces');
const mek = (...args: string[]) => runCommands(['--backend', 'wasm', ...args], [evalCommand, predictCommand]);
let summary: TrainSummary;
let lines: string[] = [];

beforeAll(async () => {
  await synthesizeDataset({ out: data, seed: 3, size: 100, imageSize: 48 });
  const config = loadConfig(undefined, [
    'model.variant=swin_tiny_test',
    `data.root=${data}`,
    `data.label_file=${join(data, 'list_patition_label.txt')}`,
    'data.workers=0',
    'train.threads=1',
    'data.val_fraction=0.25',
    'train.steps=6',
    'train.batch_size=4',
    'train.eval_every=3',
    'train.log_every=3',
    'train.best_metric=mean_class_accuracy',
    'optim.lr=1e-3',
    'optim.lr_batch=0',
    'schedule.warmup_steps=2',
    'eval.batch_size=32',
    `train.out_dir=${join(root, 'runs')}`,
    'train.name=val',
  ]);
  summary = await runTraining({ config, backend: await selectBackend('wasm'), progress: lineReporter((l) => lines.push(l)), stopRequested: () => false });
}, 240_000);

describe('a run with data.val_fraction', () => {
  it('evaluates on the validation split, then the test split once with best.json, and picks tau on the validation split', async () => {
    expect(summary.selection).toBe('val');
    const events = readFileSync(join(summary.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const evals = events.filter((e) => e.event === 'eval');
    expect(evals.map((e) => [e.step, e.split])).toEqual([[3, 'val'], [6, 'val']]);
    // 80 training images of 100, a quarter of each class held out
    const supports = (await readCheckpoint(join(summary.runDir, 'best.json'))).meta.prior!.counts;
    expect(supports.reduce((a, b) => a + b, 0)).toBeLessThan(70);
    const tests = events.filter((e) => e.event === 'test');
    expect(tests).toHaveLength(1);
    expect(tests[0].step).toBe(summary.best!.step);
    const posthoc = events.find((e) => e.event === 'posthoc');
    expect(posthoc.val_sweep.map((p: { tau: number }) => p.tau)).toEqual(TAU_GRID);
    const bestVal = Math.max(...posthoc.val_sweep.map((p: { mean_class_accuracy: number }) => p.mean_class_accuracy));
    expect(posthoc.val_sweep.find((p: { tau: number }) => p.tau === summary.posthoc!.tau).mean_class_accuracy).toBe(bestVal);
    expect(summary.test!['step']).toBe(summary.best!.step);
    expect(lines.some((l) => /^test split, best\.json \(step \d+, picked on the validation split\)/.test(l))).toBe(true);
    expect(lines.some((l) => /^post-hoc adjustment, tau [\d.]+ chosen on the validation split/.test(l))).toBe(true);
    expect(existsSync(join(summary.runDir, 'confusion.png'))).toBe(true);
  });

  it('best.json records the prior, the selection and the tau; summary.json the test results', async () => {
    const meta = (await readCheckpoint(join(summary.runDir, 'best.json'))).meta;
    expect(meta.selection).toEqual({ split: 'val', metric: 'mean_class_accuracy' });
    expect(meta.posthoc!.tau).toBe(summary.posthoc!.tau);
    const p = meta.prior!;
    expect(p.sampler).toBe('shuffle');
    p.probabilities.forEach((v, i) => expect(v).toBeCloseTo(p.counts[i]! / p.counts.reduce((a, b) => a + b, 0), 12));
    const saved = JSON.parse(readFileSync(join(summary.runDir, 'summary.json'), 'utf8'));
    expect(saved.test).toEqual(summary.test);
    expect(saved.posthoc).toEqual(summary.posthoc);
  });

  it('mek eval applies the stored tau by default and reproduces the training run\'s test figures; --adjust 0 the raw ones', async () => {
    const best = join(summary.runDir, 'best.json');
    const byDefault = await mek('eval', '--ckpt', best, '--json');
    expect(byDefault.code, byDefault.stderr).toBe(0);
    const report = JSON.parse(byDefault.stdout);
    expect(report.adjust).toMatchObject({ tau: summary.posthoc!.tau, source: 'checkpoint' });
    expect(report.overall).toBeCloseTo(summary.posthoc!.test['accuracy'] as number, 12);
    expect(report.meanClass).toBeCloseTo(summary.posthoc!.test['mean_class_accuracy'] as number, 12);
    expect(report.selection).toEqual({ split: 'val', metric: 'mean_class_accuracy' });
    const raw = JSON.parse((await mek('eval', '--ckpt', best, '--json', '--adjust', '0')).stdout);
    expect(raw.adjust.source).toBe('flag');
    expect(raw.overall).toBeCloseTo(summary.test!['accuracy'] as number, 12);
  });

  it('mek eval --split val --sweep-adjust finds the same tau, prints the trade-off and plots it', async () => {
    const out = join(root, 'sweep');
    const r = await mek('eval', '--ckpt', join(summary.runDir, 'best.json'), '--split', 'val', '--sweep-adjust', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/post-hoc adjustment on the validation split/);
    expect(r.stdout).toMatch(new RegExp(`best mean-class: tau ${summary.posthoc!.tau} `));
    expect(readFileSync(join(out, 'adjust.png')).length).toBeGreaterThan(1000);
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(json.sweep.map((p: { tau: number }) => p.tau)).toEqual(TAU_GRID);
    expect(json.sweepBestTau).toBe(summary.posthoc!.tau);
    const onTest = await mek('eval', '--ckpt', join(summary.runDir, 'best.json'), '--sweep-adjust');
    expect(onTest.stdout).toMatch(/picked on the test split is optimistic/);
  });

  it('mek predict --adjust moves the probabilities by -tau log prior and keeps the raw logits', async () => {
    const meta = (await readCheckpoint(join(summary.runDir, 'best.json'))).meta;
    const image = join(data, 'Image', 'aligned', 'test_0001_aligned.jpg');
    const [raw] = JSON.parse((await mek('predict', '--ckpt', join(summary.runDir, 'best.json'), '--json', '--adjust', '0', image)).stdout);
    const [adjusted] = JSON.parse((await mek('predict', '--ckpt', join(summary.runDir, 'best.json'), '--json', '--adjust', '1.5', image)).stdout);
    expect(adjusted.logits).toEqual(raw.logits);
    expect(adjusted.adjust).toBe(1.5);
    const z = raw.logits.map((l: number, i: number) => l - 1.5 * Math.log(meta.prior!.probabilities[i]!));
    const e = z.map((v: number) => Math.exp(v - Math.max(...z)));
    const sum = e.reduce((a: number, b: number) => a + b, 0);
    e.forEach((v: number, i: number) => expect(adjusted.probs[i]).toBeCloseTo(v / sum, 5));
    const bad = await mek('predict', '--ckpt', join(summary.runDir, 'best.json'), '--adjust', '-0.5', image);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('mek: --adjust must be a number >= 0 (tau; 0: the raw logits), got -0.5');
  });

  it('a checkpoint of an older mek (no stored prior) takes the prior from the training split of its saved config', async () => {
    const best = join(summary.runDir, 'best.json');
    const doc = JSON.parse(readFileSync(best, 'utf8'));
    delete doc.prior;
    delete doc.posthoc;
    const old = join(summary.runDir, 'old.json');
    writeFileSync(old, JSON.stringify(doc));
    const fromConfig = JSON.parse((await mek('eval', '--ckpt', old, '--json', '--adjust', '1')).stdout);
    const stored = JSON.parse((await mek('eval', '--ckpt', best, '--json', '--adjust', '1')).stdout);
    expect(fromConfig.adjust.prior).toEqual(stored.adjust.prior);
    expect(fromConfig.confusion).toEqual(stored.confusion);
  });

  it('eval --split val without a validation split, and --adjust on a file with no prior, are one line', async () => {
    const noVal = await mek('eval', '--ckpt', join(summary.runDir, 'best.json'), '--split', 'val', '--set', 'data.val_fraction=0');
    expect(noVal.code).toBe(2);
    expect(noVal.stderr.trim()).toMatch(/^mek: there is no validation split: data\.val_fraction is 0/);
    // a copy: predict caches its ONNX export beside the checkpoint
    const pt = join(root, 'micro_model.pt');
    copyFileSync(new URL('../fixtures/torch/micro_model.pt', import.meta.url), pt);
    const noPrior = await mek('predict', '--ckpt', pt, '--adjust', '1', join(data, 'Image', 'aligned', 'test_0001_aligned.jpg'));
    expect(noPrior.code).toBe(2);
    expect(noPrior.stderr.trim()).toMatch(/stores no class prior .*pass --config with the training data/);
  });
});
