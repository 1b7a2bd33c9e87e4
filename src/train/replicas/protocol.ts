// Messages between the training thread and its replica threads. Parameters and gradients do
// not travel in messages: they live in SharedArrayBuffers laid out in weights.trainable() order
// (one float32 run per trained parameter), written by one side before it posts. The training
// thread shares its parameters before every request, so a replica loads them every time.
import type { BackendName } from '../../backend.ts';
import type { MekLossOptions } from '../../mek/objective.ts';
import type { SwinVariant } from '../../model/variants.ts';

export interface ReplicaInit {
  backend: BackendName;
  variant: SwinVariant;
  /** Every stored entry (trained, frozen, buffers) at start, by name. */
  values: [string, Float32Array][];
  /** Absent for inference-only replicas. */
  loss?: MekLossOptions;
  training: boolean;
  microBatch: number;
  recompute: boolean;
  /** Trained parameters, written by the training thread before each step. */
  params: SharedArrayBuffer;
  /** This replica's gradient of its share of the batch. */
  grads: SharedArrayBuffer;
}

export type ReplicaRequest =
  | {
      kind: 'gradients';
      images: Float32Array; // [n, S, S, 3]
      labels: Int32Array;
      /** This part's share of the whole batch: both loss terms are per-sample means. */
      share: number;
      /** The loss of this step (a warm start changes it during the run). */
      loss: MekLossOptions;
      /** Seed of this step's drop-path draws, from the run's generator. */
      seed: number;
    }
  | { kind: 'infer'; images: Float32Array; chunk: number }
  | { kind: 'stop' };

export type ReplicaReply =
  | { kind: 'ready' }
  | { kind: 'gradients'; total: number; cls: number; rac: number | null }
  | { kind: 'infer'; logits: Float32Array; cams: Float32Array }
  | { kind: 'error'; message: string; stack?: string };
