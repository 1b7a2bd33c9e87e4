// Writing a model as the reference's full state dict: every entry of SwinTransFER in its
// order, the buffers mek recomputes included (relative_position_index, attn_mask,
// num_batches_tracked), so that PyTorch's load_state_dict(strict=True) accepts it.
// `.pt`/`.pth` get a torch.save zip `{"state_dict_model": ...}`; `.safetensors` the plain dict.
import { extname } from 'node:path';
import { paramSpecs } from '../model/params.ts';
import { relativePositionIndex, shiftedWindowMaskValues } from '../model/swin.ts';
import { stageGeometry, type SwinVariant } from '../model/variants.ts';
import { writeFileAtomic } from './atomic.ts';
import { writeSafetensors } from './safetensors.ts';
import { writeTorchStateDict, type ExportTensor } from './torch/torch-file.ts';

export const EXPORT_KEY = 'state_dict_model';

export function exportEntries(variant: SwinVariant, values: Map<string, Float32Array>): [string, ExportTensor][] {
  const stages = stageGeometry(variant);
  return paramSpecs(variant).map((spec): [string, ExportTensor] => {
    if (spec.kind !== 'derived') return [spec.name, { shape: spec.shape, dtype: 'float32', values: values.get(spec.name)! }];
    const stage = stages[Number(/^encoder\.layers\.(\d+)\./.exec(spec.name)?.[1] ?? 0)]!;
    if (spec.name.endsWith('relative_position_index')) {
      return [spec.name, { shape: spec.shape, dtype: 'int64', values: relativePositionIndex(stage.window) }];
    }
    if (spec.name.endsWith('attn_mask')) {
      return [spec.name, { shape: spec.shape, dtype: 'float32', values: shiftedWindowMaskValues(stage.resolution, stage.window, stage.shift) }];
    }
    // num_batches_tracked of the unused embedding head's BatchNorms: mek never runs them.
    return [spec.name, { shape: [], dtype: 'int64', values: [0] }];
  });
}

/** Writes the model to `path` (.pt, .pth or .safetensors), atomically. */
export async function exportModel(path: string, variant: SwinVariant, values: Map<string, Float32Array>): Promise<void> {
  const entries = exportEntries(variant, values);
  const bytes = extname(path) === '.safetensors' ? writeSafetensors(entries) : writeTorchStateDict(EXPORT_KEY, entries);
  await writeFileAtomic(path, bytes);
}
