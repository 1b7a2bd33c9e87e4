// Images that cannot be read, from the command line: with data.on_bad_image: skip, training
// and evaluation skip and count them, and stop with one line when nothing (or too much) is
// left; a corrupt test image stops training at the evaluation after saving last.json.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineUsageError, spawnMekSync as mek } from '../helpers/cli.ts';
import { useCliWorkspace } from '../helpers/cli-workspace.ts';

const { root, data, ckpt } = useCliWorkspace({ checkpoint: true });

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
