// `mek data synth`: writes the synthetic face dataset (src/data/synth.ts) in RAF-DB's layout
// and prints what went where, per class and split.
import { join } from 'node:path';
import { RAFDB_CLASS_NAMES } from '../config/schema.ts';
import { IMAGE_DIR, LABEL_FILE, SYNTH_DEFAULTS, synthesizeDataset, type SynthResult } from '../data/synth.ts';
import type { MekCommand } from './program.ts';

/** The summary `mek data synth` prints; `seconds` is the time taken when something was written. */
export function formatSynthSummary(r: SynthResult, out: string, seed: number, imageSize: number, seconds: number): string {
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const size = total(r.train) + total(r.test);
  const what = `${size} synthetic faces (${imageSize}x${imageSize} px, seed ${seed})`;
  const lines = [
    r.created
      ? `wrote ${what} to ${out} in ${seconds.toFixed(1)} s`
      : `${out} already holds ${what}; nothing to do`,
    `${'class'.padEnd(12)}${'train'.padStart(7)}${'test'.padStart(7)}`,
    ...RAFDB_CLASS_NAMES.map(
      (name, k) => `${name.padEnd(12)}${String(r.train[k]).padStart(7)}${String(r.test[k]).padStart(7)}`,
    ),
    `${'total'.padEnd(12)}${String(total(r.train)).padStart(7)}${String(total(r.test)).padStart(7)}`,
    `labels  ${join(out, LABEL_FILE)}`,
    `images  ${join(out, IMAGE_DIR)}/<name>_aligned.jpg`,
  ];
  return lines.join('\n') + '\n';
}

export const dataSynthCommand: MekCommand = {
  command: 'synth',
  describe: 'Write a deterministic synthetic face dataset in RAF-DB layout (labels, Image/aligned)',
  builder: (y) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'dataset folder to create' })
      .option('seed', { type: 'number', default: SYNTH_DEFAULTS.seed, describe: 'random seed: same seed and size, same bytes' })
      .option('size', { type: 'number', default: SYNTH_DEFAULTS.size, describe: 'total number of images (split ~80/20 like RAF-DB)' })
      .option('image-size', { type: 'number', default: SYNTH_DEFAULTS.imageSize, describe: 'image side in pixels' })
      .option('difficulty', { type: 'number', default: 1, describe: 'in (0, 1]: nuisances and weak/blended expressions scale with it; below 1 the face is framed tightly and people look more alike (the demo uses 0.1)' })
      .option('force', { type: 'boolean', default: false, describe: 'replace a different dataset in --out' }),
  handler: async (argv) => {
    const start = performance.now();
    const progress = process.stderr.isTTY
      ? (done: number, total: number) => {
          if (done % 50 === 0 || done === total) process.stderr.write(`\rrendering ${done}/${total}${done === total ? '\n' : ''}`);
        }
      : undefined;
    const result = await synthesizeDataset({
      out: argv.out,
      seed: argv.seed,
      size: argv.size,
      imageSize: argv.imageSize,
      difficulty: argv.difficulty,
      force: argv.force,
      onProgress: progress,
    });
    const seconds = (performance.now() - start) / 1000;
    process.stdout.write(formatSynthSummary(result, argv.out, argv.seed, argv.imageSize, seconds));
  },
};
