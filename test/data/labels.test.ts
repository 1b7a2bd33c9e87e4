// The three label sources on small trees made here, their error messages, and the real RAF-DB
// label file (labels only) that mek ships in configs/rafdb/.
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/load.ts';
import type { DataConfig } from '../../src/config/schema.ts';
import { DataError } from '../../src/errors.ts';
import { loadSplit, scanDataset } from '../../src/data/labels.ts';
import { expectOneLineError, thrownBy } from '../helpers/errors.ts';
import { RAFDB_LABEL_FILE, RAFDB_TEST_COUNTS, RAFDB_TRAIN_COUNTS } from '../helpers/rafdb.ts';


const CLASSES = ['Happy', 'Sad', 'Angry'];
const temp = mkdtempSync(join(tmpdir(), 'mek-labels-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

let dirs = 0;
function freshDir(): string {
  const dir = join(temp, `case${dirs++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function writeImage(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const img = sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 200, g: 30, b: 90 } } });
  await (path.endsWith('.png') ? img.png() : img.jpeg()).toFile(path);
}

function dataConfig(overrides: Partial<DataConfig>): DataConfig {
  return { ...defaultConfig().data, classes: CLASSES, ...overrides };
}

/** The DataError `fn` throws (failing the test when it throws nothing or something else). */
const dataError = (fn: () => unknown): DataError => expectOneLineError(thrownBy(fn), DataError);

const RAFDB_LINES = ['train_00001.jpg 1', 'train_00002.jpg 3', '', 'train_00003.jpg 2', 'test_0001.jpg 2', 'test_0002.jpg 1'];

async function rafdbTree(layout: 'flat' | 'aligned', lines = RAFDB_LINES): Promise<{ dir: string; root: string; labelFile: string }> {
  const dir = freshDir();
  const root = join(dir, 'RAF');
  const labelFile = join(dir, 'labels.txt');
  writeFileSync(labelFile, lines.join('\n') + '\n');
  for (const line of lines) {
    const name = line.split(' ')[0];
    if (!name) continue;
    const stem = name.replace(/\.jpg$/, '');
    await writeImage(layout === 'flat' ? join(root, name) : join(root, 'Image', 'aligned', `${stem}_aligned.jpg`));
  }
  return { dir, root, labelFile };
}

describe('rafdb label file', () => {
  it('reads the flat layout (<root>/<name>) with 0-based labels in file order', async () => {
    const { root, labelFile } = await rafdbTree('flat');
    const cfg = dataConfig({ format: 'rafdb', root, label_file: labelFile });
    const train = loadSplit(cfg, 'train');
    expect(train.split).toBe('train');
    expect(train.samples).toEqual([
      { path: join(root, 'train_00001.jpg'), label: 0, origin: `${labelFile}:1` },
      { path: join(root, 'train_00002.jpg'), label: 2, origin: `${labelFile}:2` },
      { path: join(root, 'train_00003.jpg'), label: 1, origin: `${labelFile}:4` },
    ]);
    expect(train.counts).toEqual([1, 1, 1]);
    const test = loadSplit(cfg, 'test');
    expect(test.samples.map((s) => [s.path, s.label])).toEqual([
      [join(root, 'test_0001.jpg'), 1],
      [join(root, 'test_0002.jpg'), 0],
    ]);
    expect(test.counts).toEqual([1, 1, 0]);
  });

  it('finds the aligned layout (<root>/Image/aligned/<stem>_aligned.jpg)', async () => {
    const { root, labelFile } = await rafdbTree('aligned');
    const cfg = dataConfig({ format: 'rafdb', root, label_file: labelFile });
    const train = loadSplit(cfg, 'train');
    expect(train.samples.map((s) => s.path)).toEqual(
      ['train_00001', 'train_00002', 'train_00003'].map((s) => join(root, 'Image', 'aligned', `${s}_aligned.jpg`)),
    );
    expect(loadSplit(cfg, 'test').samples[0]!.path).toBe(join(root, 'Image', 'aligned', 'test_0001_aligned.jpg'));
  });

  it('names both paths tried, and the label line, when an image is in neither place', async () => {
    const { root, labelFile } = await rafdbTree('aligned');
    unlinkSync(join(root, 'Image', 'aligned', 'train_00002_aligned.jpg'));
    const cfg = dataConfig({ format: 'rafdb', root, label_file: labelFile });
    const err = dataError(() => loadSplit(cfg, 'train'));
    expect(err.message).toContain(`${labelFile}:2`);
    expect(err.message).toContain(join(root, 'Image', 'aligned', 'train_00002_aligned.jpg'));
    expect(err.message).toContain(join(root, 'train_00002.jpg'));
    // Without the image check the list loads; the layout still comes from the probed entries.
    expect(loadSplit(cfg, 'train', { checkImages: false }).samples[1]!.path).toBe(
      join(root, 'Image', 'aligned', 'train_00002_aligned.jpg'),
    );
  });

  it('reports a missing root, and lists without it when images are not checked', async () => {
    const { dir, labelFile } = await rafdbTree('flat');
    const cfg = dataConfig({ format: 'rafdb', root: join(dir, 'nowhere'), label_file: labelFile });
    expect(dataError(() => loadSplit(cfg, 'train')).message).toContain(`data.root ${join(dir, 'nowhere')}: no such folder`);
    expect(loadSplit(cfg, 'train', { checkImages: false }).samples[0]!.path).toBe(join(dir, 'nowhere', 'train_00001.jpg'));
  });

  it('tolerates CRLF line ends, surrounding spaces and # comments', async () => {
    const dir = freshDir();
    const labelFile = join(dir, 'labels.txt');
    writeFileSync(labelFile, '# RAF-DB basic\r\n  train_1.jpg   2 \r\ntrain_2.jpg\t1\r\ntrain_3.jpg 3\r\ntest_1.jpg 1\r\n');
    const cfg = dataConfig({ format: 'rafdb', root: dir, label_file: labelFile });
    const train = loadSplit(cfg, 'train', { checkImages: false });
    expect(train.samples.map((s) => [s.label, s.origin])).toEqual([
      [1, `${labelFile}:2`],
      [0, `${labelFile}:3`],
      [2, `${labelFile}:4`],
    ]);
  });

  it('a missing label file names it', () => {
    const cfg = dataConfig({ format: 'rafdb', label_file: join(temp, 'absent.txt') });
    expect(dataError(() => loadSplit(cfg, 'train')).message).toBe(`data.label_file ${join(temp, 'absent.txt')}: cannot read (no such file)`);
  });

  const broken: [string, string, RegExp][] = [
    ['a line without a label', 'train_00004.jpg', /:4: expected '<name> <label>'/],
    ['a label that is not a number', 'train_00004.jpg five', /:4: label 'five' is not an integer/],
    ['label 0 (the file is 1-based)', 'train_00004.jpg 0', /:4: label 0 out of range 1\.\.3 \(3 classes/],
    ['a label past the classes', 'train_00004.jpg 4', /:4: label 4 out of range 1\.\.3 \(3 classes/],
    ['a name without a split prefix', '00004.jpg 1', /:4: name '00004\.jpg' has no split prefix/],
  ];
  for (const [what, line, pattern] of broken) {
    it(`${what}: DataError naming file and line`, () => {
      const dir = freshDir();
      const labelFile = join(dir, 'labels.txt');
      writeFileSync(labelFile, ['train_00001.jpg 1', 'train_00002.jpg 2', 'train_00003.jpg 3', line, 'test_0001.jpg 1'].join('\n'));
      const cfg = dataConfig({ format: 'rafdb', root: dir, label_file: labelFile });
      const message = dataError(() => loadSplit(cfg, 'train', { checkImages: false })).message;
      expect(message.startsWith(`${labelFile}:4: `)).toBe(true);
      expect(message).toMatch(pattern);
    });
  }

  it('a split with no samples names the prefix looked for and those present', () => {
    const dir = freshDir();
    const labelFile = join(dir, 'labels.txt');
    writeFileSync(labelFile, 'train_1.jpg 1\ntrain_2.jpg 2\ntrain_3.jpg 3\ntest_1.jpg 1\n');
    const cfg = dataConfig({ format: 'rafdb', root: dir, label_file: labelFile, test_split: 'val' });
    const message = dataError(() => loadSplit(cfg, 'test', { checkImages: false })).message;
    expect(message).toContain(labelFile);
    expect(message).toContain('no samples in the test split');
    expect(message).toContain("'val_'");
    expect(message).toContain("'train', 'test'");
  });

  it('a class without training samples is named', () => {
    const dir = freshDir();
    const labelFile = join(dir, 'labels.txt');
    writeFileSync(labelFile, 'train_1.jpg 1\ntrain_2.jpg 3\ntest_1.jpg 2\n');
    const cfg = dataConfig({ format: 'rafdb', root: dir, label_file: labelFile });
    const message = dataError(() => loadSplit(cfg, 'train', { checkImages: false })).message;
    expect(message).toBe(`${labelFile}: class 'Sad' (label 2) has no training samples; every class needs at least one`);
    // A test split may lack a class.
    expect(loadSplit(cfg, 'test', { checkImages: false }).counts).toEqual([0, 1, 0]);
  });

  it('scanDataset collects every problem once, in file order', () => {
    const dir = freshDir();
    const labelFile = join(dir, 'labels.txt');
    writeFileSync(labelFile, 'train_1.jpg 1\nbad\ntrain_2.jpg 9\ntrain_3.jpg 2\ntest_1.jpg x\n');
    const cfg = dataConfig({ format: 'rafdb', root: dir, label_file: labelFile });
    const scan = scanDataset(cfg, ['train', 'test'], { checkImages: false });
    expect(scan.problems.map((p) => p.kind)).toEqual(['malformed', 'label-range', 'malformed', 'empty-class', 'empty-split']);
    expect(scan.problems.map((p) => p.message.split(': ')[0])).toEqual([
      `${labelFile}:2`,
      `${labelFile}:3`,
      `${labelFile}:5`,
      labelFile,
      labelFile,
    ]);
    expect(scan.splits.train!.counts).toEqual([1, 1, 0]);
  });
});

describe('names a label file must not hold', () => {
  it('a name listed twice, and a relative name leading out of data.root, are problems naming the lines', () => {
    const dir = freshDir();
    const labels = join(dir, 'labels.txt');
    writeFileSync(labels, ['train_1.jpg 1', 'train_2.jpg 2', 'train_1.jpg 3', '../../etc/train_x.jpg 1', 'train_3.jpg 3', 'test_1.jpg 1'].join('\n'));
    const scan = scanDataset(dataConfig({ label_file: labels, root: join(dir, 'RAF') }), ['train', 'test'], { checkImages: false });
    expect(scan.problems.map((p) => [p.kind, p.message])).toEqual([
      ['duplicate', `${labels}:3: 'train_1.jpg' is listed already at line 1`],
      ['malformed', `${labels}:4: '../../etc/train_x.jpg' leads out of data.root; list images by their path inside it`],
    ]);
    const list = join(dir, 'list.txt');
    writeFileSync(list, 'a/x.jpg 0\nb/../../y.jpg 1\n');
    expect(dataError(() => loadSplit(dataConfig({ format: 'list', root: dir, train_list: list, test_list: list }), 'train', { checkImages: false })).message).toBe(
      `${list}:2: 'b/../../y.jpg' leads out of data.root; list images by their path inside it`,
    );
  });
});

describe('list files', () => {
  async function listTree(): Promise<{ root: string; trainList: string; testList: string }> {
    const dir = freshDir();
    const root = join(dir, 'images');
    await writeImage(join(root, 'a', 'one.jpg'));
    await writeImage(join(root, 'b', 'two words.png'));
    await writeImage(join(root, 'c', 'three.jpg'));
    await writeImage(join(dir, 'elsewhere', 'abs.jpg'));
    const trainList = join(dir, 'train.txt');
    const testList = join(dir, 'test.txt');
    writeFileSync(trainList, ['# path label', 'a/one.jpg 0', '', 'b/two words.png 1', `${join(dir, 'elsewhere', 'abs.jpg')} 2`, 'c/three.jpg 2', ''].join('\n'));
    writeFileSync(testList, 'c/three.jpg 1\na/one.jpg 0\n');
    return { root, trainList, testList };
  }

  it('reads "path label" lines relative to the root, 0-based, spaces in paths allowed', async () => {
    const { root, trainList, testList } = await listTree();
    const cfg = dataConfig({ format: 'list', root, train_list: trainList, test_list: testList });
    const train = loadSplit(cfg, 'train');
    expect(train.samples).toEqual([
      { path: join(root, 'a', 'one.jpg'), label: 0, origin: `${trainList}:2` },
      { path: join(root, 'b', 'two words.png'), label: 1, origin: `${trainList}:4` },
      { path: join(dirname(root), 'elsewhere', 'abs.jpg'), label: 2, origin: `${trainList}:5` },
      { path: join(root, 'c', 'three.jpg'), label: 2, origin: `${trainList}:6` },
    ]);
    expect(train.counts).toEqual([1, 1, 2]);
    expect(loadSplit(cfg, 'test').counts).toEqual([1, 1, 0]);
  });

  it('an out-of-range label gives the 0-based range and the class count', async () => {
    const { root, trainList, testList } = await listTree();
    writeFileSync(testList, 'a/one.jpg 0\nc/three.jpg 3\n');
    const cfg = dataConfig({ format: 'list', root, train_list: trainList, test_list: testList });
    expect(dataError(() => loadSplit(cfg, 'test')).message).toBe(
      `${testList}:2: label 3 out of range 0..2 (3 classes: 0-based labels)`,
    );
  });

  it('a malformed line and a missing image name the file and line', async () => {
    const { root, trainList, testList } = await listTree();
    writeFileSync(testList, 'a/one.jpg 0\nlonely\n');
    const cfg = dataConfig({ format: 'list', root, train_list: trainList, test_list: testList });
    expect(dataError(() => loadSplit(cfg, 'test')).message).toMatch(new RegExp(`^${testList}:2: expected '<relative/path> <label>'`));
    writeFileSync(testList, 'a/one.jpg 0\na/gone.jpg 1\n');
    expect(dataError(() => loadSplit(cfg, 'test')).message).toBe(`${testList}:2: image not found at ${join(root, 'a', 'gone.jpg')}`);
  });

  it('an empty list and a missing list are DataErrors naming the file', async () => {
    const { root, trainList, testList } = await listTree();
    writeFileSync(testList, '# nothing yet\n\n');
    const cfg = dataConfig({ format: 'list', root, train_list: trainList, test_list: testList });
    expect(dataError(() => loadSplit(cfg, 'test')).message).toBe(`${testList}: no samples in the test split`);
    const missing = dataConfig({ format: 'list', root, train_list: join(root, 'nope.txt'), test_list: testList });
    expect(dataError(() => loadSplit(missing, 'train')).message).toBe(`data.train_list ${join(root, 'nope.txt')}: cannot read (no such file)`);
  });
});

describe('class folders', () => {
  async function folderTree(): Promise<string> {
    const root = freshDir();
    await writeImage(join(root, 'train', 'Happy', 'b.jpg'));
    await writeImage(join(root, 'train', 'Happy', 'a.png'));
    await writeImage(join(root, 'train', 'Sad', 'x.JPEG'));
    await writeImage(join(root, 'train', 'Angry', 'z.jpg'));
    writeFileSync(join(root, 'train', 'Angry', 'notes.txt'), 'not an image');
    writeFileSync(join(root, 'train', 'Angry', '._z.jpg'), 'macOS resource fork');
    writeFileSync(join(root, 'train', 'README.md'), 'loose files are not samples');
    await writeImage(join(root, 'test', 'Sad', 'q.jpg'));
    return root;
  }

  it('reads root/<split>/<class>/* in class order, then name order', async () => {
    const root = await folderTree();
    const cfg = dataConfig({ format: 'folder', root });
    const train = loadSplit(cfg, 'train');
    expect(train.samples.map((s) => [s.path, s.label])).toEqual([
      [join(root, 'train', 'Happy', 'a.png'), 0],
      [join(root, 'train', 'Happy', 'b.jpg'), 0],
      [join(root, 'train', 'Sad', 'x.JPEG'), 1],
      [join(root, 'train', 'Angry', 'z.jpg'), 2],
    ]);
    expect(train.samples[0]!.origin).toBe(join(root, 'train', 'Happy', 'a.png'));
    expect(train.counts).toEqual([2, 1, 1]);
    expect(loadSplit(cfg, 'test').counts).toEqual([0, 1, 0]);
  });

  it('an unknown class folder is named', async () => {
    const root = await folderTree();
    await writeImage(join(root, 'train', 'Surprised', 'y.jpg'));
    const cfg = dataConfig({ format: 'folder', root });
    expect(dataError(() => loadSplit(cfg, 'train')).message).toBe(
      `${join(root, 'train', 'Surprised')}: unknown class folder 'Surprised' (data.classes: Happy, Sad, Angry)`,
    );
  });

  it('a class without training images, an empty split and a missing split folder are named', async () => {
    const root = await folderTree();
    rmSync(join(root, 'train', 'Sad'), { recursive: true });
    const cfg = dataConfig({ format: 'folder', root });
    expect(dataError(() => loadSplit(cfg, 'train')).message).toBe(
      `${join(root, 'train')}: class 'Sad' (label 1) has no training samples; every class needs at least one`,
    );
    rmSync(join(root, 'test', 'Sad', 'q.jpg'));
    expect(dataError(() => loadSplit(cfg, 'test')).message).toMatch(new RegExp(`^${join(root, 'test')}: no samples in the test split`));
    const renamed = dataConfig({ format: 'folder', root, test_split: 'val' });
    expect(dataError(() => loadSplit(renamed, 'test')).message).toMatch(new RegExp(`^${join(root, 'val')}: no such folder`));
    const noRoot = dataConfig({ format: 'folder', root: join(root, 'absent') });
    expect(dataError(() => loadSplit(noRoot, 'train')).message).toBe(`data.root ${join(root, 'absent')}: no such folder`);
  });
});

describe('the real RAF-DB label file', () => {
  const cfg = { ...defaultConfig().data, label_file: RAFDB_LABEL_FILE, root: join(temp, 'no-images') };

  it('gives the reference counts per class and split, in file order', () => {
    const train = loadSplit(cfg, 'train', { checkImages: false });
    const test = loadSplit(cfg, 'test', { checkImages: false });
    expect(train.counts).toEqual(RAFDB_TRAIN_COUNTS);
    expect(test.counts).toEqual(RAFDB_TEST_COUNTS);
    expect(train.samples.length).toBe(12271);
    expect(test.samples.length).toBe(3068);
    expect(train.samples[0]).toEqual({ path: join(cfg.root, 'train_00001.jpg'), label: 4, origin: `${RAFDB_LABEL_FILE}:1` });
    expect(test.samples[0]!.origin).toBe(`${RAFDB_LABEL_FILE}:12272`);
  });

  it('with no images, the error names the first entry and both layouts', () => {
    mkdirSync(cfg.root, { recursive: true });
    const message = dataError(() => loadSplit(cfg, 'train')).message;
    expect(message).toBe(
      `${RAFDB_LABEL_FILE}:1: image not found at ${join(cfg.root, 'train_00001.jpg')} nor at ` +
        `${join(cfg.root, 'Image', 'aligned', 'train_00001_aligned.jpg')} (12270 more images missing)`,
    );
  });
});
