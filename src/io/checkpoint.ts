// Checkpoint files. `<name>.json` carries everything needed to use a model alone (format
// version, architecture, class names, preprocessing, step, metrics, the resolved config) and a
// tfjs-style manifest of one float32 weights file; a training checkpoint (`last`) adds the AdamW
// moments (a second binary file), the rng state and the loader position, so that a resumed run
// continues exactly.
//
// Consistency across files: binaries are named after their content (`best.<sha16>.weights.bin`)
// and written, each atomically, before the JSON that names them. Until the JSON's own atomic
// rename the old JSON still names the old, untouched binaries; afterwards the new JSON names
// complete new ones. A fixed name (`best.weights.bin`) could not give this: a crash between the
// two renames would pair the old JSON with the new weights. Binaries that no checkpoint JSON in
// the folder names any more are removed once the new JSON is in place.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from '../errors.ts';
import type { Config } from '../config/schema.ts';
import type { LoaderPosition } from '../data/loader.ts';
import { INTERPOLATIONS, type Interpolation } from '../data/resize.ts';
import { classPrior, type ClassPrior } from '../mek/prior.ts';
import { ParamStore, storedSpecs } from '../model/params.ts';
import { variantProblem, type SwinVariant } from '../model/variants.ts';
import type { RngState } from '../random.ts';
import type { AdamW } from '../train/adamw.ts';
import { isAbandonedTemp, writeFileAtomic } from './atomic.ts';
import { firstNonFinite, nonFiniteMessage } from './finite.ts';
import { MiB, readRegularFile } from './read-file.ts';

export const CHECKPOINT_FORMAT = 'mek-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface Preprocessing {
  /** Side of the square model input, in pixels. */
  imageSize: number;
  /** Per-channel normalisation of [0, 1] pixel values: (x - mean) / std. */
  mean: number[];
  std: number[];
  /** Resize filter for evaluation and prediction. */
  interpolation: Interpolation;
}

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/** One group of a tfjs weights manifest: the entries lie back to back, in order, in `paths`. */
export interface WeightsGroup {
  paths: string[];
  weights: WeightEntry[];
}

/** A binary file of little-endian float32 arrays and what it must contain. */
export interface StoredArrays {
  weightsManifest: WeightsGroup[];
  weightsBytes: number;
  weightsSha256: string;
}

/** AdamW moments: entries `<param>/m` and `<param>/v` (PyTorch's exp_avg, exp_avg_sq) per trained parameter. */
export interface OptimizerSection extends StoredArrays {
  /** AdamW's step count, which its bias correction depends on. */
  step: number;
}

export interface TrainingState {
  optimizer?: OptimizerSection;
  rngState?: RngState;
  loader?: LoaderPosition;
  /** Free-form state of the trainer (best metric so far, schedule position, ...). */
  resume?: Record<string, unknown>;
}

/** Which split picked this checkpoint (best.json): 'val' (data.val_fraction), or 'test' (the paper; optimistic). */
export interface Selection {
  split: 'val' | 'test';
  metric: string;
}

/** The post-hoc adjustment tau chosen on the validation split after training. */
export interface PosthocChoice {
  tau: number;
  split: 'val';
  /** Validation mean-class accuracy at tau, and at 0 (the raw logits). */
  meanClass: number;
  meanClassRaw: number;
}

export interface CheckpointMeta extends StoredArrays {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  createdAt: string;
  step: number;
  architecture: SwinVariant;
  classes: string[];
  preprocessing: Preprocessing;
  metrics: Record<string, unknown>;
  config?: Config;
  /** The class distribution training saw (for post-hoc adjustment); absent in older checkpoints. */
  prior?: ClassPrior;
  selection?: Selection;
  posthoc?: PosthocChoice;
  training?: TrainingState;
}

export interface OptimizerState {
  step: number;
  /** In the order of `store.trainable()`, as AdamW.loadState expects. */
  m: Float32Array[];
  v: Float32Array[];
}

export interface SaveOptions {
  store: ParamStore;
  classes: string[];
  preprocessing: Preprocessing;
  step: number;
  metrics: Record<string, unknown>;
  config?: Config;
  prior?: ClassPrior;
  selection?: Selection;
  posthoc?: PosthocChoice;
  /** An AdamW over `store.trainable()`; its moments go to `<name>.<sha16>.optim.bin`. */
  optimizer?: AdamW;
  rngState?: RngState;
  loader?: LoaderPosition;
  /** Stored as `training.resume`. */
  extra?: Record<string, unknown>;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  /** Every stored entry of the architecture, in spec order. */
  values: Map<string, Float32Array>;
  optimizer?: OptimizerState;
}

