// The Swin architecture a state dict was built with, read from the shapes of its entries
// (canonical names, see names.ts): embed dim, channels and patch size from the patch
// embedding, depths from the block indices, window and heads from the relative position
// tables, MLP ratio from the first MLP, the image size from a stored attention mask or a
// stage whose window is clamped to its resolution, classes from the FER head.
import type { SwinVariant } from '../../model/variants.ts';
import type { TensorMap } from '../tensor-file.ts';

export interface InferredArchitecture {
  /** Everything but imgSize, numClasses, embeddingSize and dropPathRate, which may be unknown. */
  variant: Omit<SwinVariant, 'imgSize' | 'numClasses' | 'embeddingSize' | 'dropPathRate'>;
  /** Null when the file stores no attention mask and no stage is smaller than the window. */
  imgSize: number | null;
  /** Null for a backbone without a FER head. */
  numClasses: number | null;
  /** Null without the face-embedding head. */
  embeddingSize: number | null;
}

export class ArchitectureError extends Error {
  override name = 'ArchitectureError';
}

export function inferArchitecture(t: TensorMap): InferredArchitecture {
  const shape = (name: string): number[] | undefined => t.get(name)?.shape;
  const need = (name: string): number[] => {
    const s = shape(name);
    if (!s) throw new ArchitectureError(`no ${name}: not a Swin Transformer state dict`);
    return s;
  };
  const proj = need('encoder.patch_embed.proj.weight');
  if (proj.length !== 4 || proj[2] !== proj[3]) throw new ArchitectureError(`encoder.patch_embed.proj.weight has shape [${proj.join(', ')}], not [C, 3, p, p]`);
  const [embedDim, inChans, patchSize] = proj as [number, number, number];

  const depths: number[] = [];
  for (const name of t.keys()) {
    const m = /^encoder\.layers\.(\d+)\.blocks\.(\d+)\./.exec(name);
    if (!m) continue;
    const [stage, blk] = [Number(m[1]), Number(m[2])];
    while (depths.length <= stage) depths.push(0);
    depths[stage] = Math.max(depths[stage]!, blk + 1);
  }
  if (depths.length === 0 || depths.some((d) => d === 0)) throw new ArchitectureError('no Swin blocks under encoder.layers.<i>.blocks.<j>');

  const windows: number[] = [];
  const numHeads: number[] = [];
  for (let i = 0; i < depths.length; i++) {
    const [entries, heads] = need(`encoder.layers.${i}.blocks.0.attn.relative_position_bias_table`) as [number, number];
    const side = Math.round(Math.sqrt(entries));
    if (side * side !== entries || side % 2 !== 1) throw new ArchitectureError(`stage ${i}: a relative position table of ${entries} rows is not (2w-1)^2`);
    windows.push((side + 1) / 2);
    numHeads.push(heads);
  }
  const windowSize = Math.max(...windows);
  const [hidden, dim] = need('encoder.layers.0.blocks.0.mlp.fc1.weight') as [number, number];

  // Token grid side of stage i, from the first thing that pins one down.
  let imgSize: number | null = null;
  for (let i = 0; i < depths.length && imgSize === null; i++) {
    let side: number | null = null;
    for (let j = 0; j < depths[i]! && side === null; j++) {
      const mask = shape(`encoder.layers.${i}.blocks.${j}.attn_mask`);
      if (mask) side = windows[i]! * Math.round(Math.sqrt(mask[0]!));
    }
    if (side === null && windows[i]! < windowSize) side = windows[i]!;
    if (side !== null) imgSize = side * 2 ** i * patchSize;
  }

  const head = shape('head.weight');
  const embedding = shape('encoder.feature.2.weight');
  return {
    variant: {
      patchSize,
      inChans,
      embedDim,
      depths,
      numHeads,
      windowSize,
      mlpRatio: hidden / dim,
      qkvBias: t.has('encoder.layers.0.blocks.0.attn.qkv.bias'),
      patchNorm: t.has('encoder.patch_embed.norm.weight'),
    },
    imgSize,
    numClasses: head ? head[0]! : null,
    embeddingSize: embedding ? embedding[0]! : null,
  };
}
