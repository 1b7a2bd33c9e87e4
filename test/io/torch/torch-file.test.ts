// The torch.save reader on hand-made archives: what a hostile or damaged file can claim
// (a global that would run code, a storage shorter than its tensors) is refused by name;
// what the writer produces reads back exactly, records 64-byte aligned as torch.save does.
import { describe, expect, it } from 'vitest';
import { pickleStateDict } from '../../../src/io/torch/pickle-writer.ts';
import { zipSync } from 'fflate';
import { readTorchArchive, TorchFormatError, writeTorchStateDict } from '../../../src/io/torch/torch-file.ts';
import { PickleFormatError, PickleRefusedError, unpickleTorch } from '../../../src/io/torch/unpickle.ts';
import { readZip, writeZip } from '../../../src/io/torch/zip.ts';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** PROTO 2, GLOBAL module\nname\n, ... STOP. */
function pickleCalling(module: string, name: string, arg: string): Uint8Array {
  return Uint8Array.from([
    0x80, 2,
    0x63, ...ascii(`${module}\n${name}\n`), // GLOBAL
    0x58, arg.length, 0, 0, 0, ...ascii(arg), // BINUNICODE
    0x85, // TUPLE1
    0x52, // REDUCE
    0x2e, // STOP
  ]);
}

describe('unpickling with an allow-list', () => {
  it('refuses os.system by name and runs nothing', () => {
    expect(() => unpickleTorch(pickleCalling('os', 'system', 'touch /tmp/mek-pwned'))).toThrow(PickleRefusedError);
    expect(() => unpickleTorch(pickleCalling('os', 'system', 'x'))).toThrow(/its pickle names os\.system, which is not on mek's allow-list/);
    expect(() => unpickleTorch(pickleCalling('builtins', 'eval', '1'))).toThrow(/builtins\.eval/);
  });

  it('refuses an allowed name used as a class', () => {
    // MARK, INST collections OrderedDict: instantiates a "class" from the allow-list.
    const inst = Uint8Array.from([0x80, 2, 0x28, 0x69, ...ascii('collections\nOrderedDict\n'), 0x2e]);
    expect(() => unpickleTorch(inst)).toThrow(/collections\.OrderedDict used as a class/);
  });

  it('a pickle nested 100,000 deep or a "billion laughs" of shared lists is described in bounded time and space', async () => {
    const depth = 100_000;
    // {[[[...]]]: None}: a nested list used as the only dict key
    const nested = Uint8Array.from([0x80, 2, 0x7d, ...new Array(depth).fill(0x5d), ...new Array(depth - 1).fill(0x61), 0x4e, 0x73, 0x2e]);
    const archive = writeZip([['archive/data.pkl', nested], ['archive/version', Uint8Array.of(0x33)]]);
    const { readWeightsFile } = await import('../../../src/io/import/weights-file.ts');
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'mek-pickle-')), 'nested.pt');
    writeFileSync(file, archive);
    await expect(readWeightsFile(file)).rejects.toThrow(/holds no state dict: its top-level keys are \[\[\[\[\.\.\.\]\]\]\]/);
    // 40 levels of (x, x): 2^40 leaves if stringified; used as a storage id
    const laughs = [0x80, 2, 0x5d];
    for (let i = 0; i < 40; i++) laughs.push(0x32, 0x86);
    laughs.push(0x51, 0x2e);
    const start = performance.now();
    expect(() => unpickleTorch(Uint8Array.from(laughs))).toThrow(/unsupported persistent id \[\[\[\[/);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('reports a truncated or malformed pickle as such', () => {
    const whole = pickleStateDict('state_dict_model', [['w', { shape: [2], dtype: 'float32', storageKey: '0' }]]);
    expect(() => unpickleTorch(whole.subarray(0, whole.length - 5))).toThrow(PickleFormatError);
  });
});

describe('torch.save archives', () => {
  const entries = [
    ['a.weight', { shape: [2, 3], dtype: 'float32' as const, values: [1, 2, 3, 4, 5, 6.5] }],
    ['a.index', { shape: [2], dtype: 'int64' as const, values: [7, 3_000_000_000] }],
    ['n', { shape: [], dtype: 'int64' as const, values: [0] }],
  ] as const;

  it('written state dicts read back exactly, every record 64-byte aligned', () => {
    const bytes = writeTorchStateDict('state_dict_model', entries.map(([n, t]) => [n, { ...t, shape: [...t.shape] }]));
    const archive = readTorchArchive(bytes);
    const dict = (archive.root as Map<string, Map<string, any>>).get('state_dict_model')!;
    expect([...dict.keys()]).toEqual(['a.weight', 'a.index', 'n']);
    for (const [name, t] of entries) {
      const read = archive.tensor(dict.get(name));
      expect(read.shape).toEqual(t.shape);
      expect(read.dtype).toBe(t.dtype);
      expect(Array.from(read.values)).toEqual(t.values);
    }
    // Local file headers: data starts at offset + 30 + name + extra, a multiple of 64.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    let records = 0;
    for (let at = 0; view.getUint32(at, true) === 0x04034b50; records++) {
      const size = view.getUint32(at + 18, true);
      const data = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
      expect(data % 64).toBe(0);
      at = data + size;
    }
    expect(records).toBe(6);
  });

  it('a tensor reaching past its storage, or a storage shorter than it claims, is refused', () => {
    const pickle = pickleStateDict('state_dict_model', [['w', { shape: [4], dtype: 'float32', storageKey: '0' }]]);
    // The pickle claims 4 float32 elements; the record holds 3.
    const short = writeZip([['archive/data.pkl', pickle], ['archive/data/0', new Uint8Array(12)], ['archive/version', Uint8Array.of(0x33)]]);
    const archive = readTorchArchive(short);
    const ref = (archive.root as Map<string, Map<string, any>>).get('state_dict_model')!.get('w');
    expect(() => archive.tensor(ref)).toThrow(/storage data\/0 holds 12 bytes; its 4 float32 elements need 16/);
    const past = { ...ref, shape: [3], stride: [2], storageElements: 4 };
    const full = readTorchArchive(writeZip([['archive/data.pkl', pickle], ['archive/data/0', new Uint8Array(16)]]));
    expect(() => full.tensor(past)).toThrow(/reaches element 4 of 4/);
    expect(() => full.tensor({ ...ref, storageKey: '9' })).toThrow(/storage record data\/9 is missing/);
  });

  it('a stride-0 view larger than its storage is refused before anything is allocated', () => {
    const pickle = pickleStateDict('state_dict_model', [['w', { shape: [4], dtype: 'float32', storageKey: '0' }]]);
    const archive = readTorchArchive(writeZip([['archive/data.pkl', pickle], ['archive/data/0', new Uint8Array(16)]]));
    const ref = (archive.root as Map<string, Map<string, any>>).get('state_dict_model')!.get('w');
    expect(() => archive.tensor({ ...ref, shape: [2 ** 28], stride: [0] })).toThrow(/\(268435456 elements\) over a storage of 4: repeated \(stride-0\) views are not read/);
    expect(() => archive.tensor({ ...ref, shape: [2 ** 31, 2 ** 31], stride: [0, 0] })).toThrow(TorchFormatError);
  });

  it('a compressed record that would inflate far beyond its size is refused before inflating', () => {
    const bomb = zipSync({ 'archive/data.pkl': [new Uint8Array(8 << 20), { level: 9 }] });
    expect(bomb.length).toBeLessThan(100_000);
    expect(() => readZip(bomb)).toThrow(/record archive\/data\.pkl claims 8388608 bytes from \d+ compressed: torch\.save never compresses/);
    // a mildly compressed record (a re-zipped checkpoint) still reads
    const mild = zipSync({ 'archive/data.pkl': [Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251), { level: 6 }] });
    expect(readZip(mild).get('archive/data.pkl')).toHaveLength(4096);
  });

  it('a zip whose directory claims more than a record holds is truncated', () => {
    const bytes = writeZip([['archive/data.pkl', new Uint8Array(100)]]);
    expect(readZip(bytes).get('archive/data.pkl')).toHaveLength(100);
    expect(() => readZip(bytes.subarray(0, bytes.length - 30))).toThrow(/truncated/);
  });
});
