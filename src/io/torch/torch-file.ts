// torch.save zip files: reading any of them (the object tree, tensors materialised on request
// with every size, stride and offset checked against the bytes actually present) and writing
// a state dict that torch.load(weights_only=True) reads.
import { ELEMENT_BYTES, decodeElements, elementCount, encodeElements, type FileTensor } from '../tensor-file.ts';
import { pickleStateDict, type PickledTensor } from './pickle-writer.ts';
import { isTensorRef, unpickleTorch, type TensorRef } from './unpickle.ts';
import { readZip, writeZip } from './zip.ts';

export class TorchFormatError extends Error {
  override name = 'TorchFormatError';
}

export interface TorchArchive {
  /** The unpickled object: dicts as Maps, lists/tuples as arrays, tensors as TensorRefs. */
  root: unknown;
  /** The elements a tensor reference points at, checked against its storage record. */
  tensor(ref: TensorRef): FileTensor;
}

/** torch.save's zip layout: one top-level folder holding data.pkl, data/<key>, version. */
export function readTorchArchive(bytes: Uint8Array): TorchArchive {
  const records = readZip(bytes);
  const pickles = [...records.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    throw new TorchFormatError(pickles.length === 0 ? 'a zip archive without <folder>/data.pkl: not a torch.save file' : 'more than one data.pkl in the archive');
  }
  const folder = pickles[0]!.slice(0, -'data.pkl'.length);
  const byteOrder = records.get(`${folder}byteorder`);
  const littleEndian = byteOrder ? new TextDecoder().decode(byteOrder).trim() !== 'big' : true;
  const root = unpickleTorch(records.get(pickles[0]!)!);
  return {
    root,
    tensor: (ref) => {
      const record = records.get(`${folder}data/${ref.storageKey}`);
      if (!record) throw new TorchFormatError(`storage record data/${ref.storageKey} is missing from the archive`);
      return materialise(ref, record, littleEndian);
    },
  };
}

function materialise(ref: TensorRef, record: Uint8Array, littleEndian: boolean): FileTensor {
  const size = ELEMENT_BYTES[ref.dtype];
  const where = `storage data/${ref.storageKey}`;
  if (record.length !== ref.storageElements * size) {
    throw new TorchFormatError(`${where} holds ${record.length} bytes; its ${ref.storageElements} ${ref.dtype} elements need ${ref.storageElements * size}`);
  }
  const count = elementCount(ref.shape);
  if (ref.shape.some((d) => d < 0) || ref.stride.some((s) => s < 0) || ref.offset < 0) {
    throw new TorchFormatError(`${where}: negative size, stride or offset`);
  }
  // A view with more elements than its storage repeats elements (stride 0, as expand() makes);
  // state dicts never hold one, and materialising it could take any amount of memory.
  if (count > ref.storageElements) {
    throw new TorchFormatError(`${where}: a tensor of shape [${ref.shape.join(', ')}] (${count} elements) over a storage of ${ref.storageElements}: repeated (stride-0) views are not read`);
  }
  if (count > 0) {
    const last = ref.offset + ref.shape.reduce((acc, d, i) => acc + (d - 1) * ref.stride[i]!, 0);
    if (last >= ref.storageElements) {
      throw new TorchFormatError(`${where}: a tensor of shape [${ref.shape.join(', ')}] at offset ${ref.offset} reaches element ${last} of ${ref.storageElements}`);
    }
  }
  const contiguous = ref.shape.every((_, i) => ref.shape[i] === 1 || ref.stride[i] === elementCount(ref.shape.slice(i + 1)));
  const values = contiguous
    ? decodeElements(record.subarray(ref.offset * size, (ref.offset + count) * size), ref.dtype, null, count, littleEndian)
    : decodeElements(record, ref.dtype, stridedPositions(ref), count, littleEndian);
  return { shape: ref.shape, dtype: ref.dtype, values };
}

/** Storage element index of every tensor element, in row-major order. */
function stridedPositions(ref: TensorRef): Int32Array | Float64Array {
  const count = elementCount(ref.shape);
  const out = ref.storageElements < 2 ** 31 ? new Int32Array(count) : new Float64Array(count);
  const index = new Array<number>(ref.shape.length).fill(0);
  let position = ref.offset;
  for (let i = 0; i < count; i++) {
    out[i] = position;
    for (let d = ref.shape.length - 1; d >= 0; d--) {
      index[d]!++;
      position += ref.stride[d]!;
      if (index[d]! < ref.shape[d]!) break;
      position -= index[d]! * ref.stride[d]!;
      index[d] = 0;
    }
  }
  return out;
}

export { isTensorRef, type TensorRef };

export interface ExportTensor {
  shape: number[];
  dtype: 'float32' | 'int64';
  values: ArrayLike<number>;
}

/**
 * A torch.save-compatible file holding `{key: OrderedDict(entries)}`, one storage per tensor,
 * laid out as torch.save lays it out (records under `archive/`, version 3).
 */
export function writeTorchStateDict(key: string, entries: [string, ExportTensor][]): Uint8Array {
  const folder = 'archive/';
  const pickled: [string, PickledTensor][] = entries.map(([name, t], i) => [name, { shape: t.shape, dtype: t.dtype, storageKey: String(i) }]);
  const records: [string, Uint8Array][] = [
    [`${folder}data.pkl`, pickleStateDict(key, pickled)],
    [`${folder}byteorder`, new TextEncoder().encode('little')],
    ...entries.map(([, t], i): [string, Uint8Array] => [`${folder}data/${i}`, encodeElements(t.values, t.dtype)]),
    [`${folder}version`, new TextEncoder().encode('3\n')],
  ];
  return writeZip(records);
}
