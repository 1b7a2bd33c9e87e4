// Reading the golden fixtures: JSON written by the PyTorch reference (scripts/reference/) and by
// the Pillow scripts beside the data tests. Tensors are base64 little-endian float32; each
// fixture's first key, "tolerance", is the bound its tests hold mek to (docs/design.md).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SwinVariant } from '../../src/model/variants.ts';

export interface EncodedTensor {
  shape: number[];
  b64: string;
}

export interface DecodedTensor {
  shape: number[];
  data: Float32Array;
}

export function decode(t: EncodedTensor): DecodedTensor {
  const bytes = Buffer.from(t.b64, 'base64');
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const expected = t.shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`fixture tensor has ${data.length} values for shape ${t.shape}`);
  return { shape: t.shape, data };
}

export function decodeAll(map: Record<string, EncodedTensor>): Map<string, Float32Array> {
  return new Map(Object.entries(map).map(([k, v]) => [k, decode(v).data]));
}

/**
 * The bound `fixture` records for `quantity`: its "tolerance" is one number for everything it
 * holds, or an object with one number per quantity. Fails loudly rather than defaulting, so a
 * test never runs without the bound its fixture states.
 */
export function toleranceOf(fixture: { tolerance?: unknown }, quantity?: string): number {
  const t = fixture.tolerance;
  const value = typeof t === 'object' && t !== null && quantity !== undefined ? (t as Record<string, unknown>)[quantity] : t;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new Error(`fixture has no tolerance${quantity ? ` for '${quantity}'` : ''}: ${JSON.stringify(t)}`);
  }
  return value;
}

export function loadFixture<T = any>(name: string): T {
  const path = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The reference's snake_case variant dict as our SwinVariant. */
export function variantFromFixture(v: Record<string, any>): SwinVariant {
  return {
    imgSize: v.img_size,
    patchSize: v.patch_size,
    inChans: v.in_chans,
    embedDim: v.embed_dim,
    depths: v.depths,
    numHeads: v.num_heads,
    windowSize: v.window_size,
    mlpRatio: v.mlp_ratio,
    qkvBias: v.qkv_bias,
    patchNorm: v.patch_norm,
    dropPathRate: v.drop_path_rate,
    numClasses: v.num_classes,
    embeddingSize: v.embedding_size,
  };
}

/** Largest |a - b| / max(1, |b|): absolute error for small values, relative for large ones. */
export function maxDeviation(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}
