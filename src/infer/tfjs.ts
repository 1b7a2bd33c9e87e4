// mek's own tfjs graph as an inference engine: the model in a ParamStore, each batch shared with
// replica threads where there are several (wasm computes on one thread per engine).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../backend.ts';
import { ferInference } from '../model/fer.ts';
import type { ParamStore } from '../model/params.ts';
import { SwinConstants } from '../model/swin.ts';
import { EVAL_CHUNK } from '../train/evaluate.ts';
import { ReplicaPool } from '../train/replicas/pool.ts';
import type { EngineOutput, InferenceEngine } from './engine.ts';

/** Takes ownership of `store`: close() disposes it, its constants and its replica threads. */
export async function tfjsEngine(store: ParamStore, backend: BackendInfo, threads: number): Promise<InferenceEngine> {
  const consts = new SwinConstants(store.variant);
  const replicas = threads > 1 ? await ReplicaPool.start(threads - 1, { backend: backend.name, store, training: false, microBatch: 0, recompute: false }) : null;
  const view = tfjsEngineOver(store, consts, replicas, `engine: tfjs (${backend.description.replace(/^backend: /, '')}${replicas ? `, ${threads} threads share each batch` : ''})`);
  return {
    ...view,
    async close() {
      await replicas?.close();
      consts.dispose();
      store.dispose();
    },
  };
}

/** An engine over a model someone else owns (a training run's): close() releases nothing. */
export function tfjsEngineOver(store: ParamStore, consts: SwinConstants, replicas: ReplicaPool | null, description: string): InferenceEngine {
  const size = store.variant.imgSize;
  return {
    name: 'tfjs',
    description,
    async run(images: Float32Array, n: number, withCams: boolean): Promise<EngineOutput> {
      const input = tf.tensor4d(images, [n, size, size, 3]);
      const out = replicas ? await replicas.infer(store.params, input, consts, EVAL_CHUNK) : ferInference(store.params, input, consts, EVAL_CHUNK);
      input.dispose();
      const logits = (await out.logits.data()) as Float32Array;
      const cams = withCams ? ((await out.cams.data()) as Float32Array) : null;
      tf.dispose([out.logits, out.cams]);
      return { logits, cams };
    },
    async close() {},
  };
}
