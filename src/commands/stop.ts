// The signals that stop a training run or an ablation cleanly: Ctrl-C (SIGINT), and SIGTERM and
// SIGHUP, which cluster schedulers (Slurm, Kubernetes) and closed terminals send. The first one
// asks the run to finish its step, save last.json and exit with the conventional 128 + signal
// number; a second one quits at once.
import { constants } from 'node:os';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

export interface StopListener {
  /** The first stop signal received, or null. */
  readonly signal: StopSignal | null;
  /** 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP). */
  exitCode(): number;
  /** Stops listening (the default handlers apply again). */
  dispose(): void;
}

export function listenForStop(onFirst: (signal: StopSignal) => void): StopListener {
  let received: StopSignal | null = null;
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => {
      if (received) process.exit(128 + constants.signals[signal]); // a second signal does not wait
      received = signal;
      onFirst(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return {
    get signal() {
      return received;
    },
    exitCode: () => 128 + constants.signals[received ?? 'SIGINT'],
    dispose: () => handlers.forEach(([signal, handler]) => process.off(signal, handler)),
  };
}
