// The pickle of an exported state dict: `{key: OrderedDict(name -> tensor)}` in protocol 2,
// torch.save's default, using only the globals and opcodes that torch.load(weights_only=True)
// accepts. Tensors are written as torch does: _rebuild_tensor_v2 over a persistent id that
// names a storage record (`data/<key>`), contiguous, offset 0, requires_grad False.

export interface PickledTensor {
  shape: number[];
  dtype: 'float32' | 'int64';
  /** Record name under `<archive>/data/`. */
  storageKey: string;
}

const OP = {
  PROTO: 0x80,
  STOP: 0x2e,
  GLOBAL: 0x63,
  MARK: 0x28,
  TUPLE: 0x74,
  EMPTY_TUPLE: 0x29,
  EMPTY_DICT: 0x7d,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  REDUCE: 0x52,
  BINPERSID: 0x51,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG1: 0x8a,
  BINUNICODE: 0x58,
  NEWFALSE: 0x89,
} as const;

const STORAGE_NAMES = { float32: 'FloatStorage', int64: 'LongStorage' } as const;

class PickleBuilder {
  private chunks: number[] = [];

  op(code: number): this {
    this.chunks.push(code);
    return this;
  }

  bytes(data: Uint8Array): this {
    for (const b of data) this.chunks.push(b);
    return this;
  }

  global(module: string, name: string): this {
    return this.op(OP.GLOBAL).bytes(new TextEncoder().encode(`${module}\n${name}\n`));
  }

  text(s: string): this {
    const data = new TextEncoder().encode(s);
    return this.op(OP.BINUNICODE).uint32(data.length).bytes(data);
  }

  int(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`cannot pickle ${n}`);
    if (n < 0x100) return this.op(OP.BININT1).op(n);
    if (n < 0x10000) return this.op(OP.BININT2).op(n & 0xff).op(n >> 8);
    if (n < 0x80000000) return this.op(OP.BININT).uint32(n);
    // LONG1: little-endian two's complement, with a zero byte keeping it positive.
    const le: number[] = [];
    for (let v = BigInt(n); v > 0n; v >>= 8n) le.push(Number(v & 0xffn));
    if (le[le.length - 1]! & 0x80) le.push(0);
    return this.op(OP.LONG1).op(le.length).bytes(Uint8Array.from(le));
  }

  intTuple(values: number[]): this {
    this.op(OP.MARK);
    for (const v of values) this.int(v);
    return this.op(OP.TUPLE);
  }

  emptyOrderedDict(): this {
    return this.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE).op(OP.REDUCE);
  }

  tensor(t: PickledTensor): this {
    const elements = t.shape.reduce((a, b) => a * b, 1);
    const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    this.global('torch._utils', '_rebuild_tensor_v2').op(OP.MARK);
    this.op(OP.MARK).text('storage').global('torch', STORAGE_NAMES[t.dtype]).text(t.storageKey).text('cpu').int(elements);
    this.op(OP.TUPLE).op(OP.BINPERSID);
    this.int(0).intTuple(t.shape).intTuple(strides).op(OP.NEWFALSE).emptyOrderedDict();
    return this.op(OP.TUPLE).op(OP.REDUCE);
  }

  private uint32(n: number): this {
    return this.op(n & 0xff).op((n >>> 8) & 0xff).op((n >>> 16) & 0xff).op((n >>> 24) & 0xff);
  }

  build(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** The pickle of `{key: OrderedDict(entries)}`. */
export function pickleStateDict(key: string, entries: [string, PickledTensor][]): Uint8Array {
  const p = new PickleBuilder().op(OP.PROTO).op(2).op(OP.EMPTY_DICT).text(key).emptyOrderedDict();
  p.op(OP.MARK);
  for (const [name, tensor] of entries) p.text(name).tensor(tensor);
  return p.op(OP.SETITEMS).op(OP.SETITEM).op(OP.STOP).build();
}
