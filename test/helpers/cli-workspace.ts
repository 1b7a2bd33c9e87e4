// What the spawned-CLI tests act on: a temp folder with a small synthetic dataset in RAF-DB's
// layout and, for the commands that take --ckpt, a checkpoint of the tiny test model saved the
// way a run saves one. Each test file makes its own, so the files can run in parallel.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { defaultConfig } from '../../src/config/load.ts';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { ParamStore } from '../../src/model/params.ts';
import { VARIANTS } from '../../src/model/variants.ts';
import { Rng } from '../../src/random.ts';
import { saveTestCheckpoint } from './checkpoint.ts';

/** The checkpoint's weights are ParamStore.init(swin_tiny_test, new Rng(CHECKPOINT_SEED)). */
export const CHECKPOINT_SEED = 11;

export interface CliWorkspace {
  /** A fresh temp folder; tests put what they make under it. */
  root: string;
  /** The synthetic faces: 100 images of 48 px. */
  data: string;
  /** The run folder the checkpoint is saved in. */
  runDir: string;
  /** The checkpoint, `<runDir>/best.json` (with `checkpoint: true` only). */
  ckpt: string;
  /** One test image of the dataset. */
  image: string;
}

/**
 * A new workspace; its files are written in a beforeAll of the calling test file. The paths
 * are known at once, so tests can name them at the top level.
 */
export function useCliWorkspace({ checkpoint }: { checkpoint: boolean }): CliWorkspace {
  const root = mkdtempSync(join(tmpdir(), 'mek-cli-'));
  const data = join(root, 'faces');
  const runDir = join(root, 'run');
  const ws = { root, data, runDir, ckpt: join(runDir, 'best.json'), image: join(data, 'Image', 'aligned', 'test_0001_aligned.jpg') };
  beforeAll(async () => {
    await synthesizeDataset({ out: data, seed: 5, size: 100, imageSize: 48 });
    if (!checkpoint) return;
    // saving reads the weights back from a tfjs backend
    await selectBackend('wasm');
    const store = ParamStore.init(VARIANTS.swin_tiny_test, new Rng(CHECKPOINT_SEED));
    const cfg = defaultConfig();
    cfg.model.variant = 'swin_tiny_test';
    cfg.data.root = data;
    cfg.data.label_file = join(data, 'list_patition_label.txt');
    const saved = await saveTestCheckpoint(runDir, store, { config: cfg });
    store.dispose();
    if (saved !== ws.ckpt) throw new Error(`the checkpoint was saved as ${saved}, not ${ws.ckpt}`);
  }, 120_000);
  return ws;
}
