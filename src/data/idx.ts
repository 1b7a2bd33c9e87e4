// The IDX format of MNIST and Fashion-MNIST (LeCun's "ubyte" files), as the long-tailed
// benchmark reads it: a 4-byte magic (two zero bytes, a type code, the number of dimensions),
// one big-endian uint32 per dimension, then the values in row-major order. Only unsigned bytes
// (type 0x08) occur in these datasets, so only they are accepted. Distributions ship the files
// gzipped (Debian's dataset-fashion-mnist: `train-images-idx3-ubyte.gz`) or plain; gzip is
// recognised by its magic bytes, not the name. Every problem is a DataError naming the file.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors.ts';

/** Type code of unsigned bytes, the only one MNIST-style datasets use. */
const UBYTE = 0x08;

export interface IdxArray {
  /** Size of each dimension, e.g. [60000, 28, 28]. */
  dims: number[];
  /** The values, row-major. */
  data: Uint8Array;
}

/** Parses IDX bytes; `file` names the source in messages; `rank` is the expected number of dimensions. */
export function parseIdx(bytes: Uint8Array, file: string, rank: number): IdxArray {
  const expected = `0x000008${rank.toString(16).padStart(2, '0')}`;
  if (bytes.length < 4) throw new DataError(`${file}: not an IDX file (${bytes.length} bytes, shorter than the 4-byte header)`);
  const magic = `0x${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== UBYTE || bytes[3] !== rank) {
    const what = rank === 1 ? 'labels' : rank === 3 ? 'images' : `${rank} dimensions`;
    throw new DataError(`${file}: not an IDX file of unsigned bytes with ${rank} dimension${rank === 1 ? '' : 's'} (magic ${magic}; expected ${expected}, ${what})`);
  }
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw new DataError(`${file}: truncated: ${bytes.length} bytes, shorter than the ${header}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const held = bytes.length - header;
  if (held < size) {
    throw new DataError(`${file}: truncated: the header declares ${dims.join(' x ')} = ${size} bytes of data, the file holds ${held}`);
  }
  if (held > size) {
    throw new DataError(`${file}: ${held - size} bytes after the ${dims.join(' x ')} values the header declares (not an IDX file, or a damaged one)`);
  }
  return { dims, data: bytes.subarray(header) };
}

/** Reads an IDX file, gunzipping it first when it starts with the gzip magic. */
export function readIdx(file: string, rank: number): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(`${file}: cannot read (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder, not a file' : code ?? String(err)})`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      throw new DataError(`${file}: cannot gunzip (${message}); the file is damaged or truncated`);
    }
  }
  return parseIdx(bytes, file, rank);
}

/** IDX bytes for `dims` and `data` (tests write tiny datasets with it). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = UBYTE;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}
