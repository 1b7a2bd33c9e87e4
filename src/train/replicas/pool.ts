// Data parallelism across threads: tfjs-wasm computes on one thread, so a batch is split into
// parts, one per core: the training thread computes the first part itself while replica
// threads (worker.ts) compute the others, each with its own tfjs engine and model copy. The
// parts' gradients, each already weighted by its share of the batch, add up to the batch's
// gradient; the training step (../step.ts) alone clips and steps AdamW, and the new parameters
// reach the replicas before their next part. Inference is split the same way.
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../../backend.ts';
import type { MekLossOptions } from '../../mek/objective.ts';
import type { FerOutput } from '../../model/fer.ts';
import type { Model } from '../../model/model.ts';
import { lossAndGradients, type Batch, type BatchGradients, type GradientContext } from '../gradients.ts';
import type { ReplicaInit, ReplicaReply, ReplicaRequest } from './protocol.ts';

export interface ReplicaOptions {
  backend: BackendName;
  /** The model the replicas copy and follow; the caller's thread computes its part with it. */
  model: Model;
  /** The training loss; absent for a pool that only runs inference. */
  loss?: MekLossOptions;
  training: boolean;
  microBatch: number;
  recompute: boolean;
}

interface Replica {
  worker: Worker;
  grads: Float32Array;
  pending: { resolve: (r: ReplicaReply) => void; reject: (e: Error) => void } | null;
}

const FLOAT_BYTES = 4;

export class ReplicaPool {
  private readonly replicas: Replica[];
  private readonly params: Float32Array;
  private readonly model: Model;

  private constructor(replicas: Replica[], params: Float32Array, model: Model) {
    this.replicas = replicas;
    this.params = params;
    this.model = model;
  }

  /** Starts `count` replica threads holding a copy of `o.model` (resolves once all are ready). */
  static async start(count: number, o: ReplicaOptions): Promise<ReplicaPool> {
    const trainable = o.model.weights.trainable();
    const floats = trainable.reduce((a, v) => a + v.size, 0);
    const params = new SharedArrayBuffer(floats * FLOAT_BYTES);
    const values = [...(await o.model.weights.values())];
    const replicas: Replica[] = [];
    for (let i = 0; i < count; i++) {
      const grads = new SharedArrayBuffer(floats * FLOAT_BYTES);
      const init: ReplicaInit = {
        backend: o.backend,
        variant: o.model.variant,
        values,
        loss: o.loss,
        training: o.training,
        microBatch: o.microBatch,
        recompute: o.recompute,
        params,
        grads,
      };
      const worker = new Worker(new URL('./boot.js', import.meta.url), { workerData: init });
      const replica: Replica = { worker, grads: new Float32Array(grads), pending: null };
      worker.on('message', (reply: ReplicaReply) => {
        const p = replica.pending;
        replica.pending = null;
        if (!p) return;
        if (reply.kind === 'error') p.reject(Object.assign(new Error(`replica thread: ${reply.message}`), { stack: reply.stack }));
        else p.resolve(reply);
      });
      worker.on('error', (err) => {
        replica.pending?.reject(err);
        replica.pending = null;
      });
      worker.on('exit', (code) => {
        replica.pending?.reject(new Error(`replica thread exited (code ${code})`));
        replica.pending = null;
      });
      replicas.push(replica);
    }
    const pool = new ReplicaPool(replicas, new Float32Array(params), o.model);
    await Promise.all(replicas.map((r) => pool.expect(r)));
    return pool;
  }

  /** Threads computing besides the caller's. */
  get size(): number {
    return this.replicas.length;
  }

