// Reading the named tensors of any weights file mek accepts: a torch.save zip (.pt/.pth; the
// state dict found under the keys the reference and common releases use), safetensors, or
// our own checkpoint JSON. The format is told by content, not by extension.
import { storedSpecs } from '../../model/params.ts';
import type { CheckpointMeta } from '../checkpoint/format.ts';
import { readCheckpoint } from '../checkpoint/read.ts';
import { GiB, readRegularFile } from '../read-file.ts';
import { looksLikeSafetensors, readSafetensors } from '../safetensors.ts';
import type { TensorMap } from '../tensor-file.ts';
import { isTensorRef, readTorchArchive } from '../torch/torch-file.ts';
import { shortRepr } from '../torch/repr.ts';
import { isZip } from '../torch/zip.ts';

export class WeightsFileError extends Error {
  override name = 'WeightsFileError';
}

export interface WeightsFile {
  format: 'pytorch' | 'safetensors' | 'mek';
  tensors: TensorMap;
  /** Where in the file the tensors came from, for messages ("state_dict_model", ...). */
  source: string;
  /** Our checkpoint's metadata, for the 'mek' format. */
  meta?: CheckpointMeta;
}

/**
 * Keys under which checkpoints keep their weights, in order of preference: the reference's
 * full model, then the generic ones, Microsoft's release, and last the reference's backbone.
 */
const STATE_DICT_KEYS = ['state_dict_model', 'state_dict', 'model_state_dict', 'model', 'module', 'state_dict_backbone'];

/** Node's largest Buffer: a weights file beyond it cannot be read whole (Swin-T's is 115 MB). */
const MAX_WEIGHTS_BYTES = 4 * GiB - 1;

export async function readWeightsFile(path: string): Promise<WeightsFile> {
  const fail = (p: string): never => {
    throw new WeightsFileError(p);
  };
  const bytes = new Uint8Array(await readRegularFile(path, { maxBytes: MAX_WEIGHTS_BYTES, what: 'weights file' }, fail));
  if (isZip(bytes)) return readTorchWeights(bytes);
  if (looksLikeSafetensors(bytes)) return { format: 'safetensors', tensors: readSafetensors(bytes), source: 'safetensors' };
  if (firstNonSpace(bytes) === 0x7b) return readMekWeights(path);
  if (bytes[0] === 0x80) {
    throw new WeightsFileError('is in the legacy (pre-1.6) torch.save format; load it in PyTorch and save it again with torch.save (the zip format, default since 1.6)');
  }
  throw new WeightsFileError('is not a checkpoint mek reads: expected a torch.save zip (.pt/.pth), a .safetensors file or a mek checkpoint .json');
}

function firstNonSpace(bytes: Uint8Array): number | undefined {
  return bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
}

function readTorchWeights(bytes: Uint8Array): WeightsFile {
  const archive = readTorchArchive(bytes);
  const { dict, source } = findStateDict(archive.root);
  const tensors: TensorMap = new Map();
  for (const [name, value] of dict) {
    if (typeof name === 'string' && isTensorRef(value)) tensors.set(name, archive.tensor(value));
  }
  return { format: 'pytorch', tensors, source };
}

function findStateDict(root: unknown): { dict: Map<unknown, unknown>; source: string } {
  if (isStateDict(root)) return { dict: root, source: 'the top-level state dict' };
  if (root instanceof Map) {
    for (const key of STATE_DICT_KEYS) {
      const value = root.get(key);
      if (isStateDict(value)) return { dict: value, source: key };
    }
    const keys = [...root.keys()].slice(0, 8).map((k) => (typeof k === 'string' ? k : shortRepr(k)));
    const more = root.size > 8 ? `, ... (${root.size} in all)` : '';
    throw new WeightsFileError(`holds no state dict: its top-level keys are ${keys.join(', ') || '(none)'}${more}; mek looks for ${STATE_DICT_KEYS.join(', ')}`);
  }
  throw new WeightsFileError('holds no state dict (its pickle is not a dict)');
}

function isStateDict(x: unknown): x is Map<unknown, unknown> {
  if (!(x instanceof Map) || x.size === 0) return false;
  return [...x.values()].some(isTensorRef) && [...x.keys()].every((k) => typeof k === 'string');
}

async function readMekWeights(path: string): Promise<WeightsFile> {
  const { meta, values } = await readCheckpoint(path);
  const shapes = new Map(storedSpecs(meta.architecture).map((s) => [s.name, s.shape]));
  const tensors: TensorMap = new Map();
  for (const [name, v] of values) tensors.set(name, { shape: shapes.get(name)!, dtype: 'float32', values: v });
  return { format: 'mek', tensors, source: 'mek checkpoint', meta };
}
