// safetensors files: an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw little-endian data. Nothing in the file is trusted:
// the header size is capped, every range must lie inside the data and match its shape.
import { decodeElements, elementCount, ELEMENT_BYTES, encodeElements, type ElementType, type TensorMap } from './tensor-file.ts';

export class SafetensorsFormatError extends Error {
  override name = 'SafetensorsFormatError';
}

// The format's own limit on the header.
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const HEADER_ALIGNMENT = 8;

const DTYPES: Record<string, ElementType> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

/**
 * Whether `bytes` starts like a safetensors file: a header length, then '{'. A header that is too
 * large or cut short still counts, so that readSafetensors can say which.
 */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 9) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n > 0n && bytes[8] === 0x7b;
}

/** Every tensor of a safetensors file, in header order. */
export function readSafetensors(bytes: Uint8Array): TensorMap {
  if (bytes.length < 8) throw new SafetensorsFormatError(`${bytes.length} bytes: too short for a safetensors header`);
  const headerBytes = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerBytes > MAX_HEADER_BYTES) throw new SafetensorsFormatError(`header of ${headerBytes} bytes exceeds the format's ${MAX_HEADER_BYTES}`);
  if (8 + headerBytes > bytes.length) throw new SafetensorsFormatError(`header of ${headerBytes} bytes but the file has ${bytes.length} (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerBytes)));
  } catch (err) {
    throw new SafetensorsFormatError(`header is not UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsFormatError('header is not a JSON object');
  const data = bytes.subarray(8 + headerBytes);
  const out: TensorMap = new Map();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof e.dtype === 'string' ? DTYPES[e.dtype] : undefined;
    if (!dtype) throw new SafetensorsFormatError(`${name}: unsupported dtype ${JSON.stringify(e.dtype)}`);
    const shape = e.shape;
    const offsets = e.data_offsets;
    if (!isCounts(shape)) throw new SafetensorsFormatError(`${name}: shape ${JSON.stringify(shape)} is not a list of sizes`);
    if (!isCounts(offsets) || offsets.length !== 2 || offsets[0]! > offsets[1]!) {
      throw new SafetensorsFormatError(`${name}: data_offsets ${JSON.stringify(offsets)} is not a [begin, end] pair`);
    }
    const [begin, end] = offsets as [number, number];
    const count = elementCount(shape);
    if (end > data.length) throw new SafetensorsFormatError(`${name}: bytes ${begin}..${end} lie past the end of the data (${data.length} bytes; truncated?)`);
    if (end - begin !== count * ELEMENT_BYTES[dtype]) {
      throw new SafetensorsFormatError(`${name}: ${end - begin} bytes for shape [${shape.join(', ')}] of ${e.dtype} (${count * ELEMENT_BYTES[dtype]} expected)`);
    }
    out.set(name, { shape, dtype, values: decodeElements(data.subarray(begin, end), dtype, null, count) });
  }
  return out;
}

function isCounts(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((v) => Number.isSafeInteger(v) && v >= 0);
}

/** A safetensors file of float32/int64 tensors, in the given order. */
export function writeSafetensors(entries: [string, { shape: number[]; dtype: 'float32' | 'int64'; values: ArrayLike<number> }][]): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const blob = encodeElements(t.values, t.dtype);
    header[name] = { dtype: t.dtype === 'float32' ? 'F32' : 'I64', shape: t.shape, data_offsets: [offset, offset + blob.length] };
    blobs.push(blob);
    offset += blob.length;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((HEADER_ALIGNMENT - ((8 + new TextEncoder().encode(json).length) % HEADER_ALIGNMENT)) % HEADER_ALIGNMENT);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const blob of blobs) {
    out.set(blob, at);
    at += blob.length;
  }
  return out;
}
