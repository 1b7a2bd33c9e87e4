// `mek data longtail`: cuts an MNIST-style IDX dataset (Fashion-MNIST by default) to a
// long-tailed benchmark in RAF-DB layout (src/data/longtail.ts) and prints what went where,
// per class and split, with the config keys that read it.
import { join } from 'node:path';
import { LABEL_FILE } from '../data/synth.ts';
import { FASHION_MNIST_CLASSES, RAFDB_TRAIN_COUNTS, LONGTAIL_IMAGE_DIR, LONGTAIL_MANIFEST, TEST_MODES, writeLongTail, type LongTailResult, type TestMode } from '../data/longtail.ts';
import { UsageError } from '../errors.ts';
import type { MekCommand } from './program.ts';

/** The summary `mek data longtail` prints; `seconds` is the time taken when something was written. */
export function formatLongTailSummary(r: LongTailResult, out: string, seconds: number): string {
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const profile = r.countsGiven ? `given counts, ratio ${r.ratio.toFixed(2)}` : `ratio ${r.ratio}`;
  const what = `a long-tailed set (${profile}, seed ${r.seed}, test ${r.test}): ${total(r.trainCounts)} train / ${total(r.testCounts)} test images`;
  const width = Math.max(5, ...r.classes.map((c) => c.length)) + 2;
  const ratio = (xs: number[]) => `${Math.max(...xs)}/${Math.min(...xs)} = ${(Math.max(...xs) / Math.min(...xs)).toFixed(1)}`;
  const lines = [
    r.created ? `wrote ${what} to ${out} in ${seconds.toFixed(1)} s` : `${out} already holds ${what}; nothing to do`,
    `${' #'}  ${'class'.padEnd(width)}${'train'.padStart(7)}${'test'.padStart(7)}`,
    ...r.classes.map(
      (name, k) => `${String(k).padStart(2)}  ${name.padEnd(width)}${String(r.trainCounts[k]).padStart(7)}${String(r.testCounts[k]).padStart(7)}`,
    ),
    `${'  '}  ${'total'.padEnd(width)}${String(total(r.trainCounts)).padStart(7)}${String(total(r.testCounts)).padStart(7)}`,
    `imbalance (largest/smallest class): train ${ratio(r.trainCounts)}, test ${ratio(r.testCounts)}`,
    `labels    ${join(out, LABEL_FILE)} (1-based)`,
    `images    ${join(out, LONGTAIL_IMAGE_DIR)}/<name>.png (${r.cols}x${r.rows} grayscale)`,
    `manifest  ${join(out, LONGTAIL_MANIFEST)}`,
    `config    data.format: rafdb, data.root: ${join(out, LONGTAIL_IMAGE_DIR)}, data.label_file: ${join(out, LABEL_FILE)}, data.classes: the ${r.classes.length} names above`,
  ];
  return lines.join('\n') + '\n';
}

/** --counts as numbers; exactly one of --ratio and --counts. */
function parseCounts(counts: string | undefined, ratio: number | undefined): number[] | undefined {
  if ((counts === undefined) === (ratio === undefined)) throw new UsageError('give one of --ratio R (an exponential profile) and --counts (rafdb, or N,N,...)');
  if (counts === undefined) return undefined;
  if (counts === 'rafdb') return [...RAFDB_TRAIN_COUNTS];
  const values = counts.split(',').map((c) => Number(c.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 1)) throw new UsageError(`--counts ${counts}: 'rafdb', or whole numbers >= 1 separated by commas`);
  return values;
}

export const dataLongtailCommand: MekCommand = {
  command: 'longtail',
  describe: 'Cut Fashion-MNIST (IDX files) to a long-tailed benchmark in RAF-DB layout',
  builder: (y) =>
    y
      .option('from', { type: 'string', demandOption: true, describe: 'folder with the IDX files (train-images-idx3-ubyte[.gz], ...), e.g. /usr/share/datasets/fashion-mnist' })
      .option('out', { type: 'string', demandOption: true, describe: 'dataset folder to create' })
      .option('ratio', { type: 'number', describe: 'imbalance ratio R >= 1: class i keeps floor(n_max * R^(-i/(K-1))) images' })
      .option('counts', { type: 'string', describe: `training images per class instead of --ratio: 'rafdb' (RAF-DB's ${RAFDB_TRAIN_COUNTS.join(',')}, so the balance weights are the release's) or N,N,...; class i keeps counts[i], the source's other classes are left out` })
      .option('seed', { type: 'number', default: 0, describe: 'random seed of the selection: same seed, same files' })
      .option('test', { choices: TEST_MODES, default: 'same' as TestMode, describe: 'same: the test split follows the same profile (imbalanced, like RAF-DB); balanced: the whole test set' })
      .option('classes', { type: 'string', describe: `class names in label order, comma-separated (default Fashion-MNIST's: ${FASHION_MNIST_CLASSES.join(', ')})` })
      .option('force', { type: 'boolean', default: false, describe: 'replace a different dataset in --out' })
      .example('$0 data longtail --from /usr/share/datasets/fashion-mnist --out dataset/fmnist-lt-r50 --ratio 50', 'the benchmark of configs/fmnist-lt.yaml')
      .example('$0 data longtail --from /usr/share/datasets/fashion-mnist --out dataset/fmnist-rafdb --counts rafdb --test balanced', 'RAF-DB-shaped: configs/fmnist-rafdb.yaml'),
  handler: async (argv) => {
    const classes = argv.classes === undefined ? undefined : String(argv.classes).split(',').map((c) => c.trim());
    const counts = parseCounts(argv.counts, argv.ratio);
    if (classes?.some((c) => c === '')) throw new UsageError(`--classes ${argv.classes}: an empty class name`);
    const start = performance.now();
    const progress = process.stderr.isTTY
      ? (done: number, total: number) => {
          if (done % 500 === 0 || done === total) process.stderr.write(`\rwriting ${done}/${total}${done === total ? '\n' : ''}`);
        }
      : undefined;
    const result = await writeLongTail({
      from: argv.from,
      out: argv.out,
      ratio: argv.ratio,
      counts,
      seed: argv.seed,
      test: argv.test,
      classes,
      force: argv.force,
      onProgress: progress,
    });
    process.stdout.write(formatLongTailSummary(result, argv.out, (performance.now() - start) / 1000));
  },
};
