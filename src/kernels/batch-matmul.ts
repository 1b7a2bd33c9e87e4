// A faster BatchMatMul for tfjs-backend-wasm. Its own kernel sends a product through XNNPACK
// only when there is one matrix pair and neither operand is transposed; every other case
// (window attention's [B*nW*heads, N, N] products, their gradients, transposed 2-D products)
// runs a plain scalar loop at ~1.5-2 GFLOP/s. batch-matmul.wat is a register-blocked SIMD
// kernel for exactly those cases; it works in place on the tfjs heap, whose memory it imports.
// The XNNPACK case (one pair, no transposes), non-float32 inputs and empty products stay with
// the original kernel.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses (not in its public types). */
interface WasmBackendLike {
  wasm: {
    asm?: { memory?: unknown };
    wasmMemory?: unknown;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

interface KernelExports {
  scratchBytes(n: number, k: number, transB: number): number;
  batchMatMul(
    a: number, b: number, c: number, scratch: number,
    batch: number, m: number, n: number, k: number,
    transA: number, transB: number, strideA: number, strideB: number,
  ): void;
}

const MARK = Symbol('mek.batchMatMul');

/** The kernel instance on each wasm backend's heap; null where that heap cannot be imported. */
const instances = new WeakMap<object, KernelExports | null>();

/** Whether BatchMatMul on wasm is this module's kernel, and runs on the active backend's heap. */
export function wasmBatchMatMulActive(): boolean {
  const kernel = tf.getKernel('BatchMatMul', 'wasm');
  return Boolean(kernel && (kernel as unknown as Record<symbol, boolean>)[MARK] && instances.get(tf.backend()));
}

/** The backend's linear memory, when it is one this module can import (not the threaded build's). */
function heapOf(backend: WasmBackendLike): WebAssembly.Memory | null {
  const memory = backend.wasm?.asm?.memory ?? backend.wasm?.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return null;
  return memory;
}

function loadModule(): WebAssembly.Module | null {
  try {
    const bytes = readFileSync(new URL('./batch-matmul.wasm', import.meta.url));
    // Invalid where the engine lacks SIMD; the original kernel then stays.
    return WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    return null; // a speed-up, never a reason for the wasm backend to fail
  }
}

/**
 * Replaces the wasm backend's BatchMatMul kernel by one that runs batched and transposed
 * products in batch-matmul.wasm and hands the rest to the kernel it replaces. Call after
 * importing @tensorflow/tfjs-backend-wasm and before (or after) tf.setBackend('wasm');
 * calling it again does nothing. Returns whether the kernel is installed (false where the
 * engine has no WebAssembly SIMD: the original kernel stays).
 */
export function installWasmBatchMatMul(): boolean {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original) return false;
  if ((original as unknown as Record<symbol, boolean>)[MARK]) return true;
  const module = loadModule();
  if (!module) return false;

  const kernelFor = (backend: WasmBackendLike): KernelExports | null => {
    let exports = instances.get(backend);
    if (exports === undefined) {
      const memory = heapOf(backend);
      exports = memory
        ? (new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports)
        : null;
      instances.set(backend, exports);
    }
    return exports;
  };

  const config: tf.KernelConfig = {
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    // setupFunc runs on every tf.setBackend('wasm'); the original's binds its C++ entry point.
    setupFunc: (backend) => {
      original.setupFunc?.(backend);
      kernelFor(backend as unknown as WasmBackendLike);
    },
    disposeFunc: original.disposeFunc,
    kernelFunc: (args) => {
      const kernel = kernelFor(args.backend as unknown as WasmBackendLike);
      const out = kernel && batchMatMul(kernel, args);
      return out ?? original.kernelFunc(args);
    },
  };
  (config as unknown as Record<symbol, boolean>)[MARK] = true;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(config);
  return true;
}

/** Runs one BatchMatMul call in the SIMD kernel; null hands it to the original kernel. */
function batchMatMul(kernel: KernelExports, args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | null {
  const a = args.inputs['a'] as tf.TensorInfo;
  const b = args.inputs['b'] as tf.TensorInfo;
  const transA = Boolean(args.attrs?.['transposeA']);
  const transB = Boolean(args.attrs?.['transposeB']);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kB = transB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kB) return null; // the original kernel reports it
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null; // the original kernel reports it
  }
  const batch = tf.util.sizeFromShape(outer);
  // One pair, no transposes: XNNPACK, faster than this kernel.
  if (batch === 1 && !transA && !transB) return null;
  if (batch === 0 || m === 0 || n === 0 || k === 0) return null;

  const backend = args.backend as unknown as WasmBackendLike;
  const out = backend.makeOutput([...outer, m, n], 'float32');
  const offset = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
  const [pa, pb, pc] = [offset(a), offset(b), offset(out)];
  const [sizeA, sizeB, sizeC] = [m * k * 4, k * n * 4, m * n * 4];
  const scratchBytes = kernel.scratchBytes(n, k, Number(transB));
  const scratch = scratchBytes > 0 ? backend.wasm._malloc(scratchBytes) : 0;
  try {
    if ((batchA === batch || batchA === 1) && (batchB === batch || batchB === 1)) {
      // Equal batch sizes mean equal shapes up to leading ones: batch i pairs with batch i.
      kernel.batchMatMul(
        pa, pb, pc, scratch, batch, m, n, k, Number(transA), Number(transB),
        batchA === 1 ? 0 : sizeA, batchB === 1 ? 0 : sizeB,
      );
    } else {
      // Both sides broadcast ([2, 1] against [1, 3]): one call per pair. (tfjs-wasm's own
      // kernel allocates max(batchA, batchB) matrices here and returns a short buffer.)
      for (let t = 0; t < batch; t++) {
        kernel.batchMatMul(
          pa + sizeA * broadcastIndex(outerA, outer, t), pb + sizeB * broadcastIndex(outerB, outer, t),
          pc + sizeC * t, scratch, 1, m, n, k, Number(transA), Number(transB), 0, 0,
        );
      }
    }
  } finally {
    if (scratch) backend.wasm._free(scratch);
  }
  return out;
}

/** The index into a batch of shape `shape` of entry t of the batch shape `full` it broadcasts to. */
function broadcastIndex(shape: number[], full: number[], t: number): number {
  let index = 0;
  let stride = 1;
  for (let d = full.length - 1, e = shape.length - 1; d >= 0; d--, e--) {
    const coord = t % full[d]!;
    t = Math.floor(t / full[d]!);
    if (e < 0) continue;
    if (shape[e]! > 1) index += coord * stride;
    stride *= shape[e]!;
  }
  return index;
}
