// Every file mek opens is checked before it is read: a link to /dev/zero, a FIFO or a folder is
// one line naming it (never an endless read), and a weights file must have the size its
// manifest records.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { decodeImage } from '../../src/data/decode.ts';
import { loadSplit } from '../../src/data/labels.ts';
import { defaultConfig, loadConfig } from '../../src/config/load.ts';
import { readCheckpoint } from '../../src/io/checkpoint/read.ts';
import { saveTestCheckpoint } from '../helpers/checkpoint.ts';
import { readWeightsFile } from '../../src/io/import/weights-file.ts';
import { readRegularFile } from '../../src/io/read-file.ts';
import { ParamStore } from '../../src/model/params.ts';
import { VARIANTS } from '../../src/model/variants.ts';
import { Rng } from '../../src/random.ts';

const dir = mkdtempSync(join(tmpdir(), 'mek-read-'));
const zero = join(dir, 'zero');
symlinkSync('/dev/zero', zero);
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
beforeAll(async () => {
  await selectBackend('cpu');
});
const fail = (p: string): never => {
  throw new Error(p);
};

describe('reading a file a user names', () => {
  it('refuses a device, a FIFO and a folder without reading them, and files over the bound', async () => {
    for (const path of [zero, fifo]) {
      await expect(readRegularFile(path, { maxBytes: 100, what: 'weights file' }, fail)).rejects.toThrow(/^is not a regular file \(a device or a FIFO\): a weights file must be a file$/);
    }
    await expect(readRegularFile(dir, { maxBytes: 100, what: 'weights file' }, fail)).rejects.toThrow(/^is a folder, not a file$/);
    const big = join(dir, 'big');
    writeFileSync(big, new Uint8Array(101));
    await expect(readRegularFile(big, { maxBytes: 100, what: 'image' }, fail)).rejects.toThrow(/^is 101 bytes, more than the 100 an image may have$/);
    await expect(readRegularFile(big, { maxBytes: 200, expectedBytes: 100, what: 'x' }, fail)).rejects.toThrow(/^has 101 bytes, 100 expected$/);
    expect((await readRegularFile(big, { maxBytes: 101, what: 'x' }, fail)).length).toBe(101);
  });

  it('each reader says so in its own terms: checkpoint, weights file, image, config, label file', async () => {
    await expect(readWeightsFile(zero)).rejects.toThrow(/is not a regular file/);
    await expect(readWeightsFile(fifo)).rejects.toThrow(/is not a regular file/);
    await expect(decodeImage(zero, 8, 'bilinear')).rejects.toThrow(new RegExp(`^${zero}: is not a regular file`));
    expect(() => loadConfig(fifo)).toThrow(new RegExp(`^${fifo}: is not a regular file`));
    expect(() => loadSplit({ ...defaultConfig().data, label_file: zero }, 'train')).toThrow(/data\.label_file .*zero: cannot read \(is not a regular file/);

    const store = ParamStore.init(VARIANTS.swin_tiny_test, new Rng(1));
    const json = await saveTestCheckpoint(dir, store);
    store.dispose();
    const meta = JSON.parse(readFileSync(json, 'utf8'));
    const weights = join(dir, meta.weightsManifest[0].paths[0]);
    execFileSync('rm', [weights]);
    symlinkSync('/dev/zero', weights);
    await expect(readCheckpoint(json)).rejects.toThrow(/weights file best\.[0-9a-f]{16}\.weights\.bin is not a regular file/);
  });
});
