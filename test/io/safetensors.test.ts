// safetensors: nothing in the header is trusted (size capped, every range checked).
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';

function withHeader(header: object, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips float32 and int64, data 8-byte aligned', () => {
    const bytes = writeSafetensors([
      ['w', { shape: [2, 2], dtype: 'float32', values: [1, -2, 3.5, 0] }],
      ['i', { shape: [3], dtype: 'int64', values: [0, 5, 2 ** 40] }],
    ]);
    const headerBytes = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerBytes) % 8).toBe(0);
    const t = readSafetensors(bytes);
    expect([...t.keys()]).toEqual(['w', 'i']);
    expect(Array.from(t.get('w')!.values)).toEqual([1, -2, 3.5, 0]);
    expect(Array.from(t.get('i')!.values)).toEqual([0, 5, 2 ** 40]);
  });

  it('refuses a huge header, ranges outside the data, and ranges that do not match the shape', () => {
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(() => readSafetensors(huge)).toThrow(/header of 1099511627776 bytes exceeds/);
    expect(() => readSafetensors(withHeader({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)))).toThrow(
      /w: bytes 0\.\.16 lie past the end of the data \(8 bytes; truncated\?\)/,
    );
    expect(() => readSafetensors(withHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, new Uint8Array(16)))).toThrow(
      /w: 16 bytes for shape \[3\] of F32 \(12 expected\)/,
    );
    expect(() => readSafetensors(withHeader({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)))).toThrow(/shape/);
    expect(() => readSafetensors(withHeader({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)))).toThrow(/unsupported dtype "C64"/);
  });

  it('a file with a header over the cap, or cut short, is read as safetensors and says so (not "not a checkpoint")', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readWeightsFile } = await import('../../src/io/import/weights-file.ts');
    const dir = mkdtempSync(join(tmpdir(), 'mek-st-'));
    const huge = new Uint8Array(64);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    huge[8] = 0x7b;
    writeFileSync(join(dir, 'huge.safetensors'), huge);
    await expect(readWeightsFile(join(dir, 'huge.safetensors'))).rejects.toThrow(/header of 1099511627776 bytes exceeds the format's 104857600/);
    const cut = withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)).subarray(0, 20);
    writeFileSync(join(dir, 'cut.safetensors'), cut);
    await expect(readWeightsFile(join(dir, 'cut.safetensors'))).rejects.toThrow(/header of \d+ bytes but the file has 20 \(truncated\?\)/);
  });
});
