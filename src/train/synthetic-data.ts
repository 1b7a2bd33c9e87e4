// The demo's data: a config with data.synth_size trains on a synthetic face set that the run
// writes itself on first use (src/data/synth.ts draws it).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.ts';
import { DataError } from '../errors.ts';
import { LABEL_FILE, MANIFEST_FILE, synthesizeDataset } from '../data/synth.ts';
import type { ProgressReporter } from './progress.ts';

/**
 * Writes the synthetic dataset the config asks for (data.synth_size) where its label file is
 * absent, or where data.root holds a synthetic set written with other settings or by an older
 * generator (its synth.json says so), which is replaced: a changed demo config or generator
 * takes effect. A folder without synth.json (real data) is never touched.
 */
export async function ensureSyntheticDataset(config: Config, progress: ProgressReporter): Promise<void> {
  const d = config.data;
  if (d.format !== 'rafdb' || d.synth_size === 0) return;
  const ownLabels = resolve(d.label_file) === resolve(d.root, LABEL_FILE);
  const synthetic = ownLabels && existsSync(join(d.root, MANIFEST_FILE));
  if (existsSync(d.label_file) && !synthetic) return;
  if (!ownLabels) {
    throw new DataError(`data.synth_size is set but data.label_file (${d.label_file}) is not ${join(d.root, LABEL_FILE)}, where the synthetic set is written`);
  }
  let announced = false;
  // Returns at once, writing nothing, when the folder already holds this very set.
  await synthesizeDataset({
    out: d.root,
    seed: config.train.seed,
    size: d.synth_size,
    imageSize: 100,
    difficulty: d.synth_difficulty,
    force: synthetic,
    onProgress: () => {
      if (announced) return;
      announced = true;
      progress.line(`writing a synthetic face dataset (${d.synth_size} images, difficulty ${d.synth_difficulty}) to ${d.root}...`);
    },
  });
}
