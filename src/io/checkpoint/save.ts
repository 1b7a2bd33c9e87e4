// Writing a checkpoint (format.ts) so that a crash at any moment leaves a usable one.
//
// Consistency across files: binaries are named after their content (`best.<sha16>.weights.bin`)
// and written, each atomically, before the JSON that names them. Until the JSON's own atomic
// rename the old JSON still names the old, untouched binaries; afterwards the new JSON names
// complete new ones. A fixed name (`best.weights.bin`) could not give this: a crash between the
// two renames would pair the old JSON with the new weights. Binaries that no checkpoint JSON in
// the folder names any more are removed once the new JSON is in place.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { LoaderPosition } from '../../data/loader.ts';
import type { ParamStore } from '../../model/params.ts';
import type { RngState } from '../../random.ts';
import type { AdamW } from '../../train/adamw.ts';
import { isAbandonedTemp, writeFileAtomic } from '../atomic.ts';
import { pack, type NamedArray, type Packed } from './arrays.ts';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointMeta,
  type OptimizerState,
  type StoredArrays,
  type TrainingState,
} from './format.ts';
import { isRecord } from './guards.ts';
import { formatJson } from './json-layout.ts';
import { checkMeta } from './validate.ts';

/** The fields of the JSON that the caller gives as they are stored (format.ts). */
type StoredAsGiven = 'classes' | 'preprocessing' | 'step' | 'metrics' | 'config' | 'prior' | 'selection' | 'posthoc' | 'pretext';

export interface SaveOptions extends Pick<CheckpointMeta, StoredAsGiven> {
  store: ParamStore;
  /** An AdamW over `store.trainable()`; its moments go to `<name>.<sha16>.optim.bin`. */
  optimizer?: AdamW;
  rngState?: RngState;
  loader?: LoaderPosition;
  /** Stored as `training.resume`. */
  extra?: Record<string, unknown>;
}

/**
 * Writes `<dir>/<name>.json` and its binaries atomically (see the file comment) and returns
 * the JSON's path. `name` is a file name stem such as 'best' or 'last'.
 */
export async function saveCheckpoint(dir: string, name: string, options: SaveOptions): Promise<string> {
  if (name !== basename(name) || name === '' || name === '.' || name === '..' || name.endsWith('.json')) {
    throw new Error(`checkpoint name '${name}' must be a file name stem such as 'best'`);
  }
  const { store } = options;
  const jsonPath = join(dir, `${name}.json`);
  // Snapshot all state before the first write, so that the files describe one moment.
  const values = await store.values();
  const weights = pack(store.specs.map((s) => ({ name: s.name, shape: s.shape, data: values.get(s.name)! })));
  const weightsFile = `${name}.${weights.sha256.slice(0, 16)}.weights.bin`;
  let optim: { file: string; packed: Packed } | undefined;
  const training: TrainingState = {};
  if (options.optimizer) {
    const state = await options.optimizer.state();
    const packed = pack(optimizerEntries(store, state));
    optim = { file: `${name}.${packed.sha256.slice(0, 16)}.optim.bin`, packed };
    training.optimizer = { step: state.step, ...section(optim.file, packed) };
  }
  if (options.rngState) training.rngState = options.rngState;
  if (options.loader) training.loader = options.loader;
  if (options.extra) training.resume = options.extra;
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    step: options.step,
    architecture: store.variant,
    classes: options.classes,
    preprocessing: options.preprocessing,
    metrics: options.metrics,
    ...(options.config ? { config: options.config } : {}),
    ...(options.prior ? { prior: options.prior } : {}),
    ...(options.selection ? { selection: options.selection } : {}),
    ...(options.posthoc ? { posthoc: options.posthoc } : {}),
    ...(options.pretext ? { pretext: options.pretext } : {}),
    ...section(weightsFile, weights),
    ...(Object.keys(training).length ? { training } : {}),
  };
  const text = `${formatJson(meta)}\n`;
  // What a reader will see must pass the reader's checks; refuse before touching any file.
  checkMeta(JSON.parse(text), jsonPath);

  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, weightsFile), weights.bytes);
  if (optim) await writeFileAtomic(join(dir, optim.file), optim.packed.bytes);
  await writeFileAtomic(jsonPath, text);
  await removeUnreferenced(dir, name, [weightsFile, ...(optim ? [optim.file] : [])]);
  return jsonPath;
}

function section(file: string, packed: Packed): StoredArrays {
  return {
    weightsManifest: [{ paths: [file], weights: packed.weights }],
    weightsBytes: packed.bytes.length,
    weightsSha256: packed.sha256,
  };
}

function optimizerEntries(store: ParamStore, state: OptimizerState): NamedArray[] {
  const trained = store.specs.filter((s) => s.kind === 'param');
  if (state.m.length !== trained.length || state.v.length !== trained.length) {
    throw new Error(`optimizer holds ${state.m.length} moments for ${trained.length} trained parameters of the store`);
  }
  return trained.flatMap((s, i) => [
    { name: `${s.name}/m`, shape: s.shape, data: state.m[i]! },
    { name: `${s.name}/v`, shape: s.shape, data: state.v[i]! },
  ]);
}

/**
 * Removes `<name>.<sha16>.{weights,optim}.bin` files that no checkpoint JSON in `dir` names
 * (left by earlier saves or by a save that died before its JSON), and temporary files of this
 * checkpoint whose writer has exited. Another JSON may name them: a copy such as best-1000.json.
 */
async function removeUnreferenced(dir: string, name: string, keep: string[]): Promise<void> {
  const files = await readdir(dir);
  const referenced = new Set(keep);
  for (const file of files.filter((f) => f.endsWith('.json'))) {
    for (const path of await namedBinaries(join(dir, file))) referenced.add(path);
  }
  const own = new RegExp(`^${escapeRegExp(name)}\\.[0-9a-f]{16}\\.(weights|optim)\\.bin$`);
  const stale = files.filter(
    (f) => (own.test(f) && !referenced.has(f)) || (f.startsWith(`${name}.`) && isAbandonedTemp(f)),
  );
  await Promise.all(stale.map((f) => rm(join(dir, f), { force: true })));
}

/** The binaries a JSON file names; none when it is not a readable checkpoint. */
async function namedBinaries(jsonPath: string): Promise<string[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch {
    return []; // not ours to judge here: other JSON files may share the folder
  }
  const paths = (s: unknown): string[] =>
    isRecord(s) && Array.isArray(s['weightsManifest'])
      ? s['weightsManifest'].flatMap((g: unknown) => (isRecord(g) && Array.isArray(g['paths']) ? g['paths'] : []))
      : [];
  if (!isRecord(doc) || doc['format'] !== CHECKPOINT_FORMAT) return [];
  const training = doc['training'];
  return [...paths(doc), ...(isRecord(training) ? paths(training['optimizer']) : [])];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