const BYTES_PER_VALUE = 4;
// Files are little-endian, as tfjs and PyTorch write them; a big-endian host swaps.
const BIG_ENDIAN = endianness() === 'BE';
const NAMES_SHOWN = 3;
/** A checkpoint JSON holds metadata and a config, never megabytes. */
const MAX_JSON_BYTES = 64 * MiB;

// ---------------------------------------------------------------- writing

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
    ...section(weightsFile, weights),
    ...(Object.keys(training).length ? { training } : {}),
  };
  const text = toJson(meta);
  // What a reader will see must pass the reader's checks; refuse before touching any file.
  checkMeta(JSON.parse(text), jsonPath);

  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, weightsFile), weights.bytes);
  if (optim) await writeFileAtomic(join(dir, optim.file), optim.packed.bytes);
  await writeFileAtomic(jsonPath, text);
  await removeUnreferenced(dir, name, [weightsFile, ...(optim ? [optim.file] : [])]);
  return jsonPath;
}

interface Packed {
  bytes: Buffer;
  weights: WeightEntry[];
  sha256: string;
}

function pack(arrays: Array<{ name: string; shape: number[]; data: Float32Array }>): Packed {
  const total = arrays.reduce((n, a) => n + a.data.length * BYTES_PER_VALUE, 0);
  const bytes = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const a of arrays) {
    if (a.data.length !== sizeOf(a.shape)) {
      throw new Error(`${a.name}: ${a.data.length} values for shape [${a.shape.join(', ')}]`);
    }
    bytes.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), offset);
    offset += a.data.byteLength;
  }
  if (BIG_ENDIAN) bytes.swap32();
  return {
    bytes,
    weights: arrays.map((a) => ({ name: a.name, shape: a.shape, dtype: 'float32' })),
    sha256: sha256(bytes),
  };
}

function section(file: string, packed: Packed): StoredArrays {
  return {
    weightsManifest: [{ paths: [file], weights: packed.weights }],
    weightsBytes: packed.bytes.length,
    weightsSha256: packed.sha256,
  };
}

function optimizerEntries(store: ParamStore, state: OptimizerState) {
  const trained = store.specs.filter((s) => s.kind === 'param');
  if (state.m.length !== trained.length || state.v.length !== trained.length) {
    throw new Error(`optimizer holds ${state.m.length} moments for ${trained.length} trained parameters of the store`);
  }
  return trained.flatMap((s, i) => [
    { name: `${s.name}/m`, shape: s.shape, data: state.m[i]! },
    { name: `${s.name}/v`, shape: s.shape, data: state.v[i]! },
  ]);
}

/** Two-space JSON in which a list or object that fits on one line (shapes, manifest entries) takes one. */
function toJson(meta: CheckpointMeta): string {
  return `${formatJson(meta, '')}\n`;
}

const JSON_WIDTH = 160;

