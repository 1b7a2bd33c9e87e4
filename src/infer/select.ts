// Opening a model for evaluation or prediction on the engine the user asked for: `--engine auto`
// takes ONNX Runtime when it loads (exporting the model to a cached .onnx beside the checkpoint
// on first use), else mek's tfjs graph; `onnx` and `tfjs` insist. An exported .onnx given as
// --ckpt runs on ONNX Runtime with the metadata mek wrote into it.
import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import type { BackendInfo } from '../backend.ts';
import { UsageError } from '../errors.ts';
import type { Config } from '../config/schema.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { loadModel, type LoadedModel } from '../io/import/load-model.ts';
import { decodeModel } from '../io/onnx/graph.ts';
import { onnxModel } from '../io/onnx/export.ts';
import { GiB, readRegularFile } from '../io/read-file.ts';
import { camGridSize } from '../model/variants.ts';
import { checkFitsWasm, threadsFor } from '../train/memory.ts';
import { mekVersion } from '../version.ts';
import type { InferenceEngine, ModelInfo } from './engine.ts';
import { loadOrt, onnxEngine, type OnnxDevice } from './onnx.ts';
import { tfjsEngine } from './tfjs.ts';

export type EngineChoice = 'auto' | 'onnx' | 'tfjs';
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'onnx', 'tfjs'];

export interface OpenOptions {
  path: string;
  engine: EngineChoice;
  device: OnnxDevice;
  /** Architecture, classes and preprocessing to hold a PyTorch file to. */
  config?: Config;
  backend: BackendInfo;
  /** Decides the threads: train.threads, else every core (tfjs: as threadsFor plans them). */
  threadsFrom: Config;
}

export interface OpenedModel {
  engine: InferenceEngine;
  info: ModelInfo;
  /** The checkpoint as loaded (absent for an .onnx file). */
  model: LoadedModel | null;
  /** Lines for stderr: translations made while loading, the ONNX cache. */
  notes: string[];
}

export async function openModel(o: OpenOptions): Promise<OpenedModel> {
  if (o.device === 'cuda' && o.engine === 'tfjs') throw new UsageError('--device cuda runs on ONNX Runtime: use --engine onnx (or auto)');
  if (extname(o.path).toLowerCase() === '.onnx') return openOnnxFile(o);
  const model = await loadModel(o.path, { purpose: 'use', config: o.config });
  const info: ModelInfo = {
    classes: model.classes,
    preprocessing: model.preprocessing,
    grid: camGridSize(model.architecture),
    step: model.step,
    prior: model.prior,
    selection: model.selection,
    posthoc: model.posthoc,
    savedConfig: model.savedConfig,
  };
  const notes = [...model.notes];
  try {
    if (o.engine !== 'tfjs') {
      const ort = await loadOrt();
      if (!(ort instanceof Error)) {
        const { bytes, note } = await exportedModel(o.path, model);
        if (note) notes.push(note);
        const engine = await onnxEngine(bytes, { threads: onnxThreads(o.threadsFrom), device: o.device, what: o.path });
        model.store.dispose();
        return { engine, info, model, notes };
      }
      if (o.engine === 'onnx' || o.device === 'cuda') throw new UsageError(`onnxruntime-node cannot be loaded on this machine (${ort.message.split('\n')[0]}); use --engine tfjs`);
      notes.push(`onnxruntime-node cannot be loaded (${ort.message.split('\n')[0]}): using tfjs`);
    }
    checkFitsWasm(model.architecture, o.backend, 'infer');
    const threads = threadsFor(o.threadsFrom, o.backend, o.threadsFrom.eval.batch_size);
    return { engine: await tfjsEngine(model.store, o.backend, threads), info, model, notes };
  } catch (err) {
    model.store.dispose();
    throw err;
  }
}

/** ONNX Runtime's threads: train.threads when set, else one per core. */
function onnxThreads(config: Config): number {
  return config.train.threads > 0 ? config.train.threads : availableParallelism();
}

/**
 * The checkpoint as an ONNX model: from the cache beside it (`<stem>.<hash>.onnx`, the hash of
 * the checkpoint file and mek's version), else exported now and cached; older caches of the same
 * checkpoint name are removed. A folder that cannot be written to means no cache, not an error.
 */
