// Reading the pickle of a torch.save file without running anything. A pickle names Python
// callables (GLOBAL / STACK_GLOBAL) and asks the reader to call them; pickleparser does the
// opcode work and asks us to resolve each name. Only an allow-list resolves, each to a plain
// JS function that builds data: the tensor rebuild functions (which here return a reference
// to bytes of a storage record, read later and bounds-checked), OrderedDict, the storage
// types, torch.Size and the byte-string helper of protocol 2. Any other name stops the read
// with that name, like torch.load(weights_only=True).
import { Parser } from 'pickleparser';
import type { ElementType } from '../tensor-file.ts';
import { shortRepr } from './repr.ts';

export class PickleRefusedError extends Error {
  override name = 'PickleRefusedError';
  constructor(what: string) {
    super(`its pickle names ${what}, which is not on mek's allow-list of tensor-building globals: refused (mek never runs code from a checkpoint)`);
  }
}

export class PickleFormatError extends Error {
  override name = 'PickleFormatError';
}

/** Where a tensor's elements are: a storage record and a strided view into it. */
export interface TensorRef {
  readonly kind: 'tensor';
  dtype: ElementType;
  /** Record name under `<archive>/data/`. */
  storageKey: string;
  /** Elements the storage holds, as the pickle claims. */
  storageElements: number;
  offset: number;
  shape: number[];
  stride: number[];
}

export function isTensorRef(x: unknown): x is TensorRef {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'tensor';
}

const STORAGE_TYPES: Record<string, ElementType> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

class StorageType {
  constructor(readonly dtype: ElementType) {}
}

interface Storage {
  dtype: ElementType;
  key: string;
  elements: number;
}

type Builder = (...args: unknown[]) => unknown;

function rebuildTensor(storage: unknown, offset: unknown, size: unknown, stride: unknown): TensorRef {
  const s = storage as Storage;
  if (!s || typeof s.key !== 'string') throw new Error('a tensor without a storage');
  if (!isIntList(size) || !isIntList(stride) || size.length !== stride.length || !Number.isInteger(offset)) {
    throw new Error(`tensor in storage ${s.key}: malformed size/stride/offset`);
  }
  return { kind: 'tensor', dtype: s.dtype, storageKey: s.key, storageElements: s.elements, offset: offset as number, shape: size, stride };
}

function isIntList(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((v) => Number.isInteger(v));
}

const newDict = () => new Map();
const ALLOWED: Record<string, Builder> = {
  'collections.OrderedDict': newDict,
  'torch._utils._rebuild_tensor': rebuildTensor,
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  // A Parameter is its data for reading weights.
  'torch._utils._rebuild_parameter': (data) => data,
  'torch._utils._rebuild_parameter_with_state': (data) => data,
  'torch.Size': (dims) => dims,
  // Protocol 2 writes Python bytes as _codecs.encode(latin-1 text, 'latin1').
  '_codecs.encode': (text, encoding) => {
    if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) throw new Error('unsupported _codecs.encode call');
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  },
  'builtins.set': (items) => (Array.isArray(items) ? [...items] : []),
  'builtins.frozenset': (items) => (Array.isArray(items) ? [...items] : []),
  '__builtin__.set': (items) => (Array.isArray(items) ? [...items] : []),
};
// torch.dtype objects (torch.float32, ...) appear in some metadata; they become their names.
for (const name of ['float32', 'float16', 'bfloat16', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']) {
  ALLOWED[`torch.${name}`] = () => name;
}

/**
 * Parses a torch.save pickle. Returns the object tree: dicts as Maps (keys in file order),
 * lists and tuples as arrays, tensors as TensorRefs. Throws PickleRefusedError for a global
 * outside the allow-list and Error for a malformed pickle.
 */
export function unpickleTorch(bytes: Uint8Array): unknown {
  const parser = new Parser({
    unpicklingTypeOfDictionary: 'Map',
    unpicklingTypeOfSet: 'array',
    nameResolver: { resolve: (module: string, name: string) => resolveGlobal(`${module}.${name}`) as Builder },
    persistentResolver: { resolve: storageFromId },
    extensionResolver: {
      resolve: (code: number) => {
        throw new PickleRefusedError(`extension code ${code}`);
      },
    },
  });
  try {
    return parser.parse(bytes);
  } catch (err) {
    if (err instanceof PickleRefusedError) throw err;
    throw new PickleFormatError(`data.pkl is not a readable pickle (${(err as Error).message})`);
  }
}

/** What a GLOBAL pushes: a storage type as a value, an allowed builder as a function. */
function resolveGlobal(qualified: string): Builder | StorageType {
  const storage = /^torch\.(\w+Storage)$/.exec(qualified);
  const dtype = storage ? STORAGE_TYPES[storage[1]!] : undefined;
  if (dtype) return new StorageType(dtype);
  const builder = ALLOWED[qualified];
  if (!builder) throw new PickleRefusedError(qualified);
  return function allowed(...args: unknown[]) {
    // Nothing allowed is a class: a pickle that instantiates one (INST/OBJ/NEWOBJ) is refused.
    if (new.target) throw new PickleRefusedError(`${qualified} used as a class`);
    return builder(...args);
  };
}

/** A persistent id ('storage', storage_type, key, location, numel) names a storage record. */
function storageFromId(pid: unknown): Storage {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
    throw new Error(`unsupported persistent id ${shortRepr(pid)}`);
  }
  const [, type, key, , elements] = pid as [string, unknown, unknown, unknown, unknown];
  if (!(type instanceof StorageType)) throw new PickleRefusedError(`storage of type ${String(type)}`);
  if (typeof key !== 'string' || !Number.isSafeInteger(elements) || (elements as number) < 0) {
    throw new Error(`malformed storage id ${shortRepr(pid)}`);
  }
  return { dtype: type.dtype, key, elements: elements as number };
}
