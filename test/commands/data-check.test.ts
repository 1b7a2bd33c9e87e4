// `mek data check`: the report on the real RAF-DB label file (counts and weights of
// docs/method.md, images absent but not fatal), problems collected and exit 2, in process and
// through the real `node bin/mek.js`.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDataCheck, runDataCheck, type DataCheckReport } from '../../src/commands/data-check.ts';
import { dataCommand } from '../../src/commands/data.ts';
import { loadConfig } from '../../src/config/load.ts';
import { runCommands, spawnMek as mek } from '../helpers/cli.ts';
import { RAFDB_BALANCE_WEIGHTS, RAFDB_LABEL_FILE, RAFDB_TEST_COUNTS, RAFDB_TRAIN_COUNTS } from '../helpers/rafdb.ts';

const temp = mkdtempSync(join(tmpdir(), 'mek-data-check-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
// An image root that does not exist, so the result does not depend on a local dataset/.
const NO_IMAGES = join(temp, 'no-images');

function brokenLabelFile(): string {
  const lines = readFileSync(RAFDB_LABEL_FILE, 'utf8').split('\n');
  lines[2] = 'train_00003.jpg 8';
  lines.push('test_3069.jpg');
  const file = join(temp, 'broken.txt');
  writeFileSync(file, lines.join('\n'));
  return file;
}

// In process, as `mek data check` runs from cli.ts.
const inProcess = (args: string[]) => runCommands(args, [dataCommand]);

describe('data check on the real RAF-DB label file', () => {
  const sets = [`data.label_file=${RAFDB_LABEL_FILE}`, `data.root=${NO_IMAGES}`];

  it('reports the reference counts, totals and balance weights, and every image absent', () => {
    const r = runDataCheck(loadConfig(undefined, sets));
    expect(r.splits.train.counts).toEqual(RAFDB_TRAIN_COUNTS);
    expect(r.splits.test.counts).toEqual(RAFDB_TEST_COUNTS);
    expect([r.splits.train.total, r.splits.test.total]).toEqual([12271, 3068]);
    expect(r.weights).toHaveLength(7);
    r.weights!.forEach((w, k) => expect(Math.abs(w - RAFDB_BALANCE_WEIGHTS[k]!)).toBeLessThan(1e-6));
    expect(r.imbalance_ratio).toBeCloseTo(4772 / 281, 10);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.missing_images).toBe(15339);
    expect(r.splits.train.images.root_missing).toBe(true);
    expect(r.splits.train.images.first_missing[0]).toEqual({
      origin: `${RAFDB_LABEL_FILE}:1`,
      tried: [join(NO_IMAGES, 'train_00001.jpg'), join(NO_IMAGES, 'Image', 'aligned', 'train_00001_aligned.jpg')],
    });

    const text = formatDataCheck(r);
    expect(text).toMatch(/ 1\s+Fear\s+281\s+74\s+4\.36690391\n/);
    expect(text).toMatch(/total\s+12271\s+3068\n/);
    expect(text).toContain('imbalance ratio (max/min train count): 16.98 (Happiness 4772 / Fear 281)');
    expect(text).toContain(`train: 12271 of 12271 missing (the image root ${NO_IMAGES} does not exist; looked for`);
    expect(text).toContain('problems: none');
  });

  it('with the normaliser set to the class count, the weights follow it', () => {
    const r = runDataCheck(loadConfig(undefined, [...sets, 'loss.balance_normaliser=classes']));
    r.weights!.forEach((w, k) => expect(w).toBeCloseTo((RAFDB_BALANCE_WEIGHTS[k]! * 10) / 7, 6));
  });

  it('with data.val_fraction: the validation column, and the weights, prior and DRW weights of what training draws from', () => {
    const r = runDataCheck(loadConfig(undefined, [...sets, 'data.val_fraction=0.1', 'loss.drw_step=10']));
    // round(0.1 n) of each class: 70.5 rounds up
    expect(r.validation).toEqual({ fraction: 0.1, seed: 2048, counts: [129, 28, 72, 477, 198, 71, 252] });
    const trained = RAFDB_TRAIN_COUNTS.map((n, k) => n - r.validation!.counts[k]!);
    const total = trained.reduce((a, b) => a + b, 0);
    r.weights!.forEach((w, k) => expect(w).toBeCloseTo(total / (10 * trained[k]!), 10));
    r.prior!.forEach((p, k) => expect(p).toBeCloseTo(trained[k]! / total, 12));
    expect(r.drw_weights!.reduce((a, b) => a + b, 0)).toBeCloseTo(7, 10);
    const text = formatDataCheck(r);
    expect(text).toMatch(/ 1\s+Fear\s+253\s+28\s+74\s+/);
    expect(text).toContain('validation split: data.val_fraction 0.1 of each training class, drawn with train.seed 2048; training uses the rest');
    expect(text).toContain('class prior training sees');
    expect(text).toContain("deferred re-weighting's class weights");
  });

  it('collects a bad line and an out-of-range label, and the command exits 2', async () => {
    const file = brokenLabelFile();
    const r: DataCheckReport = runDataCheck(loadConfig(undefined, [`data.label_file=${file}`, `data.root=${NO_IMAGES}`]));
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.message)).toEqual([
      `${file}:3: label 8 out of range 1..7 (7 classes: 1-based labels)`,
      `${file}:15340: expected '<name> <label>' (like 'train_00001.jpg 5'), got 'test_3069.jpg'`,
    ]);
    expect(r.splits.train.total).toBe(12270);

    const out = await inProcess(['data', 'check', '--set', `data.label_file=${file}`, '--set', `data.root=${NO_IMAGES}`]);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(`mek: data check found 2 problems; the first: ${file}:3: label 8 out of range 1..7 (7 classes: 1-based labels)\n`);
    expect(out.stdout).toContain('problems: 2');
  });

  it('--json prints one object; exit 0 with images absent', async () => {
    const out = await inProcess(['data', 'check', '--json', ...sets.flatMap((s) => ['--set', s])]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const r = JSON.parse(out.stdout) as DataCheckReport;
    expect(r.splits.train.counts).toEqual(RAFDB_TRAIN_COUNTS);
    expect(r.missing_images).toBe(15339);
    expect(r.ok).toBe(true);
  });
});

