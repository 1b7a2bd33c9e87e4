// `mek data synth` from the command line: it prints what it wrote, reuses an identical dataset,
// and refuses, in one line, to overwrite another one without --force. What it writes is tested
// in test/data/synth.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataCommand } from '../../src/commands/data.ts';
import { LABEL_FILE, synthCounts, synthesizeDataset } from '../../src/data/synth.ts';
import { runCommands } from '../helpers/cli.ts';

const HAPPINESS = 3;
const SIZE = 120;
const PX = 48;

let root: string;
const dir = (name: string) => join(root, name);
const mek = (...args: string[]) => runCommands(args, [dataCommand]);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mek-synth-cli-'));
  await synthesizeDataset({ out: dir('other'), seed: 1, size: SIZE, imageSize: PX });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('mek data synth', () => {
  it('writes a dataset and prints counts per class and split', async () => {
    const out = dir('cli');
    const r = await mek('data', 'synth', '--out', out, '--size', '100', '--image-size', String(PX), '--seed', '4');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote 100 synthetic faces/);
    const { train, test } = synthCounts(100);
    expect(r.stdout).toContain(`Happiness${String(train[HAPPINESS]).padStart(10)}${String(test[HAPPINESS]).padStart(7)}`);
    expect(r.stdout).toContain(join(out, LABEL_FILE));
    const again = await mek('data', 'synth', '--out', out, '--size', '100', '--image-size', String(PX), '--seed', '4');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already holds .*nothing to do/);
  });

  it('exits 2 with one line when --out holds another dataset', async () => {
    const r = await mek('data', 'synth', '--out', dir('other'), '--size', String(SIZE), '--image-size', String(PX), '--seed', '9');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--force/);
  });
});

