// The model architecture a configuration describes: a named variant with single fields
// overridden, and the class count taken from data.classes.
import { VARIANTS, variantProblem, type SwinVariant, type VariantName } from '../model/variants.ts';
import { ConfigError } from '../errors.ts';
import type { Config } from './schema.ts';

export function variantFromConfig(config: Config): SwinVariant {
  const m = config.model;
  const base = VARIANTS[m.variant as VariantName];
  if (!base) throw new ConfigError(`model.variant: unknown variant '${m.variant}'`);
  const v: SwinVariant = {
    ...base,
    imgSize: m.img_size ?? base.imgSize,
    patchSize: m.patch_size ?? base.patchSize,
    embedDim: m.embed_dim ?? base.embedDim,
    depths: m.depths ?? base.depths,
    numHeads: m.num_heads ?? base.numHeads,
    windowSize: m.window_size ?? base.windowSize,
    mlpRatio: m.mlp_ratio ?? base.mlpRatio,
    qkvBias: m.qkv_bias ?? base.qkvBias,
    patchNorm: m.patch_norm ?? base.patchNorm,
    dropPathRate: m.drop_path_rate ?? base.dropPathRate,
    numClasses: config.data.classes.length,
  };
  const problem = variantProblem(v);
  if (problem) throw new ConfigError(`model: ${problem}`);
  return v;
}
