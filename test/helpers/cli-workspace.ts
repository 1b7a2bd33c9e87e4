// What the spawned-CLI tests act on: a temp folder with a small synthetic dataset in RAF-DB's
// layout and, for the commands that take --ckpt, a checkpoint of the tiny test model saved the
// way a run saves one. Each test file makes its own, so the files can run in parallel.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  /** The synthetic faces (100 images of 48 px), once writeFaces has run. */
  data: string;
  /** The run folder writeCheckpoint saves best.json in. */
  runDir: string;
  /** One test image of the dataset. */
  image: string;
}

/** The paths of a new workspace; nothing is written yet. */
export function cliWorkspace(): CliWorkspace {
  const root = mkdtempSync(join(tmpdir(), 'mek-cli-'));
  const data = join(root, 'faces');
  return { root, data, runDir: join(root, 'run'), image: join(data, 'Image', 'aligned', 'test_0001_aligned.jpg') };
}

export async function writeFaces(data: string): Promise<void> {
  await synthesizeDataset({ out: data, seed: 5, size: 100, imageSize: 48 });
}

/** Saves best.json of swin_tiny_test in `runDir`, its config reading `data`; needs a tfjs backend. */
export async function writeCheckpoint(runDir: string, data: string): Promise<string> {
  const store = ParamStore.init(VARIANTS.swin_tiny_test, new Rng(CHECKPOINT_SEED));
  const cfg = defaultConfig();
  cfg.model.variant = 'swin_tiny_test';
  cfg.data.root = data;
  cfg.data.label_file = join(data, 'list_patition_label.txt');
  const ckpt = await saveTestCheckpoint(runDir, store, { config: cfg });
  store.dispose();
  return ckpt;
}