/** JSON.stringify's output for `value`, laid out as toJson describes. */
function formatJson(value: unknown, indent: string): string {
  if (isRecord(value) && typeof value['toJSON'] === 'function') value = (value['toJSON'] as () => unknown)();
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const inner = `${indent}  `;
  const items = Array.isArray(value)
    ? value.map((v) => formatJson(v, inner))
    : Object.entries(value)
        .filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol')
        .map(([k, v]) => `${JSON.stringify(k)}: ${formatJson(v, inner)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  const line = `${open}${items.join(', ')}${close}`;
  if (!line.includes('\n') && indent.length + line.length <= JSON_WIDTH) return line;
  return `${open}\n${items.map((item) => inner + item).join(',\n')}\n${indent}${close}`;
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

// ---------------------------------------------------------------- reading

/** Reads and checks a checkpoint: its JSON, weights and (when present) optimizer state. */
export async function readCheckpoint(jsonPath: string): Promise<Checkpoint> {
  const meta = await readCheckpointMeta(jsonPath);
  const specs = storedSpecs(meta.architecture);
  const arrays = await readArrays(jsonPath, meta, 'weights');
  const values = new Map(specs.map((s) => [s.name, arrays.get(s.name)!]));
  const bad = firstNonFinite(values);
  if (bad) fail(jsonPath, nonFiniteMessage(bad));
  const optimizerSection = meta.training?.optimizer;
  if (!optimizerSection) return { meta, values };
  const moments = await readArrays(jsonPath, optimizerSection, 'optimizer');
  const trained = specs.filter((s) => s.kind === 'param');
  return {
    meta,
    values,
    optimizer: {
      step: optimizerSection.step,
      m: trained.map((s) => moments.get(`${s.name}/m`)!),
      v: trained.map((s) => moments.get(`${s.name}/v`)!),
    },
  };
}

/** Reads and checks a checkpoint's JSON alone (manifests included), without its binaries. */
export async function readCheckpointMeta(jsonPath: string): Promise<CheckpointMeta> {
  let text: string;
  try {
    text = (await readRegularFile(jsonPath, { maxBytes: MAX_JSON_BYTES, what: 'checkpoint JSON' }, (p) => fail(jsonPath, p))).toString('utf8');
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    fail(jsonPath, ioProblem(err));
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    fail(jsonPath, `is not JSON (${(err as Error).message})`);
  }
  return checkMeta(doc, jsonPath);
}

async function readArrays(jsonPath: string, stored: StoredArrays, what: string): Promise<Map<string, Float32Array>> {
  const group = stored.weightsManifest[0]!;
  const file = group.paths[0]!;
  let bytes: Buffer;
  try {
    // The manifest says how many bytes to expect: nothing else (a link to /dev/zero, a FIFO, a
    // longer file) is read.
    const limits = { maxBytes: stored.weightsBytes, expectedBytes: stored.weightsBytes, what: `${what} file` };
    bytes = await readRegularFile(join(dirname(jsonPath), file), limits, (p) => fail(jsonPath, `${what} file ${file} ${p}`));
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    fail(jsonPath, `${what} file ${file} ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : ioProblem(err)}`);
  }
  const digest = sha256(bytes);
  if (digest !== stored.weightsSha256) {
    fail(jsonPath, `${what} file ${file} fails its checksum (sha256 ${digest.slice(0, 16)}..., recorded ${stored.weightsSha256.slice(0, 16)}...)`);
  }
  if (BIG_ENDIAN) bytes.swap32();
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const entry of group.weights) {
    const data = new Float32Array(sizeOf(entry.shape));
    new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + data.byteLength));
    offset += data.byteLength;
    out.set(entry.name, data);
  }
  return out;
}

// ---------------------------------------------------------------- checking

function fail(file: string, problem: string): never {
  // One line whatever the problem text holds (JSON.parse quotes the offending input).
  throw new CheckpointError(`checkpoint ${file}: ${problem.replace(/[\u0000-\u001f\u007f]+/g, ' ')}`);
}

function ioProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  return `cannot be read (${code ?? (err as Error).message})`;
}

/** A stored prior must be the one classPrior derives from its counts and sampler. */
function checkPrior(p: unknown, numClasses: number, problem: (text: string) => never): void {
  if (!isRecord(p) || !Array.isArray(p['counts']) || p['counts'].length !== numClasses || !p['counts'].every((n) => Number.isInteger(n) && n > 0)) {
    problem(`prior.counts must be ${numClasses} positive whole numbers, not ${show(isRecord(p) ? p['counts'] : p)}`);
  }
  if (p['sampler'] !== 'shuffle' && p['sampler'] !== 'balanced') problem(`prior.sampler must be 'shuffle' or 'balanced', not ${show(p['sampler'])}`);
  const expected = classPrior(p['counts'] as number[], p['sampler']).probabilities;
  const stored = p['probabilities'];
  if (!Array.isArray(stored) || stored.length !== numClasses || stored.some((v, i) => typeof v !== 'number' || Math.abs(v - expected[i]!) > 1e-9)) {
    problem(`prior.probabilities must be the class frequencies of prior.counts (uniform for the balanced sampler), not ${show(stored)}`);
  }
}

function checkMeta(doc: unknown, file: string): CheckpointMeta {
  // Declared with its type so that TypeScript narrows after each `problem(...)`.
  const problem: (text: string) => never = (text) => fail(file, text);
  if (!isRecord(doc) || doc['format'] !== CHECKPOINT_FORMAT) problem(`is not a mek checkpoint (no "format": "${CHECKPOINT_FORMAT}")`);
  if (doc['version'] !== CHECKPOINT_VERSION) {
    problem(`has unsupported checkpoint version ${show(doc['version'])} (this mek reads version ${CHECKPOINT_VERSION})`);
  }
  if (typeof doc['createdAt'] !== 'string') problem('lacks "createdAt"');
  if (!isCount(doc['step'])) problem(`"step" must be a whole number >= 0, not ${show(doc['step'])}`);
  const architecture = checkArchitecture(doc['architecture'], problem);

  const classes = doc['classes'];
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string')) problem('"classes" must be a list of names');
  if (classes.length !== architecture.numClasses) {
    problem(`"classes" has ${classes.length} names but the architecture has ${architecture.numClasses} classes`);
  }

  const p = doc['preprocessing'];
  if (!isRecord(p)) problem('lacks "preprocessing"');
  if (p['imageSize'] !== architecture.imgSize) {
    problem(`preprocessing.imageSize ${show(p['imageSize'])} differs from the architecture's input size ${architecture.imgSize}`);
  }
  for (const key of ['mean', 'std']) {
    const list = p[key];
    if (!Array.isArray(list) || list.length !== architecture.inChans || !list.every((x) => Number.isFinite(x))) {
      problem(`preprocessing.${key} must be ${architecture.inChans} numbers, not ${show(list)}`);
    }
  }
  if (!(p['std'] as number[]).every((x) => x > 0)) problem('preprocessing.std must be positive');
  if (!INTERPOLATIONS.includes(p['interpolation'] as Interpolation)) {
    problem(`preprocessing.interpolation must be one of ${INTERPOLATIONS.join(', ')}, not ${show(p['interpolation'])}`);
  }

  if (!isRecord(doc['metrics'])) problem('"metrics" must be an object');
  if ('config' in doc && !isRecord(doc['config'])) problem('"config" must be an object');
  if ('prior' in doc) checkPrior(doc['prior'], architecture.numClasses, problem);
  if ('selection' in doc) {
    const sel = doc['selection'];
    if (!isRecord(sel) || (sel['split'] !== 'val' && sel['split'] !== 'test') || typeof sel['metric'] !== 'string') {
      problem(`"selection" must be {"split": "val" | "test", "metric": name}, not ${show(sel)}`);
    }
  }
  if ('posthoc' in doc) {
    const ph = doc['posthoc'];
    const fraction = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
    if (!isRecord(ph) || !(typeof ph['tau'] === 'number' && ph['tau'] >= 0) || ph['split'] !== 'val' || !fraction(ph['meanClass']) || !fraction(ph['meanClassRaw'])) {
      problem(`"posthoc" must be {"tau": >= 0, "split": "val", "meanClass", "meanClassRaw"}, not ${show(ph)}`);
    }
  }

  const specs = storedSpecs(architecture);
  checkStoredArrays(doc, 'weights', specs, problem);

  if ('training' in doc) {
    const training = doc['training'];
    if (!isRecord(training)) problem('"training" must be an object');
    if ('optimizer' in training) {
      const o = training['optimizer'];
      if (!isRecord(o)) problem('training.optimizer must be an object');
      if (!isCount(o['step'])) problem(`training.optimizer.step must be a whole number >= 0, not ${show(o['step'])}`);
      const moments = specs
        .filter((s) => s.kind === 'param')
        .flatMap((s) => [
          { name: `${s.name}/m`, shape: s.shape },
          { name: `${s.name}/v`, shape: s.shape },
        ]);
      checkStoredArrays(o, 'optimizer', moments, problem);
    }
    if ('rngState' in training) {
      const r = training['rngState'];
      const words = Array.isArray(r) && r.length === 4 && r.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32);
      if (!words || (r as number[]).every((w) => w === 0)) problem(`training.rngState must be 4 unsigned 32-bit words, not all zero (got ${show(r)})`);
    }
    if ('loader' in training) {
      const l = training['loader'];
      if (!isRecord(l) || !isCount(l['epoch']) || !isCount(l['index'])) problem(`training.loader must be {epoch, index}, not ${show(l)}`);
    }
    if ('resume' in training && !isRecord(training['resume'])) problem('training.resume must be an object');
  }
  return doc as unknown as CheckpointMeta;
}

