// `mek pretrain` as a user runs it (the real `node bin/mek.js`, spawned): bad input is one line
// and exit 2, a pretraining checkpoint is refused where a model is expected, and a short run
// ends with the line that says how to fine-tune from it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineUsageError, spawnMekSync as mek } from '../helpers/cli.ts';
import { useCliWorkspace } from '../helpers/cli-workspace.ts';

const { root, data, runDir } = useCliWorkspace({ checkpoint: true });

const sets = () => [
  '--set', 'model.variant=swin_tiny_test',
  '--set', `data.root=${data}`,
  '--set', `data.label_file=${join(data, 'list_patition_label.txt')}`,
  '--set', 'data.workers=0',
  '--set', 'train.batch_size=2',
  '--set', 'train.steps=2',
  '--set', 'train.eval_every=0',
  '--set', 'pretrain.eval_images=4',
  '--set', `train.out_dir=${join(root, 'runs')}`,
];

describe('mek pretrain: bad input is one line and exit 2', () => {
  it('an unknown pretrain value', () => {
    expectOneLineUsageError(mek('pretrain', '--config', 'configs/pretrain-demo.yaml', '--set', 'pretrain.rotations=some'), /pretrain\.rotations.*all.*random/);
  });

  it('--resume of a mek train run', () => {
    expectOneLineUsageError(mek('pretrain', '--resume', join(runDir, 'best.json')), /best\.json: is a mek train run, not a mek pretrain run; continue it with mek train --resume/);
  });
});

describe('mek pretrain, then its checkpoint', () => {
  it('runs, says how to fine-tune, and its last.json is refused by eval as a model (exit 2)', () => {
    const r = mek('pretrain', ...sets(), '--name', 'pre');
    expect(r.code, r.stderr).toBe(0);
    const last = join(root, 'runs', 'pre', 'last.json');
    expect(r.stdout).toContain(`done: 2 steps; rotation accuracy`);
    expect(r.stdout).toContain(`fine-tune with mek train --set model.init=${last}`);
    expectOneLineUsageError(mek('eval', '--ckpt', last), /is a rotation-pretraining checkpoint \(mek pretrain\).*use it as model\.init/);
    expectOneLineUsageError(mek('train', '--resume', join(root, 'runs', 'pre')), /is a mek pretrain run, not a mek train run/);
  });
});