describe('data check on other problems', () => {
  it('a few missing images under an existing root: reported with the detected layout, exit 0', async () => {
    const root = join(temp, 'RAF');
    const aligned = join(root, 'Image', 'aligned');
    mkdirSync(aligned, { recursive: true });
    const names = ['train_1', 'train_2', 'train_3', 'test_1'];
    for (const n of names.slice(0, 3)) await sharp({ create: { width: 2, height: 2, channels: 3, background: '#808080' } }).jpeg().toFile(join(aligned, `${n}_aligned.jpg`));
    const labels = join(temp, 'small.txt');
    writeFileSync(labels, names.map((n, i) => `${n}.jpg ${(i % 3) + 1}`).join('\n'));
    const sets = [`data.label_file=${labels}`, `data.root=${root}`, 'data.classes=[a, b, c]'];
    const r = runDataCheck(loadConfig(undefined, sets));
    expect(r.ok).toBe(true);
    expect(r.missing_images).toBe(1);
    expect(r.splits.test.images.first_missing).toEqual([
      // The layout is detected per split; with none of its images found, both are tried.
      { origin: `${labels}:4`, tried: [join(root, 'test_1.jpg'), join(aligned, 'test_1_aligned.jpg')] },
    ]);
    const text = formatDataCheck(r);
    expect(text).toContain(`train: 3 of 3 found at ${join(aligned, '<stem>_aligned.jpg')}`);
    expect(text).toContain(`test: 1 of 1 missing (looked for ${root}/<name> or ${join(aligned, '<stem>_aligned.jpg')})`);
    expect((await inProcess(['data', 'check', ...sets.flatMap((s) => ['--set', s])])).code).toBe(0);
  });

  it('decodes every image present: a corrupt one is a problem naming its line (exit 2); --quick only looks for files', async () => {
    const root = join(temp, 'RAF-corrupt');
    mkdirSync(root, { recursive: true });
    const names = ['train_1', 'train_2', 'train_3', 'test_1'];
    for (const n of names) await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).jpeg().toFile(join(root, `${n}.jpg`));
    writeFileSync(join(root, 'train_2.jpg'), 'not a jpeg');
    const labels = join(temp, 'corrupt.txt');
    writeFileSync(labels, names.map((n, i) => `${n}.jpg ${(i % 3) + 1}`).join('\n'));
    const sets = ['--set', `data.label_file=${labels}`, '--set', `data.root=${root}`, '--set', 'data.classes=[a, b, c]'];
    const full = await inProcess(['data', 'check', ...sets]);
    expect(full.code).toBe(2);
    expect(full.stderr.trim()).toMatch(new RegExp(`^mek: data check found 1 problem; the first: ${labels.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: .*train_2\\.jpg`));
    expect(full.stdout).toContain('images: all present; 4 decoded, 1 not');
    const quick = await inProcess(['data', 'check', '--quick', ...sets]);
    expect(quick.code).toBe(0);
    expect(quick.stdout).toContain('images: all present (existence only: --quick)');
  });

  it('a missing label file is a problem (exit 2), not a crash', async () => {
    const out = await inProcess(['data', 'check', '--set', `data.label_file=${join(temp, 'absent.txt')}`, '--set', `data.root=${NO_IMAGES}`]);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(`mek: data check found 1 problem; the first: data.label_file ${join(temp, 'absent.txt')}: cannot read (no such file)\n`);
    expect(out.stdout).toContain('balance weights: cannot be computed');
  });

  it('a bad config is a config error (exit 2)', async () => {
    const out = await inProcess(['data', 'check', '--set', 'data.fromat=list']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("unknown key 'data.fromat'");
  });
});

describe('node bin/mek.js data check', () => {
  it('prints the report and exits 0 on the real label file; 2 on a broken one', async () => {
    const [good, bad] = await Promise.all([
      mek('data', 'check', '--set', `data.label_file=${RAFDB_LABEL_FILE}`, '--set', `data.root=${NO_IMAGES}`),
      mek('data', 'check', '--json', '--set', `data.label_file=${brokenLabelFile()}`, '--set', `data.root=${NO_IMAGES}`),
    ]);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/ 3\s+Happiness\s+4772\s+1185\s+0\.25714585\n/);
    expect(good.stdout).toContain('images: 15339 missing');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(bad.stdout).problems).toHaveLength(2);
  });
});