const positiveInt = (x: unknown) => Number.isInteger(x) && (x as number) > 0;
const positiveInts = (x: unknown) => Array.isArray(x) && x.every(positiveInt);
const isBoolean = (x: unknown) => typeof x === 'boolean';

// A Record over every key of SwinVariant: adding a field to the variant fails to compile here.
const ARCHITECTURE_FIELDS: Record<keyof SwinVariant, (x: unknown) => boolean> = {
  imgSize: positiveInt,
  patchSize: positiveInt,
  inChans: positiveInt,
  embedDim: positiveInt,
  depths: positiveInts,
  numHeads: positiveInts,
  windowSize: positiveInt,
  mlpRatio: (x) => typeof x === 'number' && x > 0,
  qkvBias: isBoolean,
  patchNorm: isBoolean,
  dropPathRate: (x) => typeof x === 'number' && x >= 0 && x <= 1,
  numClasses: positiveInt,
  embeddingSize: positiveInt,
};

function checkArchitecture(x: unknown, problem: (text: string) => never): SwinVariant {
  if (!isRecord(x)) return problem('lacks "architecture"');
  for (const [key, valid] of Object.entries(ARCHITECTURE_FIELDS)) {
    if (!(key in x)) problem(`architecture lacks "${key}"`);
    if (!valid(x[key])) problem(`architecture.${key} is invalid (${show(x[key])})`);
  }
  // An ignored field could change the model silently; version 1 knows exactly these.
  const unknown = Object.keys(x).filter((k) => !(k in ARCHITECTURE_FIELDS));
  if (unknown.length) problem(`architecture has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  const variant = x as unknown as SwinVariant;
  const why = variantProblem(variant);
  if (why) problem(`architecture is not a buildable Swin: ${why}`);
  return variant;
}

/** Checks a manifest (one group, one file in the checkpoint's folder) against the expected entries. */
function checkStoredArrays(
  x: Record<string, unknown>,
  what: string,
  expected: Array<{ name: string; shape: number[] }>,
  problem: (text: string) => never,
): void {
  const manifest = x['weightsManifest'];
  if (!Array.isArray(manifest) || manifest.length !== 1 || !isRecord(manifest[0])) {
    problem(`${what} manifest must be a list of one group`);
  }
  const group = (manifest as unknown[])[0] as Record<string, unknown>;
  const paths = group['paths'];
  if (!Array.isArray(paths) || paths.length !== 1 || typeof paths[0] !== 'string') {
    problem(`${what} manifest must name one file in "paths"`);
  }
  const file = (paths as string[])[0]!;
  if (file !== basename(file) || file === '' || file === '.' || file === '..' || file.includes('\\')) {
    problem(`${what} file ${show(file)} must be a file name in the checkpoint's folder`);
  }
  const weights = group['weights'];
  if (!Array.isArray(weights)) return problem(`${what} manifest lacks its "weights" list`);
  weights.forEach((w: unknown, i) => {
    if (!isRecord(w) || typeof w['name'] !== 'string' || !Array.isArray(w['shape']) || !w['shape'].every(isCount)) {
      problem(`${what} manifest entry ${i} is not {name, shape, dtype}`);
    }
    if (w['dtype'] !== 'float32') problem(`${what} manifest entry ${w['name']} has dtype ${show(w['dtype'])}; checkpoints store float32`);
  });
  const mismatch = compareEntries(weights as WeightEntry[], expected);
  if (mismatch) problem(`${what} manifest does not match the architecture: ${mismatch}`);
  const bytes = (weights as WeightEntry[]).reduce((n, w) => n + sizeOf(w.shape) * BYTES_PER_VALUE, 0);
  if (x['weightsBytes'] !== bytes) problem(`${what} "weightsBytes" is ${show(x['weightsBytes'])} but the manifest describes ${bytes} bytes`);
  const digest = x['weightsSha256'];
  if (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) problem(`${what} "weightsSha256" must be 64 hex digits`);
}

