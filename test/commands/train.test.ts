// `mek train` as a user runs it (the real `node bin/mek.js`, spawned): bad input is one line
// and exit 2, --resume continues a run from its folder, a non-finite loss stops with its line
// and summary.json, and a stop signal finishes the step and saves last.json first.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineUsageError, spawnMekSync as mek } from '../helpers/cli.ts';
import { useCliWorkspace } from '../helpers/cli-workspace.ts';

const { root, data } = useCliWorkspace({ checkpoint: false });

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
