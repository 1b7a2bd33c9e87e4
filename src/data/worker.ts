// A data worker: prepares samples off the main thread, so decoding and augmentation overlap
// with the training step (which holds the main thread on the wasm and cpu backends).
import { parentPort } from 'node:worker_threads';
import { prepareSample, type PrepareJob } from './prepare.ts';

export interface WorkerRequest {
  id: number;
  job: PrepareJob;
}

export type WorkerReply = { id: number; data: Float32Array } | { id: number; error: string; usage: boolean };

parentPort!.on('message', async ({ id, job }: WorkerRequest) => {
  try {
    const data = await prepareSample(job);
    parentPort!.postMessage({ id, data } satisfies WorkerReply, [data.buffer as ArrayBuffer]);
  } catch (err) {
    const usage = err instanceof Error && (err.name === 'DataError' || err.name === 'UsageError');
    parentPort!.postMessage({ id, error: err instanceof Error ? err.message : String(err), usage } satisfies WorkerReply);
  }
});
