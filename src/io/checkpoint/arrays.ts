// The binary files of a checkpoint: float32 arrays back to back in manifest order,
// little-endian as tfjs and PyTorch write them, with the sha256 that names the file.
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import type { WeightEntry } from './format.ts';

export const BYTES_PER_VALUE = 4;
// A big-endian host swaps on the way in and out.
const BIG_ENDIAN = endianness() === 'BE';

export interface Packed {
  bytes: Buffer;
  weights: WeightEntry[];
  sha256: string;
}

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export function pack(arrays: NamedArray[]): Packed {
  const total = arrays.reduce((n, a) => n + a.data.length * BYTES_PER_VALUE, 0);
  const bytes = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const a of arrays) {
    if (a.data.length !== sizeOf(a.shape)) {
      throw new Error(`${a.name}: ${a.data.length} values for shape [${a.shape.join(', ')}]`);
    }
    bytes.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), offset);
    offset += a.data.byteLength;
  }
  if (BIG_ENDIAN) bytes.swap32();
  return {
    bytes,
    weights: arrays.map((a) => ({ name: a.name, shape: a.shape, dtype: 'float32' })),
    sha256: sha256(bytes),
  };
}

/** The arrays `entries` describe, in order, from `bytes` (which a big-endian host swaps in place). */
export function unpack(bytes: Buffer, entries: WeightEntry[]): Map<string, Float32Array> {
  if (BIG_ENDIAN) bytes.swap32();
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const entry of entries) {
    const data = new Float32Array(sizeOf(entry.shape));
    new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + data.byteLength));
    offset += data.byteLength;
    out.set(entry.name, data);
  }
  return out;
}

export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
