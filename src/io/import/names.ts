// From the names a file uses to ours. Our names are the reference SwinTransFER's state dict
// (`encoder.<Swin names>`, `norm.*`, `head.*`). Files come in four other layouts:
//  - DistributedDataParallel: every key prefixed `module.`;
//  - backbone only (the paper's start_0.pt `state_dict_backbone`, Microsoft's ImageNet release
//    under `model`, timm): Swin names at the root, which are ours under `encoder.`; the
//    ImageNet classifier (`head.*`, timm `head.fc.*`) has no place in the FER model;
//  - timm >= 0.9: patch merging stored at the start of the next stage
//    (`layers.{i+1}.downsample`) rather than at the end of its own (`layers.{i}.downsample`).
import type { FileTensor, TensorMap } from '../tensor-file.ts';

export type Layout = 'fer' | 'backbone';

export interface CanonicalWeights {
  tensors: TensorMap;
  layout: Layout;
  /** Entries that have no place in a FER model (an ImageNet classifier), by their file names. */
  classifier: Map<string, FileTensor>;
  /** One line per translation applied. */
  notes: string[];
}

const MODULE_PREFIX = 'module.';
const CLASSIFIER = /^head\.(fc\.)?(weight|bias)$/;
const DOWNSAMPLE = /^encoder\.layers\.(\d+)\.downsample\./;

export function canonicalNames(file: TensorMap): CanonicalWeights {
  const notes: string[] = [];
  let entries = [...file];
  if (entries.length > 0 && entries.every(([name]) => name.startsWith(MODULE_PREFIX))) {
    entries = entries.map(([name, t]) => [name.slice(MODULE_PREFIX.length), t]);
    notes.push("removed the DistributedDataParallel prefix 'module.'");
  }
  const classifier = new Map<string, FileTensor>();
  const isFer = entries.some(([name]) => name.startsWith('encoder.'));
  if (!isFer) {
    const kept: [string, FileTensor][] = [];
    for (const [name, t] of entries) {
      if (CLASSIFIER.test(name)) classifier.set(name, t);
      else kept.push([`encoder.${name}`, t]);
    }
    entries = kept;
  }
  const stagesWithMerging = new Set(entries.map(([name]) => DOWNSAMPLE.exec(name)?.[1]).filter((s) => s !== undefined).map(Number));
  if (stagesWithMerging.size > 0 && !stagesWithMerging.has(0)) {
    entries = entries.map(([name, t]) => [name.replace(DOWNSAMPLE, (_, i: string) => `encoder.layers.${Number(i) - 1}.downsample.`), t]);
    notes.push('timm layout: patch merging moved from the start of each stage to the end of the previous one');
  }
  return { tensors: new Map(entries), layout: isFer ? 'fer' : 'backbone', classifier, notes };
}
