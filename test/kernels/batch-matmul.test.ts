// The SIMD BatchMatMul kernel on the wasm backend (src/kernels/batch-matmul.*): products for
// every transpose combination and awkward sizes against a float64 reference, broadcasting,
// the cases it hands back to tfjs's own kernel, gradients, tensor bookkeeping, and the
// committed binary against its source.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // gradients
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { wasmBatchMatMulActive } from '../../src/kernels/batch-matmul.ts';
import { assemble, kernelPath } from '../../src/kernels/build.ts';
import { Rng } from '../../src/random.ts';

function randomArray(rng: Rng, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.normal();
  return out;
}

/** Index into a batch of shape `outer` for each index of the broadcast batch shape `full`. */
function broadcastIndex(outer: number[], full: number[], t: number): number {
  let index = 0;
  let stride = 1;
  for (let d = full.length - 1; d >= 0; d--) {
    const coord = t % full[d]!;
    t = Math.floor(t / full[d]!);
    const od = d - (full.length - outer.length);
    if (od < 0) continue;
    if (outer[od]! > 1) index += coord * stride;
    stride *= outer[od]!;
  }
  return index;
}

/**
 * op(A) x op(B) in float64 for every matrix pair after broadcasting the batch shapes, with
 * the scale of float32 summation error (sum |a||b|) beside each value.
 */
function reference(
  a: Float32Array, b: Float32Array, outerA: number[], outerB: number[],
  m: number, n: number, k: number, ta: boolean, tb: boolean,
): { value: Float64Array; magnitude: Float64Array } {
  const full = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = full.reduce((x, y) => x * y, 1);
  const value = new Float64Array(batch * m * n);
  const magnitude = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    const ao = broadcastIndex(outerA, full, t) * m * k;
    const bo = broadcastIndex(outerB, full, t) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let g = 0;
        for (let p = 0; p < k; p++) {
          const x = a[ao + (ta ? p * m + i : i * k + p)]!;
          const y = b[bo + (tb ? j * k + p : p * n + j)]!;
          s += x * y;
          g += Math.abs(x * y);
        }
        value[(t * m + i) * n + j] = s;
        magnitude[(t * m + i) * n + j] = g;
      }
    }
  }
  return { value, magnitude };
}

/** Largest |actual - expected| in units of the float32 summation scale sum |a||b|. */
function worstError(actual: ArrayLike<number>, ref: { value: Float64Array; magnitude: Float64Array }): number {
  expect(actual.length).toBe(ref.value.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - ref.value[i]!) / (ref.magnitude[i]! + 1e-30));
  }
  return worst;
}

/** Runs tf.matMul on wasm for the given batch shapes and checks it against the reference. */
function check(
  rng: Rng, outerA: number[], outerB: number[], m: number, n: number, k: number, ta: boolean, tb: boolean,
): void {
  const batchA = outerA.reduce((x, y) => x * y, 1);
  const batchB = outerB.reduce((x, y) => x * y, 1);
  const aData = randomArray(rng, batchA * m * k);
  const bData = randomArray(rng, batchB * k * n);
  const a = tf.tensor(aData, [...outerA, ...(ta ? [k, m] : [m, k])]);
  const b = tf.tensor(bData, [...outerB, ...(tb ? [n, k] : [k, n])]);
  const c = tf.matMul(a, b, ta, tb);
  const label = `${JSON.stringify(a.shape)} x ${JSON.stringify(b.shape)} ta=${ta} tb=${tb}`;
  expect(c.shape, label).toEqual([...tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB), m, n]);
  // float32 summation over k <= 50 terms stays far below 1e-6 of sum |a||b|.
  expect(worstError(c.dataSync(), reference(aData, bData, outerA, outerB, m, n, k, ta, tb)), label).toBeLessThan(1e-6);
  tf.dispose([a, b, c]);
}

const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];
const SIZES = [1, 3, 7, 16, 49, 50];

