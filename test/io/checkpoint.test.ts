// Checkpoint files: bit-exact round trips (weights, optimizer moments, rng, loader position),
// saves that never damage the previous checkpoint, and one clear line for every broken file.
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { copyFile, cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { exitCodeFor, formatError } from '../../src/commands/error-report.ts';
import { CheckpointError, UsageError } from '../../src/errors.ts';
import { defaultConfig } from '../../src/config/load.ts';
import { RAFDB_CLASS_NAMES } from '../../src/config/schema.ts';
import type { CheckpointMeta, Preprocessing } from '../../src/io/checkpoint/format.ts';
import { readCheckpoint } from '../../src/io/checkpoint/read.ts';
import { saveCheckpoint, type SaveOptions } from '../../src/io/checkpoint/save.ts';
import { ParamStore } from '../../src/model/params.ts';
import { VARIANTS } from '../../src/model/variants.ts';
import { Rng } from '../../src/random.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { loadModel } from '../../src/io/import/load-model.ts';
import { rejectionOf } from '../helpers/errors.ts';
import { snapshot } from '../helpers/files.ts';

// A full disk, on demand: the file whose path matches gets half its bytes, then ENOSPC.
const fault = vi.hoisted(() => ({ failWrite: null as null | ((path: string) => boolean) }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const open = async (...args: Parameters<typeof actual.open>) => {
    const handle = await actual.open(...args);
    if (!fault.failWrite?.(String(args[0]))) return handle;
    return new Proxy(handle, {
      get(target, key) {
        if (key === 'writeFile') {
          return async (data: string | Uint8Array) => {
            const bytes = typeof data === 'string' ? Buffer.from(data) : data;
            await target.write(bytes.subarray(0, bytes.length >> 1));
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  return { ...actual, default: { ...actual, open }, open };
});

const variant = VARIANTS.swin_tiny_test;
const preprocessing: Preprocessing = { imageSize: variant.imgSize, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], interpolation: 'bilinear' };
const metrics = { accuracy: 0.5, mean_class_accuracy: 0.25, per_class: [1, 0, 0.5, null, 0, 0, 0.25], confusion: [[1, 2], [3, 4]] };
// Above Linux's PID_MAX_LIMIT (2^22): no process can have it, so its temp file is abandoned.
const DEAD_PID = 4194305;

let root: string;
let store: ParamStore;
let other: ParamStore;
let cases = 0;
const newDir = () => join(root, `case-${cases++}`);

beforeAll(async () => {
  await selectBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'mek-ckpt-'));
  store = ParamStore.init(variant, new Rng(1));
  other = ParamStore.init(variant, new Rng(7));
});

afterAll(async () => {
  store.dispose();
  other.dispose();
  await rm(root, { recursive: true, force: true });
});

afterEach(() => {
  fault.failWrite = null;
});

function options(s: ParamStore, extra: Partial<SaveOptions> = {}): SaveOptions {
  return { store: s, classes: RAFDB_CLASS_NAMES, preprocessing, step: 12, metrics, ...extra };
}

function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function expectBitIdentical(got: Map<string, Float32Array>, want: Map<string, Float32Array>): void {
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [name, data] of want) expect(bytesOf(got.get(name)!).equals(bytesOf(data)), name).toBe(true);
}

async function readMeta(path: string): Promise<CheckpointMeta> {
  return JSON.parse(await readFile(path, 'utf8')) as CheckpointMeta;
}

async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** A CheckpointError (a UsageError: exit 2) whose one-line message names `file` and matches `pattern`. */
async function expectCheckpointError(promise: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  const err = await rejectionOf(promise);
  expect(err).toBeInstanceOf(CheckpointError);
  expect(err).toBeInstanceOf(UsageError);
  expect(exitCodeFor(err)).toBe(2);
  expect(err.message).not.toMatch(/[\n\r]/);
  expect(err.message.startsWith(`checkpoint ${file}: `), err.message).toBe(true);
  expect(err.message).toMatch(pattern);
  expect(formatError(err, false)).toBe(`mek: ${err.message}`);
}

describe('checkpoint round trip', () => {
  it('keeps every weight bit-identical and the metadata intact', async () => {
    const dir = newDir();
    const config = defaultConfig();
    const path = await saveCheckpoint(dir, 'best', options(store, { config }));
    expect(path).toBe(join(dir, 'best.json'));

    const files = await listing(dir);
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^best\.[0-9a-f]{16}\.weights\.bin$/);
    expect(files[1]).toBe('best.json');

    const want = await store.values();
    const { meta, values, optimizer } = await readCheckpoint(path);
    expectBitIdentical(values, want);
    expect(optimizer).toBeUndefined();
    expect(meta.format).toBe('mek-checkpoint');
    expect(meta.version).toBe(1);
    expect(meta.step).toBe(12);
    expect(meta.architecture).toEqual(variant);
    expect(meta.classes).toEqual(RAFDB_CLASS_NAMES);
    expect(meta.preprocessing).toEqual(preprocessing);
    expect(meta.metrics).toEqual(metrics);
    expect(meta.config).toEqual(config);
    expect(Number.isNaN(Date.parse(meta.createdAt))).toBe(false);
    expect(meta.training).toBeUndefined();

    // The manifest lists every stored entry in spec order, with PyTorch names and shapes.
    const group = meta.weightsManifest[0]!;
    expect(meta.weightsManifest).toHaveLength(1);
    expect(group.paths).toEqual([files[0]]);
    expect(group.weights).toEqual(store.specs.map((s) => ({ name: s.name, shape: s.shape, dtype: 'float32' })));
    const weights = await readFile(join(dir, files[0]!));
    expect(meta.weightsBytes).toBe(weights.length);
    expect(meta.weightsSha256).toBe(createHash('sha256').update(weights).digest('hex'));
    expect(files[0]).toContain(meta.weightsSha256.slice(0, 16));

    // Number lists stay on one line; the file is readable by eye.
    const text = await readFile(path, 'utf8');
    expect(text).toContain('"shape": [16, 3, 2, 2]');
    expect(text).toContain('"mean": [0.5, 0.5, 0.5]');

    const loaded = await loadModel(path, { purpose: 'use' });
    expect(loaded.store.variant).toEqual(variant);
    expectBitIdentical(await loaded.store.values(), want);
    loaded.store.dispose();
  });

  it('keeps -0, subnormals and the largest floats bit-exact; refuses a NaN or an infinity on reading', async () => {
    const values = await store.values();
    const odd = new Map([...values].map(([k, v]) => [k, v.slice()]));
    const head = odd.get('head.bias')!;
    new Uint32Array(head.buffer).set([0x80000000, 0x00000001, 0x80000001, 0x7f7fffff]);
    const special = ParamStore.fromValues(variant, odd);
    const path = await saveCheckpoint(newDir(), 'best', options(special));
    special.dispose();
    expectBitIdentical((await readCheckpoint(path)).values, odd);
    new Uint32Array(head.buffer).set([0x7fc00001], 2);
    const nan = ParamStore.fromValues(variant, odd);
    const bad = await saveCheckpoint(newDir(), 'best', options(nan));
    nan.dispose();
    await expectCheckpointError(readCheckpoint(bad), bad, /head\.bias holds NaN \(element 2\): weights must be finite/);
  });

  it('restores AdamW moments, step, rng and loader position so training continues identically', async () => {
    const s = ParamStore.init(variant, new Rng(2));
    const opt = new AdamW(s.trainable(), { weightDecay: 0.05 });
    const rng = new Rng(3);
    const randomGrads = (r: Rng) => s.trainable().map((v) => tf.tensor(Float32Array.from({ length: v.size }, () => r.normal()), v.shape));
    for (let i = 0; i < 2; i++) {
      const grads = randomGrads(rng);
      opt.step(grads, 1e-3);
      tf.dispose(grads);
    }
    const dir = newDir();
    const path = await saveCheckpoint(dir, 'last', {
      ...options(s, { step: 2 }),
      optimizer: opt,
      rngState: rng.state(),
      loader: { epoch: 1, index: 40 },
      extra: { best: { step: 1, accuracy: 0.3 } },
    });
    const files = await listing(dir);
    expect(files).toHaveLength(3);
    expect(files.filter((f) => /^last\.[0-9a-f]{16}\.optim\.bin$/.test(f))).toHaveLength(1);
    expect(files.filter((f) => /^last\.[0-9a-f]{16}\.weights\.bin$/.test(f))).toHaveLength(1);
    expect(files).toContain('last.json');

    const ckpt = await readCheckpoint(path);
    const want = await opt.state();
    expect(ckpt.optimizer!.step).toBe(2);
    want.m.forEach((m, i) => expect(bytesOf(ckpt.optimizer!.m[i]!).equals(bytesOf(m))).toBe(true));
    want.v.forEach((v, i) => expect(bytesOf(ckpt.optimizer!.v[i]!).equals(bytesOf(v))).toBe(true));
    const trained = s.specs.filter((p) => p.kind === 'param');
    expect(ckpt.meta.training!.optimizer!.weightsManifest[0]!.weights.map((w) => w.name)).toEqual(
      trained.flatMap((p) => [`${p.name}/m`, `${p.name}/v`]),
    );
    expect(ckpt.meta.training!.loader).toEqual({ epoch: 1, index: 40 });
    expect(ckpt.meta.training!.resume).toEqual({ best: { step: 1, accuracy: 0.3 } });

    // A fresh model and optimizer from the checkpoint take the same next step as the originals.
    const { store: resumed } = await loadModel(path, { purpose: 'use' });
    const opt2 = new AdamW(resumed.trainable(), { weightDecay: 0.05 });
    opt2.loadState(ckpt.optimizer!);
    const got = await opt2.state();
    expect(got.step).toBe(want.step);
    got.m.forEach((m, i) => expect(bytesOf(m).equals(bytesOf(want.m[i]!))).toBe(true));
    got.v.forEach((v, i) => expect(bytesOf(v).equals(bytesOf(want.v[i]!))).toBe(true));
    const rng2 = new Rng(ckpt.meta.training!.rngState!);
    const grads = randomGrads(rng);
    const grads2 = randomGrads(rng2);
    opt.step(grads, 1e-3);
    opt2.step(grads2, 1e-3);
    tf.dispose([...grads, ...grads2]);
    expectBitIdentical(await resumed.values(), await s.values());

    opt.dispose();
    opt2.dispose();
    s.dispose();
    resumed.dispose();
  });

  it('a later save replaces the binaries, keeping those another checkpoint JSON still names', async () => {
    const dir = newDir();
    const path = await saveCheckpoint(dir, 'best', options(store));
    const first = (await readMeta(path)).weightsManifest[0]!.paths[0]!;
    await copyFile(path, join(dir, 'best-step12.json'));
    await saveCheckpoint(dir, 'best', options(other, { step: 20 }));
    const second = (await readMeta(path)).weightsManifest[0]!.paths[0]!;
    expect(second).not.toBe(first);
    expect(await listing(dir)).toEqual(['best-step12.json', 'best.json', first, second].sort());
    expectBitIdentical((await readCheckpoint(join(dir, 'best-step12.json'))).values, await store.values());

    await rm(join(dir, 'best-step12.json'));
    await saveCheckpoint(dir, 'best', options(other, { step: 30 }));
    expect(await listing(dir)).toEqual(['best.json', second].sort());
    const ckpt = await readCheckpoint(path);
    expect(ckpt.meta.step).toBe(30);
    expectBitIdentical(ckpt.values, await other.values());
  });
});

describe('checkpoint atomicity', () => {
  it('a crash that left a stray temp file and truncated weights reads as truncated; the next save cleans up', async () => {
    const dir = newDir();
    const path = await saveCheckpoint(dir, 'best', options(store));
    const meta = await readMeta(path);
    const weights = meta.weightsManifest[0]!.paths[0]!;
    const half = Math.floor(meta.weightsBytes / 2);
    const stray = `${weights}.tmp-${DEAD_PID}-deadbeef`;
    await writeFile(join(dir, stray), Buffer.alloc(half));
    await truncate(join(dir, weights), half);
    await expectCheckpointError(readCheckpoint(path), path, new RegExp(`weights file ${weights.replace(/\./g, '\\.')} is truncated \\(${half} of ${meta.weightsBytes} bytes\\)`));

    await saveCheckpoint(dir, 'best', options(store));
    expect(await listing(dir)).toEqual(['best.json', weights].sort());
    expectBitIdentical((await readCheckpoint(path)).values, await store.values());
  });

  it('a save whose weights write fails leaves the previous checkpoint untouched', async () => {
    const dir = newDir();
    const path = await saveCheckpoint(dir, 'best', options(store));
    const before = snapshot(dir);
    fault.failWrite = (p) => p.includes('.weights.bin.tmp-');
    expect((await rejectionOf(saveCheckpoint(dir, 'best', options(other, { step: 99 })))).message).toMatch(/ENOSPC/);
    fault.failWrite = null;
    const after = snapshot(dir); // no temp file, no new weights, the same JSON
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [file, bytes] of before) expect(after.get(file)!.equals(bytes), file).toBe(true);
    const ckpt = await readCheckpoint(path);
    expect(ckpt.meta.step).toBe(12);
    expectBitIdentical(ckpt.values, await store.values());
  });

  it('a save whose JSON write fails after its weights landed leaves the previous checkpoint usable', async () => {
    const dir = newDir();
    const path = await saveCheckpoint(dir, 'best', options(store));
    const before = snapshot(dir);
    fault.failWrite = (p) => p.includes('best.json.tmp-');
    expect((await rejectionOf(saveCheckpoint(dir, 'best', options(other, { step: 99 })))).message).toMatch(/ENOSPC/);
    fault.failWrite = null;
    const after = snapshot(dir);
    for (const [file, bytes] of before) expect(after.get(file)!.equals(bytes), file).toBe(true);
    expect(after.size).toBe(3); // the new, complete weights file, named by nobody yet
    const ckpt = await readCheckpoint(path);
    expect(ckpt.meta.step).toBe(12);
    expectBitIdentical(ckpt.values, await store.values());

    await saveCheckpoint(dir, 'best', options(other, { step: 99 }));
    expect(await listing(dir)).toEqual(['best.json', (await readMeta(path)).weightsManifest[0]!.paths[0]!].sort());
    expectBitIdentical((await readCheckpoint(path)).values, await other.values());
  });

  it('refuses inconsistent input before writing anything', async () => {
    const dir = newDir();
    await expectCheckpointError(
      saveCheckpoint(dir, 'best', options(store, { classes: ['a', 'b'] })),
      join(dir, 'best.json'),
      /"classes" has 2 names but the architecture has 7 classes/,
    );
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
  });
});

describe('checkpoint errors', () => {
  let good: string;
  let goodLast: string;

  beforeAll(async () => {
    good = await saveCheckpoint(newDir(), 'best', options(store));
    const opt = new AdamW(store.trainable());
    goodLast = await saveCheckpoint(newDir(), 'last', { ...options(store), optimizer: opt, rngState: [1, 2, 3, 4], loader: { epoch: 0, index: 8 } });
    opt.dispose();
  });

  /** A copy of the good checkpoint (JSON and binaries) in a fresh folder, its JSON edited by `edit`. */
  async function broken(edit: (meta: any, dir: string) => unknown, source = good): Promise<string> {
    const dir = newDir();
    await cp(dirname(source), dir, { recursive: true });
    const path = join(dir, basename(source));
    const meta = await readMeta(path);
    await edit(meta, dir);
    await writeFile(path, JSON.stringify(meta));
    return path;
  }

  const weightsOf = (meta: CheckpointMeta) => meta.weightsManifest[0]!;

  it('names a missing file, a folder and a file that is not JSON', async () => {
    const missing = join(root, 'nowhere', 'best.json');
    await expectCheckpointError(readCheckpoint(missing), missing, /does not exist/);
    await expectCheckpointError(readCheckpoint(root), root, /is a folder/);
    const text = join(root, 'text.json');
    await writeFile(text, 'not json {');
    await expectCheckpointError(readCheckpoint(text), text, /is not JSON/);
    // JSON.parse quotes the input it choked on; raw newlines from it must not split the line.
    const binary = join(root, 'model.json');
    await writeFile(binary, Buffer.from('PK\u0003\u0004\n\r\nabc'));
    await expectCheckpointError(readCheckpoint(binary), binary, /is not JSON/);
  });

  it('rejects other JSON and other versions', async () => {
    const other = join(root, 'other.json');
    await writeFile(other, JSON.stringify({ format: 'tfjs-layers', weightsManifest: [] }));
    await expectCheckpointError(readCheckpoint(other), other, /is not a mek checkpoint/);
    await writeFile(other, '[1, 2]');
    await expectCheckpointError(readCheckpoint(other), other, /is not a mek checkpoint/);
    const v2 = await broken((m) => {
      m.version = 2;
    });
    await expectCheckpointError(readCheckpoint(v2), v2, /unsupported checkpoint version 2 \(this mek reads version 1\)/);
  });

  it('names a missing, truncated, overlong or corrupted weights file', async () => {
    const missing = await broken((m, dir) => rm(join(dir, weightsOf(m).paths[0]!)));
    await expectCheckpointError(readCheckpoint(missing), missing, /weights file best\.[0-9a-f]{16}\.weights\.bin is missing/);

    const longer = await broken((m, dir) => writeFile(join(dir, weightsOf(m).paths[0]!), Buffer.alloc(8), { flag: 'a' }));
    const bytes = (await readMeta(good)).weightsBytes;
    await expectCheckpointError(readCheckpoint(longer), longer, new RegExp(`has ${bytes + 8} bytes, ${bytes} expected`));

    const flipped = await broken(async (m, dir) => {
      const file = join(dir, weightsOf(m).paths[0]!);
      const data = await readFile(file);
      data[1000] = data[1000]! ^ 1;
      await writeFile(file, data);
    });
    await expectCheckpointError(readCheckpoint(flipped), flipped, /weights file \S+ fails its checksum \(sha256 [0-9a-f]{16}\.\.\., recorded [0-9a-f]{16}\.\.\.\)/);
  });

  it('summarises missing, unexpected and mis-shaped manifest entries', async () => {
    const path = await broken((m) => {
      const w = weightsOf(m).weights;
      w.splice(0, 2);
      w.push({ name: 'extra.weight', shape: [3], dtype: 'float32' });
      w.find((e: { name: string }) => e.name === 'head.weight')!.shape = [7, 99];
    });
    await expectCheckpointError(
      readCheckpoint(path),
      path,
      /weights manifest does not match the architecture: 2 missing \(encoder\.patch_embed\.proj\.weight, encoder\.patch_embed\.proj\.bias\); 1 unexpected \(extra\.weight\); 1 mis-shaped \(head\.weight \[7, 99\] vs \[7, 64\]\)$/,
    );

    const many = await broken((m) => {
      weightsOf(m).weights = weightsOf(m).weights.filter((e) => !e.name.startsWith('encoder.layers.1.'));
    });
    const dropped = store.specs.filter((s) => s.name.startsWith('encoder.layers.1.')).length;
    await expectCheckpointError(
      readCheckpoint(many),
      many,
      new RegExp(`: ${dropped} missing \\(encoder\\.layers\\.1\\.blocks\\.0\\.norm1\\.weight, [^,]+, [^,]+, \\.\\.\\. ${dropped - 3} more\\)$`),
    );
  });

  it.each<[string, (m: any) => void, RegExp]>([
    ['a class count that differs from the model', (m) => m.classes.pop(), /"classes" has 6 names but the architecture has 7 classes/],
    ['an invalid architecture field', (m) => (m.architecture.depths = [2, 'x', 2]), /architecture\.depths is invalid \(\[2,"x",2\]\)/],
    ['a missing architecture field', (m) => delete m.architecture.windowSize, /architecture lacks "windowSize"/],
    ['an unknown architecture field', (m) => (m.architecture.useV2 = true), /architecture has unknown field useV2/],
    ['an unbuildable architecture', (m) => (m.architecture.imgSize = 50), /architecture is not a buildable Swin: stage 0: resolution 25 is not divisible by window 7/],
    ['an input size that differs from the model', (m) => (m.preprocessing.imageSize = 112), /preprocessing\.imageSize 112 differs from the architecture's input size 56/],
    ['an unknown interpolation', (m) => (m.preprocessing.interpolation = 'lanczos'), /preprocessing\.interpolation must be one of bilinear, bicubic, nearest/],
    ['a weights path outside the folder', (m) => (m.weightsManifest[0].paths = ['../best.json']), /weights file "\.\.\/best\.json" must be a file name in the checkpoint's folder/],
    ['several weights files', (m) => m.weightsManifest[0].paths.push('more.bin'), /weights manifest must name one file in "paths"/],
    ['a non-float32 entry', (m) => (m.weightsManifest[0].weights[0].dtype = 'int32'), /weights manifest entry encoder\.patch_embed\.proj\.weight has dtype "int32"; checkpoints store float32/],
    ['a byte count that disagrees with the manifest', (m) => (m.weightsBytes -= 4), /weights "weightsBytes" is \d+ but the manifest describes \d+ bytes/],
    ['a malformed checksum', (m) => (m.weightsSha256 = 'abc'), /weights "weightsSha256" must be 64 hex digits/],
    ['a negative step', (m) => (m.step = -1), /"step" must be a whole number >= 0, not -1/],
  ])('rejects %s', async (_, edit, pattern) => {
    const path = await broken(edit);
    await expectCheckpointError(readCheckpoint(path), path, pattern);
  });

  it('checks the training state of last.json', async () => {
    expect((await readCheckpoint(goodLast)).meta.training!.rngState).toEqual([1, 2, 3, 4]);
    const noOptim = await broken((m, dir) => rm(join(dir, m.training.optimizer.weightsManifest[0].paths[0])), goodLast);
    await expectCheckpointError(readCheckpoint(noOptim), noOptim, /optimizer file last\.[0-9a-f]{16}\.optim\.bin is missing/);
    const short = await broken((m, dir) => truncate(join(dir, m.training.optimizer.weightsManifest[0].paths[0]), 100), goodLast);
    await expectCheckpointError(readCheckpoint(short), short, /optimizer file \S+ is truncated \(100 of \d+ bytes\)/);
    const shapes = await broken((m) => m.training.optimizer.weightsManifest[0].weights.pop(), goodLast);
    await expectCheckpointError(readCheckpoint(shapes), shapes, /optimizer manifest does not match the architecture: 1 missing \(head\.bias\/v\)$/);
    const rng = await broken((m) => (m.training.rngState = [0, 0, 0, 0]), goodLast);
    await expectCheckpointError(readCheckpoint(rng), rng, /training\.rngState must be 4 unsigned 32-bit words, not all zero/);
    const loader = await broken((m) => (m.training.loader = { epoch: 1 }), goodLast);
    await expectCheckpointError(readCheckpoint(loader), loader, /training\.loader must be \{epoch, index\}/);
  });
});