  /**
   * Loss terms and gradients of the whole batch, as lossAndGradients gives them, computed in
   * parts across the caller's thread and the replicas. Each replica's drop-path seed is drawn
   * from ctx.rng, in replica order, before the caller's part draws from ctx.rng itself.
   */
  async lossAndGradients(ctx: GradientContext, batch: Batch): Promise<BatchGradients> {
    const total = batch.images.shape[0];
    const parts = splitSizes(total, this.replicas.length + 1);
    await this.shareParams();
    const s = batch.images.shape[1];
    const replies: Promise<ReplicaReply>[] = [];
    const active: Replica[] = [];
    let start = parts[0]!;
    for (const [i, replica] of this.replicas.entries()) {
      const n = parts[i + 1]!;
      if (n === 0) continue;
      const [images, labels] = await readRows(batch, start, n);
      active.push(replica);
      replies.push(
        this.send(replica, {
          kind: 'gradients',
          images,
          labels,
          share: n / total,
          loss: ctx.loss,
          seed: ctx.rng.nextUint32(),
        }),
      );
      start += n;
    }
    const own = tf.tidy(() => ({
      images: tf.slice(batch.images, [0, 0, 0, 0], [parts[0]!, s, s, 3]) as tf.Tensor4D,
      labels: tf.slice(batch.labels, [0], [parts[0]!]) as tf.Tensor1D,
    }));
    const mine = lossAndGradients(ctx, own, parts[0]! / total);
    tf.dispose([own.images, own.labels]);
    const answers = (await Promise.all(replies)) as Extract<ReplicaReply, { kind: 'gradients' }>[];
    let offset = 0;
    const grads = active.length === 0 ? mine.grads : mine.grads.map((g) => {
      const at = offset;
      offset += g.size;
      const sum = tf.tidy(() => active.reduce<tf.Tensor>((acc, r) => tf.add(acc, tf.tensor(r.grads.subarray(at, at + g.size), g.shape)), g));
      g.dispose();
      return sum;
    });
    const add = (t: tf.Scalar, x: number) => tf.tidy(() => tf.add(t, x) as tf.Scalar);
    const sumOf = (key: 'total' | 'cls' | 'rac') => answers.reduce((a, r) => a + (r[key] ?? 0), 0);
    const terms = {
      total: add(mine.terms.total, sumOf('total')),
      cls: add(mine.terms.cls, sumOf('cls')),
      rac: mine.terms.rac ? add(mine.terms.rac, sumOf('rac')) : null,
    };
    tf.dispose([mine.terms.total, mine.terms.cls, ...(mine.terms.rac ? [mine.terms.rac] : [])]);
    return { terms, grads };
  }

  /** Logits and CAMs of `images`, computed in parts across the caller's thread and the replicas. */
  async infer(images: tf.Tensor4D, chunk: number): Promise<FerOutput> {
    const total = images.shape[0];
    const parts = splitSizes(total, this.replicas.length + 1);
    await this.shareParams();
    const replies: Promise<ReplicaReply>[] = [];
    let start = parts[0]!;
    for (const [i, replica] of this.replicas.entries()) {
      const n = parts[i + 1]!;
      if (n === 0) continue;
      const rows = tf.slice(images, [start, 0, 0, 0], [n, -1, -1, -1]);
      const data = (await rows.data()) as Float32Array;
      rows.dispose();
      replies.push(this.send(replica, { kind: 'infer', images: data, chunk }));
      start += n;
    }
    const own = tf.slice(images, [0, 0, 0, 0], [parts[0]!, -1, -1, -1]);
    const mine = this.model.infer(own, chunk);
    own.dispose();
    const answers = (await Promise.all(replies)) as Extract<ReplicaReply, { kind: 'infer' }>[];
    const k = mine.logits.shape[1];
    const g = mine.cams.shape[2];
    const out = tf.tidy(() => ({
      logits: tf.concat([mine.logits, ...answers.map((a) => tf.tensor2d(a.logits, [a.logits.length / k, k]))]) as tf.Tensor2D,
      cams: tf.concat([mine.cams, ...answers.map((a) => tf.tensor4d(a.cams, [a.cams.length / (k * g * g), k, g, g]))]) as tf.Tensor4D,
    }));
    tf.dispose([mine.logits, mine.cams]);
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.replicas.map(async (r) => {
        r.worker.postMessage({ kind: 'stop' } satisfies ReplicaRequest);
        await new Promise((resolve) => r.worker.once('exit', resolve));
      }),
    );
  }

  /** The trained parameters into the shared buffer the replicas load from. */
  private async shareParams(): Promise<void> {
    let offset = 0;
    for (const v of this.model.weights.trainable()) {
      this.params.set((await v.data()) as Float32Array, offset);
      offset += v.size;
    }
  }

  private send(replica: Replica, request: ReplicaRequest): Promise<ReplicaReply> {
    const reply = this.expect(replica);
    replica.worker.postMessage(request);
    return reply;
  }

  private expect(replica: Replica): Promise<ReplicaReply> {
    if (replica.pending) throw new Error('replica is busy');
    return new Promise((resolve, reject) => (replica.pending = { resolve, reject }));
  }
}

/** `total` split into `parts` sizes that differ by at most one, larger first. */
export function splitSizes(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

async function readRows(batch: Batch, start: number, n: number): Promise<[Float32Array, Int32Array]> {
  const rows = tf.slice(batch.images, [start, 0, 0, 0], [n, -1, -1, -1]);
  const labels = tf.slice(batch.labels, [start], [n]);
  const data: [Float32Array, Int32Array] = [(await rows.data()) as Float32Array, (await labels.data()) as Int32Array];
  tf.dispose([rows, labels]);
  return data;
}
