// `mek data longtail` from the command line: the per-class table it prints, reuse of a finished
// set, and bad input (a missing folder, a bad ratio or mode, every way an IDX file can be wrong)
// as one line naming the file, exit 2. What it writes is tested in test/data/longtail.test.ts,
// on the same tiny IDX sets (CI has no Fashion-MNIST).
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataCommand } from '../../src/commands/data.ts';
import { encodeIdx } from '../../src/data/idx.ts';
import { LABEL_FILE } from '../../src/data/synth.ts';
import { runCommands } from '../helpers/cli.ts';
import { writeFakeIdx } from '../helpers/idx.ts';

let root: string;
let src: string;
const dir = (name: string) => join(root, name);
const mek = (...args: string[]) => runCommands(args, [dataCommand]);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mek-longtail-cli-'));
  src = dir('src');
  writeFakeIdx(src, { trainPerClass: 40, testPerClass: 10, size: 6 });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('mek data longtail', () => {
  function expectOneLine(r: { code: number; stderr: string }, pattern: RegExp) {
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  }

  it('writes the set and prints the per-class table', async () => {
    const out = dir('cli');
    const r = await mek('data', 'longtail', '--from', src, '--out', out, '--ratio', '4', '--seed', '3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote a long-tailed set \(ratio 4, seed 3, test same\): 216 train \/ 50 test images/);
    expect(r.stdout).toContain(` 9  Ankle boot        10      2`);
    expect(r.stdout).toContain('imbalance (largest/smallest class): train 40/10 = 4.0, test 10/2 = 5.0');
    expect(r.stdout).toContain(join(out, LABEL_FILE));
    const again = await mek('data', 'longtail', '--from', src, '--out', out, '--ratio', '4', '--seed', '3');
    expect(again.stdout).toMatch(/already holds .*nothing to do/);
  });

  it('--counts keeps those training images per class and leaves the other classes out', async () => {
    const out = dir('counts');
    const r = await mek('data', 'longtail', '--from', src, '--out', out, '--counts', '30,5,12', '--test', 'balanced');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote a long-tailed set \(given counts, ratio 6\.00, seed 0, test balanced\): 47 train \/ 30 test images/);
    expect(r.stdout).toContain(' 1  Trouser            5     10');
    const labels = readFileSync(join(out, LABEL_FILE), 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[1]));
    expect([1, 2, 3].map((c) => labels.filter((l) => l === c).length)).toEqual([40, 15, 22]);
    expect(Math.max(...labels)).toBe(3);
    const same = await mek('data', 'longtail', '--from', src, '--out', dir('counts-same'), '--counts', '30,5,12', '--classes', 'a,b,c');
    expect(same.stdout).toMatch(/ 1  b +5 +1\n/);
  });

  it('--counts and --ratio: exactly one, counts the source can give', async () => {
    const out = dir('counts-bad');
    expectOneLine(await mek('data', 'longtail', '--from', src, '--out', out), /give one of --ratio R .* and --counts/);
    expectOneLine(await mek('data', 'longtail', '--from', src, '--out', out, '--ratio', '2', '--counts', 'rafdb'), /give one of --ratio/);
    expectOneLine(await mek('data', 'longtail', '--from', src, '--out', out, '--counts', '3,x'), /--counts 3,x: 'rafdb', or whole numbers/);
    expectOneLine(await mek('data', 'longtail', '--from', src, '--out', out, '--counts', '41,3'), /--counts asks for 41 train images of class 0 \('T-shirt\/top'\); the source has 40/);
    expectOneLine(await mek('data', 'longtail', '--from', src, '--out', out, '--counts', '3,2', '--classes', 'a,b,c'), /--counts 3,2: one whole number >= 1 per class \(3 classes\)/);
  });

  it('bad input: one line naming the file, exit 2', async () => {
    const out = dir('bad-out');
    expectOneLine(await mek('data', 'longtail', '--from', dir('nowhere'), '--out', out, '--ratio', '10'), /nowhere: no such folder/);
    expectOneLine(await mek('data', 'longtail', '--from', src, '--out', out, '--ratio', '0.9'), /^mek: --ratio must be a number >= 1 \(largest over smallest class size\), got 0\.9$/m);
    expectOneLine(await mek('data', 'longtail', '--from', src, '--out', out, '--ratio', '2', '--test', 'odd'), /Invalid values/);

    const broken = dir('broken');
    writeFakeIdx(broken, { trainPerClass: 4, testPerClass: 2, size: 4, gzipTrain: false });
    const labels = join(broken, 't10k-labels-idx1-ubyte');
    const good = readFileSync(labels);
    writeFileSync(labels, good.subarray(0, good.length - 3));
    expectOneLine(await mek('data', 'longtail', '--from', broken, '--out', out, '--ratio', '2'), /t10k-labels-idx1-ubyte: truncated: the header declares 20 = 20 bytes of data, the file holds 17/);
    writeFileSync(labels, Buffer.concat([Buffer.from([0, 0, 8, 3]), good.subarray(4)]));
    expectOneLine(await mek('data', 'longtail', '--from', broken, '--out', out, '--ratio', '2'), /t10k-labels-idx1-ubyte: not an IDX file .*magic 0x00000803/);
    writeFileSync(labels, encodeIdx([20], Uint8Array.from({ length: 20 }, (_, i) => (i === 5 ? 12 : i % 10))));
    expectOneLine(await mek('data', 'longtail', '--from', broken, '--out', out, '--ratio', '2'), /t10k-labels-idx1-ubyte: label 12 at index 5 is not a class \(10 classes: labels 0\.\.9\)/);
    writeFileSync(labels, encodeIdx([19], new Uint8Array(19)));
    expectOneLine(await mek('data', 'longtail', '--from', broken, '--out', out, '--ratio', '2'), /t10k-labels-idx1-ubyte: 19 labels for the 20 images of .*t10k-images-idx3-ubyte/);
    await rm(labels);
    expectOneLine(await mek('data', 'longtail', '--from', broken, '--out', out, '--ratio', '2'), /broken: no t10k-labels-idx1-ubyte \(looked for t10k-labels-idx1-ubyte, t10k-labels-idx1-ubyte\.gz, /);
  });
});

