// A replica: a second tfjs engine (its own wasm instance) in a worker thread, holding a copy of
// the model. It computes the loss gradient of its part of each batch, or the outputs of its
// part of an inference batch, so that a step uses every core while tfjs-wasm uses one thread.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../backend.ts';
import { Model } from '../../model/model.ts';
import { Rng } from '../../random.ts';
import { lossAndGradients, type GradientContext } from '../gradients.ts';
import type { ReplicaInit, ReplicaReply, ReplicaRequest } from './protocol.ts';

const init = workerData as ReplicaInit;
const port = parentPort!;
await selectBackend(init.backend);
const model = Model.fromValues(init.variant, new Map(init.values));
const trainable = model.weights.trainable();
const params = new Float32Array(init.params);
const grads = new Float32Array(init.grads);
// Gradients only: the training thread owns the optimizer and steps it.
const ctx: GradientContext = {
  model,
  // An inference-only replica never computes a loss.
  loss: init.loss ?? { rbl: false, eps: 0, rac: false, lambda: 0, focalGamma: 0, classWeights: [] },
  rng: new Rng(0),
  training: init.training,
  microBatch: init.microBatch,
  recompute: init.recompute,
};

function loadParams(): void {
  let offset = 0;
  for (const v of trainable) {
    const size = v.size;
    tf.tidy(() => v.assign(tf.tensor(params.subarray(offset, offset + size), v.shape)));
    offset += size;
  }
}

async function gradients(r: Extract<ReplicaRequest, { kind: 'gradients' }>): Promise<ReplicaReply> {
  if (!init.loss) throw new Error('this replica was started for inference only');
  loadParams();
  ctx.rng = new Rng(r.seed);
  ctx.loss = r.loss;
  const n = r.labels.length;
  const s = init.variant.imgSize;
  const images = tf.tensor4d(r.images, [n, s, s, 3]);
  const labels = tf.tensor1d(r.labels, 'int32');
  const { terms, grads: parts } = lossAndGradients(ctx, { images, labels }, r.share);
  tf.dispose([images, labels]);
  let offset = 0;
  for (const g of parts) {
    grads.set((await g.data()) as Float32Array, offset);
    offset += g.size;
  }
  const [total, cls, rac] = await Promise.all([terms.total, terms.cls, terms.rac].map(async (t) => (t ? (await t.data())[0]! : null)));
  tf.dispose([...parts, terms.total, terms.cls, ...(terms.rac ? [terms.rac] : [])]);
  return { kind: 'gradients', total: total!, cls: cls!, rac: rac ?? null };
}

async function infer(r: Extract<ReplicaRequest, { kind: 'infer' }>): Promise<ReplicaReply> {
  loadParams();
  const s = init.variant.imgSize;
  const images = tf.tensor4d(r.images, [r.images.length / (s * s * 3), s, s, 3]);
  const out = model.infer(images, r.chunk);
  const [logits, cams] = [(await out.logits.data()) as Float32Array, (await out.cams.data()) as Float32Array];
  tf.dispose([images, out.logits, out.cams]);
  return { kind: 'infer', logits, cams };
}

port.on('message', (r: ReplicaRequest) => {
  if (r.kind === 'stop') {
    model.dispose();
    port.close();
    return;
  }
  (r.kind === 'gradients' ? gradients(r) : infer(r)).then(
    (reply) => port.postMessage(reply),
    (err: Error) => port.postMessage({ kind: 'error', message: err.message, stack: err.stack } satisfies ReplicaReply),
  );
});
port.postMessage({ kind: 'ready' } satisfies ReplicaReply);
