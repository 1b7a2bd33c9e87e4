// Describing a value read from a pickle in an error message. A pickle can hold a list nested
// 100,000 deep or a "billion laughs" of shared references (each level holding the one below
// twice): String() or JSON.stringify of such a value overflows the stack or runs for minutes.
// This walks a bounded number of nodes to a bounded depth, whatever the value holds.
import type { TensorRef } from './unpickle.ts';

const MAX_NODES = 24;
const MAX_DEPTH = 3;
const MAX_ITEMS = 4;
const MAX_STRING = 40;

export function shortRepr(value: unknown, maxChars = 100): string {
  let nodes = 0;
  const walk = (v: unknown, depth: number): string => {
    if (++nodes > MAX_NODES) return '...';
    if (typeof v === 'string') return JSON.stringify(v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}...` : v);
    if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
    if (typeof v === 'object' && (v as { kind?: unknown }).kind === 'tensor') {
      const shape = (v as TensorRef).shape;
      return `tensor[${shape.slice(0, MAX_ITEMS).join(', ')}${shape.length > MAX_ITEMS ? ', ...' : ''}]`;
    }
    if (Array.isArray(v)) {
      if (depth >= MAX_DEPTH) return v.length === 0 ? '[]' : '[...]';
      const items = v.slice(0, MAX_ITEMS).map((x) => walk(x, depth + 1));
      return `[${items.join(', ')}${v.length > MAX_ITEMS ? ', ...' : ''}]`;
    }
    if (v instanceof Map) return `{dict of ${v.size}}`;
    if (v instanceof Uint8Array) return `bytes(${v.length})`;
    return typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
  };
  const text = walk(value, 0);
  return text.length > maxChars ? `${text.slice(0, maxChars)}...` : text;
}
