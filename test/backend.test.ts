// Backend selection as it behaves on this machine: the native backend only where the optional
// @tensorflow/tfjs-node-gpu package installed, wasm otherwise.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { probeBackends, selectBackend, type BackendChoice } from '../src/backend.ts';
import { BackendError } from '../src/errors.ts';

function resolvable(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

const hasNodeGpu = resolvable('@tensorflow/tfjs-node-gpu');

/** A small op on the active backend, read back, so "selected" means "computes". */
async function addOnActiveBackend(): Promise<number[]> {
  const sum = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4]));
  const values = Array.from(await sum.data());
  sum.dispose();
  return values;
}

describe('selectBackend', () => {
  it(`auto picks ${hasNodeGpu ? 'tensorflow (tfjs-node-gpu installed)' : 'wasm (tfjs-node-gpu absent)'}`, async () => {
    const info = await selectBackend('auto');
    expect(info.name).toBe(hasNodeGpu ? 'tensorflow' : 'wasm');
    expect(tf.getBackend()).toBe(info.name);
    expect(info.description).toMatch(new RegExp(`^backend: ${info.name}`));
  });

  it.each(['cpu', 'wasm'] as const)('explicit %s is selected and computes', async (name) => {
    const info = await selectBackend(name);
    expect(info.name).toBe(name);
    expect(info.gpus).toEqual([]);
    expect(tf.getBackend()).toBe(name);
    expect(await addOnActiveBackend()).toEqual([4, 6]);
  });

  it.skipIf(hasNodeGpu)('explicit tensorflow without tfjs-node-gpu is a BackendError saying so', async () => {
    const before = tf.getBackend();
    const attempt = selectBackend('tensorflow');
    await expect(attempt).rejects.toBeInstanceOf(BackendError);
    await expect(attempt).rejects.toThrow(/tfjs-node-gpu is not installed/);
    expect(tf.getBackend()).toBe(before);
  });

  it.runIf(hasNodeGpu)('explicit tensorflow is selected where tfjs-node-gpu installed', async () => {
    const info = await selectBackend('tensorflow');
    expect(info.name).toBe('tensorflow');
    expect(await addOnActiveBackend()).toEqual([4, 6]);
  });

  it('an unknown name is a BackendError listing the choices', async () => {
    const attempt = selectBackend('gpu' as BackendChoice);
    await expect(attempt).rejects.toBeInstanceOf(BackendError);
    await expect(attempt).rejects.toThrow(/unknown backend 'gpu'.*auto, tensorflow, wasm, cpu/);
  });
});

describe('probeBackends', () => {
  it('reports every backend and leaves the active one active', async () => {
    await selectBackend('cpu');
    const probe = await probeBackends();
    expect(probe.cpu).toEqual({ ok: true });
    expect(probe.wasm).toEqual({ ok: true });
    expect(probe.tensorflow.ok).toBe(hasNodeGpu);
    if (!hasNodeGpu) expect(probe.tensorflow.reason).toMatch(/not installed/);
    expect(tf.getBackend()).toBe('cpu');
  });
});
