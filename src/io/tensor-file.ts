// What every weights-file reader (PyTorch zip, safetensors, our checkpoints) hands on: named
// tensors with their shape, their element type in the file and the values as numbers. Floats
// of any width arrive as float32 (what the model computes in); integers as float64, which
// holds every int64 index buffer a Swin checkpoint stores exactly.

export type ElementType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export interface FileTensor {
  shape: number[];
  /** The element type as stored in the file. */
  dtype: ElementType;
  values: Float32Array | Float64Array;
}

/** Named tensors in file order. */
export type TensorMap = Map<string, FileTensor>;

export const ELEMENT_BYTES: Record<ElementType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export function isFloating(dtype: ElementType): boolean {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16' || dtype === 'float64';
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** IEEE 754 half precision to a JS number (subnormals, infinities and NaN included). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * Reads `count` elements of `dtype` starting at element `first` of `bytes`, at the element
 * positions `index(i)` (element units), into a new array: float32 for floating types,
 * float64 for integers. `littleEndian` is the file's byte order.
 */
export function decodeElements(
  bytes: Uint8Array,
  dtype: ElementType,
  positions: ArrayLike<number> | null,
  count: number,
  littleEndian = true,
): Float32Array | Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = ELEMENT_BYTES[dtype];
  const at = positions ? (i: number) => positions[i]! * size : (i: number) => i * size;
  const le = littleEndian;
  const floating = isFloating(dtype);
  const out = floating ? new Float32Array(count) : new Float64Array(count);
  if (dtype === 'float32' && positions === null && le && bytes.byteOffset % 4 === 0) {
    out.set(new Float32Array(bytes.buffer, bytes.byteOffset, count));
    return out;
  }
  for (let i = 0; i < count; i++) {
    const o = at(i);
    switch (dtype) {
      case 'float32': out[i] = view.getFloat32(o, le); break;
      case 'float64': out[i] = view.getFloat64(o, le); break;
      case 'float16': out[i] = halfToNumber(view.getUint16(o, le)); break;
      // bfloat16 is the top half of a float32.
      case 'bfloat16': out[i] = bfloatToNumber(view.getUint16(o, le)); break;
      case 'int64': out[i] = Number(view.getBigInt64(o, le)); break;
      case 'int32': out[i] = view.getInt32(o, le); break;
      case 'int16': out[i] = view.getInt16(o, le); break;
      case 'int8': out[i] = view.getInt8(o); break;
      case 'uint8': out[i] = view.getUint8(o); break;
      case 'bool': out[i] = view.getUint8(o) ? 1 : 0; break;
    }
  }
  return out;
}

const bfloatScratch = new DataView(new ArrayBuffer(4));
function bfloatToNumber(b: number): number {
  bfloatScratch.setUint32(0, b << 16);
  return bfloatScratch.getFloat32(0);
}

/** Little-endian bytes of `values` as `dtype` ('float32' or 'int64', what exports write). */
export function encodeElements(values: ArrayLike<number>, dtype: 'float32' | 'int64'): Uint8Array {
  const size = ELEMENT_BYTES[dtype];
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    if (dtype === 'float32') view.setFloat32(i * size, values[i]!, true);
    else view.setBigInt64(i * size, BigInt(Math.round(values[i]!)), true);
  }
  return bytes;
}
