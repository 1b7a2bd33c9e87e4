// One entry point for every weights file: a model (parameters, architecture, classes,
// preprocessing) from our checkpoint JSON, a torch.save .pt/.pth or a .safetensors file.
// The architecture comes from the file; a config, when given, must agree with it (or a
// message says which config would fit). Every translation made on the way is returned as a
// note for the command to print.
import type { Config } from '../../config/schema.ts';
import { RAFDB_CLASS_NAMES } from '../../config/schema.ts';
import { variantFromConfig } from '../../config/variant.ts';
import { initialValues, ParamStore } from '../../model/params.ts';
import { numFeatures, variantProblem, type SwinVariant } from '../../model/variants.ts';
import { Rng } from '../../random.ts';
import type { ClassPrior } from '../../mek/prior.ts';
import { CheckpointError } from '../../errors.ts';
import type { PosthocChoice, Preprocessing, Selection } from '../checkpoint/format.ts';
import { SafetensorsFormatError } from '../safetensors.ts';
import { TorchFormatError } from '../torch/torch-file.ts';
import { PickleFormatError, PickleRefusedError } from '../torch/unpickle.ts';
import { ZipFormatError } from '../torch/zip.ts';
import { ArchitectureError, inferArchitecture, type InferredArchitecture } from './architecture.ts';
import { fitWeights, FitError, type Purpose } from './fit.ts';
import { canonicalNames } from './names.ts';
import { readWeightsFile, WeightsFileError, type WeightsFile } from './weights-file.ts';
import { firstNonFinite, nonFiniteMessage } from '../finite.ts';

export interface LoadedModel {
  store: ParamStore;
  architecture: SwinVariant;
  classes: string[];
  preprocessing: Preprocessing;
  step: number;
  metrics: Record<string, unknown>;
  format: 'pytorch' | 'safetensors' | 'mek';
  /** The configuration a mek checkpoint was trained with. */
  savedConfig?: Config;
  /** What a mek checkpoint records of its training: the class prior, which split picked it, the post-hoc tau. */
  prior?: ClassPrior;
  selection?: Selection;
  posthoc?: PosthocChoice;
  /** One line per translation or assumption made. */
  notes: string[];
}

export interface LoadOptions {
  /** 'use' (eval, predict, import): a complete FER model; 'init': a training start point. */
  purpose: Purpose;
  /** Architecture, classes and preprocessing to hold the file to. */
  config?: Config;
}

// The variant fields a file must share with a config, with their config keys.
const STRUCTURE: [keyof SwinVariant, string][] = [
  ['patchSize', 'model.patch_size'],
  ['inChans', ''],
  ['embedDim', 'model.embed_dim'],
  ['depths', 'model.depths'],
  ['numHeads', 'model.num_heads'],
  ['windowSize', 'model.window_size'],
  ['mlpRatio', 'model.mlp_ratio'],
  ['qkvBias', 'model.qkv_bias'],
  ['patchNorm', 'model.patch_norm'],
];
const DEFAULT_DROP_PATH = 0.1;
/** The FER head's entries: mek pretrain's checkpoints hold the pretext task's head there. */
const FER_HEAD_ENTRIES = ['head.weight', 'head.bias'];
/** Errors that mean "this file is not usable", reported as one line naming the file. */
const FILE_PROBLEMS = [WeightsFileError, FitError, ArchitectureError, ZipFormatError, TorchFormatError, PickleRefusedError, PickleFormatError, SafetensorsFormatError];

/** Prints a loader's notes, one line each, to stderr (stdout may be a JSON contract). */
export function printNotes(model: LoadedModel): void {
  for (const note of model.notes) process.stderr.write(`note: ${note}\n`);
}

export async function loadModel(path: string, options: LoadOptions): Promise<LoadedModel> {
  try {
    return await load(path, options);
  } catch (err) {
    if (FILE_PROBLEMS.some((kind) => err instanceof kind)) throw new CheckpointError(`${path}: ${(err as Error).message}`);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CheckpointError(`${path}: no such file`);
    if (code === 'EISDIR') throw new CheckpointError(`${path}: is a folder, not a checkpoint file`);
    if (code === 'EACCES') throw new CheckpointError(`${path}: permission denied`);
    throw err;
  }
}

