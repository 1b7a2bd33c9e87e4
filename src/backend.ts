// Picks the TensorFlow.js backend: native tensors through tfjs-node-gpu where that package
// installed, else WebAssembly, else plain JavaScript. Every backend registers itself with the
// one @tensorflow/tfjs-core instance that the rest of mek imports, so tensors made anywhere
// in the process live in the same engine.
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './errors.ts';
import { installWasmBatchMatMul } from './kernels/batch-matmul.ts';

export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendChoice = BackendName | 'auto';

export interface BackendInfo {
  name: BackendName;
  /** GPU devices the native backend sees; empty on wasm and cpu. */
  gpus: string[];
  /** One line for the console, e.g. "backend: wasm (SIMD, 1 thread)". */
  description: string;
}

interface LoadResult {
  ok: boolean;
  reason?: string;
}

const loaded = new Map<BackendName, LoadResult>();

// Production mode silences tfjs's console hints (the cpu backend's "install tfjs-node" banner
// would point users at the wrong package); mek prints its own backend line instead.
tf.enableProdMode();

async function registerTensorflow(): Promise<void> {
  // An optional dependency: npm drops it where its libtensorflow download fails, and the
  // import then fails here. The module name is built at run time so that type checking and
  // bundlers never require it to be present.
  const moduleName = ['@tensorflow', 'tfjs-node-gpu'].join('/');
  await import(moduleName);
  if (!tf.findBackend('tensorflow')) {
    throw new Error(
      'tfjs-node-gpu loaded but registered no "tensorflow" backend with this tfjs-core ' +
        `(${tf.version_core}); two copies of @tensorflow/tfjs-core are installed`,
    );
  }
}

async function registerWasm(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  shareIdentityOnWasm();
  installWasmBatchMatMul(); // batched and transposed products in SIMD (src/kernels/)
}

/**
 * tfjs clones every tensor it saves for the backward pass (engine.clone -> Identity). The cpu
 * backend's Identity shares the buffer; wasm's copies it, which doubled training memory and
 * cost ~15% of a step here. Tensors are immutable (variables swap buffers on assign), so the
 * wasm Identity can share too, the way its own Reshape kernel does.
 */
function shareIdentityOnWasm(): void {
  if (tf.getKernel('Identity', 'wasm')) tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs['x'] as tf.TensorInfo;
      (backend as unknown as { incRef(id: tf.DataId): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}

async function registerCpu(): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
}

const registrars: Record<BackendName, () => Promise<void>> = {
  tensorflow: registerTensorflow,
  wasm: registerWasm,
  cpu: registerCpu,
};

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}

/** Imports a backend's package and initialises it; remembers the outcome. Never throws. */
export async function tryLoadBackend(name: BackendName): Promise<LoadResult> {
  const known = loaded.get(name);
  if (known) return known;
  let result: LoadResult;
  try {
    await registrars[name]();
    // setBackend initialises it (compiles the wasm module, opens the GPU) and reports failure
    // as false or by throwing, depending on the backend.
    const ok = await tf.setBackend(name);
    result = ok ? { ok: true } : { ok: false, reason: `tf.setBackend('${name}') returned false` };
  } catch (err) {
    result = { ok: false, reason: missingPackageHint(name, firstLine(err)) };
  }
  loaded.set(name, result);
  return result;
}

function missingPackageHint(name: BackendName, reason: string): string {
  // Only the package itself missing means "not installed"; a missing file inside an installed
  // package (say, a native binding whose install script never ran) is reported as it is.
  if (name === 'tensorflow' && /Cannot find (module|package) '@tensorflow\/tfjs-node-gpu'/.test(reason)) {
    return (
      '@tensorflow/tfjs-node-gpu is not installed (it is optional; npm skips it where its ' +
      'libtensorflow download fails). See README "GPU setup"'
    );
  }
  return reason;
}

async function describe(name: BackendName): Promise<BackendInfo> {
  const gpus = name === 'tensorflow' ? await listGpus() : [];
  let detail = '';
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    detail = ` (${simd ? 'SIMD' : 'no SIMD'}, ${wasm.getThreadsCount()} thread${wasm.getThreadsCount() === 1 ? '' : 's'})`;
  } else if (name === 'tensorflow') {
    detail = gpus.length ? ` (GPU: ${gpus.join(', ')})` : ' (no GPU visible: running on CPU)';
  }
  return { name, gpus, description: `backend: ${name}${detail}` };
}

async function listGpus(): Promise<string[]> {
  // tfjs-node-gpu exposes no device list; a CUDA-visible GPU shows up in nvidia-smi.
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], (err, stdout) => {
      resolve(err ? [] : stdout.split('\n').map((s) => s.trim()).filter(Boolean));
    });
  });
}

/**
 * Makes `choice` the active backend. 'auto' takes the first of tensorflow > wasm > cpu that
 * loads; an explicit name that cannot load is a BackendError naming the reason.
 */
export async function selectBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (choice !== 'auto') {
    if (!BACKEND_NAMES.includes(choice)) {
      throw new BackendError(`unknown backend '${choice}'; choose one of auto, ${BACKEND_NAMES.join(', ')}`);
    }
    const result = await tryLoadBackend(choice);
    if (!result.ok) throw new BackendError(`backend '${choice}' cannot be loaded: ${result.reason}`);
    await tf.setBackend(choice);
    return describe(choice);
  }
  for (const name of BACKEND_NAMES) {
    const result = await tryLoadBackend(name);
    if (result.ok) {
      await tf.setBackend(name);
      return describe(name);
    }
  }
  throw new BackendError('no TensorFlow.js backend could be loaded (tried tensorflow, wasm, cpu)');
}

/** Availability of every backend, for `mek doctor`; the backend active before stays active. */
export async function probeBackends(): Promise<Record<BackendName, LoadResult>> {
  const before = tf.getBackend();
  const out = {} as Record<BackendName, LoadResult>;
  for (const name of BACKEND_NAMES) out[name] = await tryLoadBackend(name);
  if (before && tf.findBackend(before)) await tf.setBackend(before);
  return out;
}