async function exportedModel(path: string, model: LoadedModel): Promise<{ bytes: Uint8Array; note: string | null }> {
  const source = await readRegularFile(path, { maxBytes: 4 * GiB - 1, what: 'checkpoint' }, (p) => {
    throw new UsageError(`${path}: ${p}`);
  });
  const hash = createHash('sha256').update(source).update(mekVersion()).digest('hex').slice(0, 16);
  const stem = basename(path, extname(path));
  const cache = join(dirname(path), `${stem}.${hash}.onnx`);
  try {
    return { bytes: await readRegularFile(cache, { maxBytes: 4 * GiB - 1, what: 'ONNX cache' }, (p) => { throw new Error(p); }), note: null };
  } catch {
    // not cached yet (or unreadable): export
  }
  const bytes = onnxModel(model.architecture, await model.store.values(), {
    classes: model.classes,
    preprocessing: model.preprocessing,
    prior: model.prior,
    posthocTau: model.posthoc?.tau,
    version: mekVersion(),
    source: `${basename(path)} sha256:${createHash('sha256').update(source).digest('hex')}`,
  });
  try {
    await writeFileAtomic(cache, bytes);
    const stale = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-f]{16}\\.onnx$`);
    for (const f of readdirSync(dirname(path))) if (stale.test(f) && f !== basename(cache)) rmSync(join(dirname(path), f), { force: true });
    return { bytes, note: `exported the model to ONNX, cached as ${cache}` };
  } catch (err) {
    return { bytes, note: `exported the model to ONNX (not cached: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
}

/** An .onnx file mek exported: the engine is ONNX Runtime, the rest comes from its metadata. */
async function openOnnxFile(o: OpenOptions): Promise<OpenedModel> {
  if (o.engine === 'tfjs') throw new UsageError(`${o.path}: an .onnx file runs on ONNX Runtime: use --engine onnx (or auto)`);
  const bytes = await readRegularFile(o.path, { maxBytes: 4 * GiB - 1, what: 'ONNX model' }, (p) => {
    throw new UsageError(`${o.path}: ${p}`);
  });
  const info = onnxInfo(o.path, bytes);
  const engine = await onnxEngine(bytes, { threads: onnxThreads(o.threadsFrom), device: o.device, what: o.path });
  return { engine, info, model: null, notes: [] };
}

/** ModelInfo from the metadata of an .onnx file mek exported; anything else is one line. */
export function onnxInfo(path: string, bytes: Uint8Array): ModelInfo {
  let props: Map<string, string>;
  let camDims: number[] = [];
  try {
    const model = decodeModel(bytes);
    props = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
    const cams = model.graph?.output?.find((x) => x.name === 'cams');
    camDims = (cams?.type?.tensorType?.shape?.dim ?? []).map((d) => Number(d.dimValue ?? 0));
  } catch (err) {
    throw new UsageError(`${path}: not a readable ONNX file (${(err as Error).message.split('\n')[0]})`);
  }
  const classes = props.get('mek.classes');
  if (!classes || camDims.length !== 4) throw new UsageError(`${path}: not a model exported by mek (no mek.classes metadata or cams output); mek runs the .onnx files \`mek export\` writes`);
  try {
    const prior = props.get('mek.prior');
    const names = JSON.parse(classes) as string[];
    const probabilities = prior ? (JSON.parse(prior) as number[]) : null;
    const tau = props.get('mek.posthoc_tau');
    return {
      classes: names,
      preprocessing: {
        imageSize: Number(props.get('mek.image_size')),
        mean: JSON.parse(props.get('mek.mean')!) as number[],
        std: JSON.parse(props.get('mek.std')!) as number[],
        interpolation: props.get('mek.interpolation') as ModelInfo['preprocessing']['interpolation'],
      },
      grid: camDims[3]!,
      step: 0,
      ...(probabilities ? { prior: { probabilities } } : {}),
      ...(tau !== undefined ? { posthoc: { tau: Number(tau) } } : {}),
    };
  } catch (err) {
    throw new UsageError(`${path}: its mek metadata is malformed (${(err as Error).message})`);
  }
}