/** Missing, unexpected, repeated and mis-shaped names as a short summary; null when they agree. */
function compareEntries(entries: WeightEntry[], expected: Array<{ name: string; shape: number[] }>): string | null {
  const want = new Map(expected.map((e) => [e.name, e.shape]));
  const seen = new Set<string>();
  const unexpected: string[] = [];
  const repeated: string[] = [];
  const misshaped: string[] = [];
  for (const e of entries) {
    if (seen.has(e.name)) repeated.push(e.name);
    seen.add(e.name);
    const shape = want.get(e.name);
    if (!shape) unexpected.push(e.name);
    else if (shape.length !== e.shape.length || shape.some((n, i) => n !== e.shape[i])) {
      misshaped.push(`${e.name} [${e.shape.join(', ')}] vs [${shape.join(', ')}]`);
    }
  }
  const missing = expected.filter((e) => !seen.has(e.name)).map((e) => e.name);
  const parts = [
    summary('missing', missing),
    summary('unexpected', unexpected),
    summary('repeated', repeated),
    summary('mis-shaped', misshaped),
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : null;
}

function summary(label: string, names: string[]): string {
  if (!names.length) return '';
  const more = names.length > NAMES_SHOWN ? `, ... ${names.length - NAMES_SHOWN} more` : '';
  return `${names.length} ${label} (${names.slice(0, NAMES_SHOWN).join(', ')}${more})`;
}

// ---------------------------------------------------------------- helpers

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): boolean {
  return Number.isInteger(x) && (x as number) >= 0;
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A value for a message, kept short. */
function show(x: unknown): string {
  const text = x === undefined ? 'nothing' : JSON.stringify(x);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
