// The model a run starts from: last.json's weights on --resume, else model.init's file, else
// a fresh model initialised as the reference initialises one.
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import { variantFromConfig } from '../config/variant.ts';
import type { Checkpoint } from '../io/checkpoint/read.ts';
import { loadModel } from '../io/import/load-model.ts';
import { Model } from '../model/model.ts';
import type { Rng } from '../random.ts';
import type { ProgressReporter } from './progress.ts';

/** A fresh initialisation draws from `rng`, the run's generator, before any training step does. */
export async function initialModel(config: Config, resumeFrom: Checkpoint | null, rng: Rng, progress: ProgressReporter): Promise<Model> {
  const variant = variantFromConfig(config);
  if (resumeFrom) return Model.fromValues(variant, resumeFrom.values);
  if (config.model.init) return startingPoint(config, rng, progress);
  return Model.init(variant, rng);
}

/**
 * model.init: a start point from our checkpoint JSON, a PyTorch .pt/.pth (the release's
 * start_0.pt backbone, a training checkpoint) or .safetensors, held to the config's
 * architecture; what was translated or initialised fresh is printed.
 */
async function startingPoint(config: Config, rng: Rng, progress: ProgressReporter): Promise<Model> {
  if (config.model.init_optional && !existsSync(config.model.init)) {
    progress.line(`model.init ${config.model.init} not found: starting from random weights (model.init_optional is true; expect lower accuracy than from the pretrained file)`);
    return Model.init(variantFromConfig(config), rng);
  }
  const loaded = await loadModel(config.model.init, { purpose: 'init', config });
  progress.line(`model.init: ${config.model.init}`);
  for (const note of loaded.notes) progress.line(`  ${note}`);
  return new Model(loaded.store);
}