async function load(path: string, { purpose, config }: LoadOptions): Promise<LoadedModel> {
  const file = await readWeightsFile(path);
  const pretextNotes = file.meta?.pretext ? withoutPretextHead(path, file, purpose) : [];
  if (file.format === 'mek' && purpose === 'use' && file.meta) {
    // Our checkpoints carry their own architecture, classes and preprocessing.
    const meta = file.meta;
    const values = new Map([...file.tensors].map(([n, t]) => [n, t.values as Float32Array]));
    return {
      store: ParamStore.fromValues(meta.architecture, values),
      architecture: meta.architecture,
      classes: meta.classes,
      preprocessing: meta.preprocessing,
      step: meta.step,
      metrics: meta.metrics,
      format: 'mek',
      savedConfig: meta.config,
      prior: meta.prior,
      selection: meta.selection,
      posthoc: meta.posthoc,
      notes: [],
    };
  }
  const weights = canonicalNames(file.tensors);
  const inferred = inferArchitecture(weights.tensors);
  const notes = file.source === 'safetensors' || file.format === 'mek' ? [...pretextNotes] : [`weights from '${file.source}'`];
  const architecture = config ? agreeWithConfig(inferred, config) : fromFileAlone(inferred, purpose, notes);
  if (purpose === 'use' && inferred.numClasses === null) {
    throw new CheckpointError(`${path}: holds a backbone only (no FER head 'head.weight'); use it as model.init in a training config`);
  }
  if (purpose === 'use' && inferred.numClasses !== architecture.numClasses) {
    throw new CheckpointError(`${path}: its head has ${inferred.numClasses} classes, the config's data.classes ${architecture.numClasses}`);
  }
  const seed = config?.train.seed ?? 0;
  const fitted = fitWeights(weights, architecture, purpose, () => initialValues(architecture, new Rng(seed)));
  notes.push(...fitted.notes);
  const bad = firstNonFinite(fitted.values);
  if (bad) throw new CheckpointError(`${path}: ${nonFiniteMessage(bad)}`);
  const classes = config ? config.data.classes : defaultClassNames(architecture.numClasses, notes);
  return {
    store: ParamStore.fromValues(architecture, fitted.values),
    architecture,
    classes,
    preprocessing: config
      ? { imageSize: architecture.imgSize, mean: config.augment.mean, std: config.augment.std, interpolation: config.data.eval_interpolation }
      : { imageSize: architecture.imgSize, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], interpolation: 'bilinear' },
    step: file.meta?.step ?? 0,
    metrics: file.meta?.metrics ?? {},
    format: file.format,
    notes,
  };
}

/** The config's architecture, after checking that the file was built with the same one. */
function agreeWithConfig(inferred: InferredArchitecture, config: Config): SwinVariant {
  const wanted = variantFromConfig(config);
  const fits: string[] = [];
  const differs: string[] = [];
  for (const [field, key] of STRUCTURE) {
    const theirs = inferred.variant[field as keyof InferredArchitecture['variant']];
    if (JSON.stringify(theirs) !== JSON.stringify(wanted[field])) {
      differs.push(`${key || field} ${JSON.stringify(theirs)} (config ${JSON.stringify(wanted[field])})`);
      if (key) fits.push(`${key}=${JSON.stringify(theirs).replace(/"/g, '')}`);
    }
  }
  if (inferred.imgSize !== null && inferred.imgSize !== wanted.imgSize) {
    differs.push(`model.img_size ${inferred.imgSize} (config ${wanted.imgSize})`);
    fits.push(`model.img_size=${inferred.imgSize}`);
  }
  if (differs.length > 0) {
    throw new ArchitectureError(`was built with ${differs.join(', ')}; a config with ${fits.map((f) => `--set ${f}`).join(' ')} would fit`);
  }
  return { ...wanted, embeddingSize: inferred.embeddingSize ?? wanted.embeddingSize };
}

/**
 * A mek pretrain checkpoint: its head predicts rotations, so only its backbone (and the final
 * norm) is a start point; the head is dropped from `file` and the FER head starts fresh, also
 * when the config happens to have as many classes as there are rotations. Refused for 'use'.
 */
function withoutPretextHead(path: string, file: WeightsFile, purpose: Purpose): string[] {
  const what = `a ${file.meta!.pretext}-pretraining checkpoint (mek pretrain)`;
  if (purpose === 'use') throw new CheckpointError(`${path}: is ${what}: its head predicts the pretext task, not classes; use it as model.init in a training config`);
  for (const name of FER_HEAD_ENTRIES) file.tensors.delete(name);
  return [`${what}: backbone loaded, its ${file.meta!.pretext} head (${FER_HEAD_ENTRIES.join(', ')}) dropped`];
}

/** The architecture from the file alone; the image size is assumed when the file cannot tell. */
function fromFileAlone(inferred: InferredArchitecture, purpose: Purpose, notes: string[]): SwinVariant {
  if (purpose === 'init') throw new ArchitectureError('a training start point needs the config\'s architecture');
  const base = { ...inferred.variant, numClasses: inferred.numClasses ?? 1, embeddingSize: inferred.embeddingSize ?? numFeatures({ ...inferred.variant } as SwinVariant), dropPathRate: DEFAULT_DROP_PATH };
  if (inferred.imgSize !== null) return { ...base, imgSize: inferred.imgSize };
  const { patchSize, windowSize, depths } = inferred.variant;
  // The reference's faces are 112 px at patch 2; Microsoft's and timm's ImageNet models 224 at patch 4.
  const candidates = [patchSize === 2 ? 112 : patchSize === 4 ? 224 : 0, windowSize * 2 ** (depths.length - 1) * patchSize];
  const imgSize = candidates.find((s) => s > 0 && variantProblem({ ...base, imgSize: s }) === null);
  if (imgSize === undefined) throw new ArchitectureError('stores no attention mask to tell its image size; pass --config with model.img_size');
  notes.push(`the file stores no attention mask to tell its image size: assuming ${imgSize} px (pass --config to choose)`);
  return { ...base, imgSize };
}

function defaultClassNames(k: number, notes: string[]): string[] {
  if (k === RAFDB_CLASS_NAMES.length) {
    notes.push(`class names: RAF-DB's (${RAFDB_CLASS_NAMES.join(', ')}); pass --config to name them`);
    return [...RAFDB_CLASS_NAMES];
  }
  notes.push(`class names: class_0..class_${k - 1}; pass --config to name them`);
  return Array.from({ length: k }, (_, i) => `class_${i}`);
}
