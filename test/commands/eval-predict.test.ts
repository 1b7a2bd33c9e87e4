// `mek eval` and `mek predict` on a checkpoint mek saved, spawned as a user runs them: a bad
// checkpoint is one line and exit 2, predict gives the logits of the model in memory, eval the
// full report, and awkward image names each get their own heat-map.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../src/data/augment/normalize.ts';
import { decodeImage } from '../../src/data/decode.ts';
import { Model } from '../../src/model/model.ts';
import { VARIANTS } from '../../src/model/variants.ts';
import { Rng } from '../../src/random.ts';
import { expectOneLineUsageError, spawnMekSync as mek } from '../helpers/cli.ts';
import { CHECKPOINT_SEED, useCliWorkspace } from '../helpers/cli-workspace.ts';

const { root, runDir, ckpt, image } = useCliWorkspace({ checkpoint: true });

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
    expectOneLineUsageError(mek('predict', '--ckpt', join(truncated, 'best.json'), image), /truncated/);
    expectOneLineUsageError(mek('predict', '--ckpt', join(root, 'absent.json'), image), /absent\.json: no such file/);
  });

  it('predict --json gives the logits of the model in memory, every time', async () => {
    const first = mek('predict', '--ckpt', ckpt, '--json', '--cams', image);
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out).toHaveLength(1);
    expect(Object.keys(out[0]).sort()).toEqual(['cams', 'image', 'label', 'logits', 'probs']);
    expect(out[0].cams).toHaveLength(7);
    expect(out[0].cams[0]).toHaveLength(7);
    expect(out[0].probs.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
    const again = JSON.parse(mek('predict', '--ckpt', ckpt, '--json', image).stdout);
    expect(again[0].logits).toEqual(out[0].logits);

    const model = Model.init(VARIANTS.swin_tiny_test, new Rng(CHECKPOINT_SEED));
    const rgb = await decodeImage(image, 56, 'bilinear');
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

describe('mek predict on awkward file names', () => {
  it('a file named -h.jpg after --, and two images of one name from two folders, each get their own heat-map', async () => {
    const dirs = [join(root, 'names', 'a'), join(root, 'names', 'b')];
    for (const d of dirs) {
      mkdirSync(d, { recursive: true });
      cpSync(image, join(d, 'face.jpg'));
    }
    cpSync(image, join(root, 'names', '-h.jpg'));
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
