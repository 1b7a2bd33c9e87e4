// mek's own tfjs graph as an inference engine: the model's weights and constants (a Model), each
// batch shared with replica threads where there are several (wasm computes on one thread per
// engine).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../backend.ts';
import { Model } from '../model/model.ts';
import type { ParamStore } from '../model/params.ts';
import { ReplicaPool } from '../train/replicas/pool.ts';
import type { EngineOutput, InferenceEngine } from './engine.ts';

/**
 * Images per inference forward of the tfjs graph: per-layer tidying keeps memory to one
 * block's intermediates of this many images, ~0.8 GB for Swin-T at 112 px, well inside wasm's
 * 4 GiB heap.
 */
export const EVAL_CHUNK = 16;

/** Takes ownership of `weights`: close() disposes them, the model's constants and its replica threads. */
export async function tfjsEngine(weights: ParamStore, backend: BackendInfo, threads: number): Promise<InferenceEngine> {
  const model = new Model(weights);
  const replicas = threads > 1 ? await ReplicaPool.start(threads - 1, { backend: backend.name, model, training: false, microBatch: 0, recompute: false }) : null;
  const view = tfjsEngineOver(model, replicas, `engine: tfjs (${backend.description.replace(/^backend: /, '')}${replicas ? `, ${threads} threads share each batch` : ''})`);
  return {
    ...view,
    async close() {
      await replicas?.close();
      model.dispose();
    },
  };
}

/** An engine over a model someone else owns (a training run's): close() releases nothing. */
export function tfjsEngineOver(model: Model, replicas: ReplicaPool | null, description: string): InferenceEngine {
  const size = model.variant.imgSize;
  return {
    name: 'tfjs',
    description,
    async run(images: Float32Array, n: number, withCams: boolean): Promise<EngineOutput> {
      const input = tf.tensor4d(images, [n, size, size, 3]);
      const out = replicas ? await replicas.infer(input, EVAL_CHUNK) : model.infer(input, EVAL_CHUNK);
      input.dispose();
      const logits = (await out.logits.data()) as Float32Array;
      const cams = withCams ? ((await out.cams.data()) as Float32Array) : null;
      tf.dispose([out.logits, out.cams]);
      return { logits, cams };
    },
    async close() {},
  };
}
