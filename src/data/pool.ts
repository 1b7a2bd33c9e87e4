// A small pool of data workers with a queue. With zero workers, jobs run in-process (tests,
// and machines where a thread costs more than it brings).
import { Worker } from 'node:worker_threads';
import { DataError } from '../errors.ts';
import { prepareSample, type PrepareJob } from './prepare.ts';
import type { WorkerReply } from './worker.ts';

interface Pending {
  resolve: (data: Float32Array) => void;
  reject: (err: Error) => void;
}

export class PreparePool {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending & { worker: number }>();
  private nextId = 0;
  /** Set when a worker died: the pool refuses further jobs rather than hand them to it. */
  private broken: Error | null = null;

  constructor(workers: number) {
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(new URL('./worker-boot.js', import.meta.url));
      worker.on('message', (reply: WorkerReply) => this.settle(reply));
      worker.on('error', (err) => this.failAll(err));
      // An idle worker must not keep the process alive; a busy one must (see prepare/settle).
      worker.unref();
      this.workers.push(worker);
      this.load.push(0);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  prepare(job: PrepareJob): Promise<Float32Array> {
    if (this.workers.length === 0) return prepareSample(job);
    if (this.broken) return Promise.reject(this.broken);
    // Each image always goes to the same worker, so each worker's decode cache holds its own
    // share of the dataset (a hash spreads the work evenly over the workers).
    const w = pathHash(job.path) % this.workers.length;
    const id = this.nextId++;
    if (this.load[w] === 0) this.workers[w]!.ref();
    this.load[w]! += 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: w });
      this.workers[w]!.postMessage({ id, job });
    });
  }

  private settle(reply: WorkerReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    this.load[p.worker]! -= 1;
    if (this.load[p.worker] === 0) this.workers[p.worker]!.unref();
    if ('data' in reply) p.resolve(reply.data);
    else p.reject(reply.usage ? new DataError(reply.error) : new Error(reply.error));
  }

  private failAll(err: Error): void {
    this.broken = new Error(`a data worker failed: ${err.message}`);
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(this.broken);
    }
    // Nothing is in flight any more: no worker may keep the process alive.
    this.load.fill(0);
    for (const w of this.workers) w.unref();
  }

  async close(): Promise<void> {
    // terminate() settles on the worker's exit event, which an unref'd (idle) worker does not
    // keep the event loop alive for: with nothing else pending, Node would exit mid-await (code
    // 13, no message). Ref'd, the exit is awaited.
    for (const w of this.workers) w.ref();
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    const closed = new Error('the data worker pool was closed');
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(closed);
    }
  }
}

/** FNV-1a of a path: a stable worker assignment. */
function pathHash(path: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
