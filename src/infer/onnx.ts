// ONNX Runtime (onnxruntime-node, native CPU kernels; CUDA where its provider is installed) on
// mek's exported graph as an inference engine. The package is loaded on first use only, so
// that a platform where its native binding cannot load still runs everything on tfjs.
import { UsageError } from '../errors.ts';
import type { EngineOutput, InferenceEngine } from './engine.ts';

type Ort = typeof import('onnxruntime-node');

export type OnnxDevice = 'cpu' | 'cuda';

let loading: Promise<Ort | Error> | null = null;

/** onnxruntime-node, or the reason it cannot load on this machine. */
export function loadOrt(): Promise<Ort | Error> {
  loading ??= import('onnxruntime-node').then(
    (ort) => {
      // Its native log would otherwise print multi-line errors beside mek's one line.
      ort.env.logLevel = 'fatal';
      return ort;
    },
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  return loading;
}

/** "1.30.0", and the execution providers this build can use (cpu always; cuda when installed). */
export async function ortVersion(): Promise<{ version: string; providers: string[] } | Error> {
  const ort = await loadOrt();
  if (ort instanceof Error) return ort;
  const backends = ort.listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }];
  return { version: ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown', providers: backends.filter((b) => b.bundled).map((b) => b.name) };
}

/** A session on `model` (ONNX file bytes). A model ORT cannot read is `fail`'s one line. */
export async function onnxEngine(model: Uint8Array, opts: { threads: number; device: OnnxDevice; what: string }): Promise<InferenceEngine> {
  const ort = await loadOrt();
  if (ort instanceof Error) throw new UsageError(`onnxruntime-node cannot be loaded on this machine (${ort.message.split('\n')[0]}); use --engine tfjs`);
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, {
      executionProviders: [opts.device],
      intraOpNumThreads: opts.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 4,
    });
  } catch (err) {
    const why = (err as Error).message.split('\n')[0]!.replace(/\x1b\[[0-9;]*m/g, '');
    if (opts.device === 'cuda') {
      throw new UsageError(`the CUDA execution provider of ONNX Runtime is not installed or cannot start (${why}); README "GPU setup" says how to install it, or use --device cpu`);
    }
    throw new UsageError(`${opts.what}: ONNX Runtime cannot read it (${why})`);
  }
  const input = session.inputNames[0]!;
  const version = await ortVersion();
  return {
    name: 'onnx',
    description: `engine: onnxruntime-node${version instanceof Error ? '' : ` ${version.version}`} (${opts.device}, ${opts.threads} thread${opts.threads === 1 ? '' : 's'})`,
    async run(images: Float32Array, n: number, withCams: boolean): Promise<EngineOutput> {
      const size = Math.round(Math.sqrt(images.length / n / 3));
      const feeds = { [input]: new ort.Tensor('float32', toNchw(images, n, size), [n, 3, size, size]) };
      // Only the outputs asked for are computed.
      const out = await session.run(feeds, withCams ? ['logits', 'cams'] : ['logits']);
      return { logits: out['logits']!.data as Float32Array, cams: withCams ? (out['cams']!.data as Float32Array) : null };
    },
    async close() {
      await session.release();
    },
  };
}

/** [n, S, S, 3] -> [n, 3, S, S]. */
export function toNchw(nhwc: Float32Array, n: number, size: number): Float32Array {
  const out = new Float32Array(nhwc.length);
  const plane = size * size;
  for (let b = 0; b < n; b++) {
    const src = b * plane * 3;
    for (let p = 0; p < plane; p++) {
      out[src + p] = nhwc[src + p * 3]!;
      out[src + plane + p] = nhwc[src + p * 3 + 1]!;
      out[src + 2 * plane + p] = nhwc[src + p * 3 + 2]!;
    }
  }
  return out;
}