describe('BatchMatMul on wasm (SIMD kernel)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('is installed by selectBackend and runs on the tfjs heap', () => {
    expect(wasmBatchMatMulActive()).toBe(true);
  });

  it.each(TRANSPOSES)('every M, N, K in {1, 3, 7, 16, 49, 50}, transposeA=%s transposeB=%s', (ta, tb) => {
    const rng = new Rng(ta ? (tb ? 4 : 3) : tb ? 2 : 1);
    const batches = [1, 2, 5];
    let round = 0;
    for (const m of SIZES) {
      for (const n of SIZES) {
        for (const k of SIZES) {
          const batch = batches[round++ % batches.length]!;
          check(rng, [batch], [batch], m, n, k, ta, tb);
        }
      }
    }
  });

  it.each(TRANSPOSES)('window-attention sizes, batch up to 300, transposeA=%s transposeB=%s', (ta, tb) => {
    const rng = new Rng(11);
    for (const [batch, m, n, k] of [
      [300, 49, 49, 32],
      [300, 49, 32, 49],
      [97, 16, 16, 16],
      [13, 50, 7, 3],
    ] as const) {
      check(rng, [batch], [batch], m, n, k, ta, tb);
    }
  });

  it('rank 4 and broadcasting of one matrix against many', () => {
    const rng = new Rng(5);
    for (const [ta, tb] of TRANSPOSES) {
      check(rng, [2, 3], [2, 3], 7, 9, 5, ta, tb);
      check(rng, [], [6], 7, 9, 5, ta, tb); // rank 2 x rank 3
      check(rng, [6], [], 7, 9, 5, ta, tb);
      check(rng, [1], [4], 49, 16, 16, ta, tb);
      check(rng, [4, 2], [1], 3, 50, 16, ta, tb);
    }
  });

  it('broadcasting on both sides (which tfjs-wasm\'s own kernel gets wrong)', () => {
    const rng = new Rng(6);
    for (const [ta, tb] of TRANSPOSES) {
      check(rng, [2, 1], [1, 3], 4, 5, 6, ta, tb);
      check(rng, [3, 1, 2], [4, 1], 9, 3, 17, ta, tb);
    }
  });

  it('hands one untransposed pair to the original kernel (XNNPACK)', () => {
    const rng = new Rng(9);
    check(rng, [], [], 30, 20, 10, false, false);
    check(rng, [1], [1], 30, 20, 10, false, false);
    expect(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([3, 5, 6]))).toThrow();
  });

  it('2-D products with a transposed operand', () => {
    const rng = new Rng(7);
    for (const [ta, tb] of TRANSPOSES.slice(1)) check(rng, [], [], 3, 2401, 50, ta, tb);
  });

  it('tf.grad of a batched product matches the cpu backend', async () => {
    const rng = new Rng(8);
    const aData = randomArray(rng, 24 * 49 * 16);
    const bData = randomArray(rng, 24 * 49 * 16);
    const wData = randomArray(rng, 24 * 49 * 49);
    const gradients = (ta: boolean, tb: boolean) => {
      const a = tf.tensor3d(aData, ta ? [24, 16, 49] : [24, 49, 16]);
      const b = tf.tensor3d(bData, tb ? [24, 49, 16] : [24, 16, 49]);
      const w = tf.tensor3d(wData, [24, 49, 49]);
      const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, ta, tb), w));
      const [da, db] = tf.grads(f)([a, b]);
      const out = [da!.dataSync(), db!.dataSync()];
      tf.dispose([a, b, w, da!, db!]);
      return out;
    };
    for (const [ta, tb] of TRANSPOSES) {
      const onWasm = gradients(ta, tb);
      await selectBackend('cpu');
      const onCpu = gradients(ta, tb);
      await selectBackend('wasm');
      for (let g = 0; g < 2; g++) {
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < onCpu[g]!.length; i++) {
          worst = Math.max(worst, Math.abs(onWasm[g]![i]! - onCpu[g]![i]!));
          scale = Math.max(scale, Math.abs(onCpu[g]![i]!));
        }
        expect(worst / scale, `ta=${ta} tb=${tb} gradient ${g}`).toBeLessThan(1e-5);
      }
    }
  });

  it('keeps working after the tfjs heap grows', () => {
    const memory = (tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory } } }).wasm.asm.memory;
    const rng = new Rng(10);
    check(rng, [4], [4], 9, 10, 11, false, true); // instantiated before the growth
    const size = memory.buffer.byteLength;
    const held: tf.Tensor[] = [];
    while (memory.buffer.byteLength === size && held.length < 64) held.push(tf.zeros([4 << 20])); // 16 MiB each
    expect(memory.buffer.byteLength).toBeGreaterThan(size);
    for (const [ta, tb] of TRANSPOSES) check(rng, [3], [3], 17, 13, 21, ta, tb); // tensors past the old end
    tf.dispose(held);
  });

  it('leaves no tensors or buffers behind', () => {
    const a = tf.randomNormal([40, 49, 32]);
    const b = tf.randomNormal([40, 49, 32]);
    const run = () => {
      tf.matMul(a, b, false, true).dispose(); // [40, 49, 49], B packed
      tf.matMul(a, b, true, false).dispose(); // [40, 32, 32], no scratch
      tf.matMul(tf.reshape(a, [40 * 49, 32]), tf.reshape(b, [40 * 49, 32]), true, false).dispose(); // 2-D
    };
    run();
    const before = tf.memory();
    const dataIds = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) tf.tidy(run);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    tf.dispose([a, b]);
  });
});

describe('batch-matmul.wasm', () => {
  it('is the build of batch-matmul.wat (npm run build:kernels)', async () => {
    const source = readFileSync(kernelPath('batch-matmul.wat'), 'utf8');
    const built = await assemble('batch-matmul.wat', source);
    expect(Buffer.from(built).equals(readFileSync(kernelPath('batch-matmul.wasm')))).toBe(true);
  });
});
