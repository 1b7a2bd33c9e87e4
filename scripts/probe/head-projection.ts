// Issue 18's mechanism on trained checkpoints: per class, the size of the features' component
// along the class's head row (eval/head-projection.ts), on a split, for each checkpoint given.
// A class whose value is near 0 has been erased from the features: its logit barely moves.
//   node bin/run-ts.js scripts/probe/head-projection.ts [--split test|val|train] CKPT.json...
import { selectBackend } from '../../src/backend.ts';
import { loadConfig, loadSavedConfig } from '../../src/config/load.ts';
import { PreparePool } from '../../src/data/pool.ts';
import { loadSplitAsTrained, type SplitChoice } from '../../src/data/splits.ts';
import { evaluate, evaluationLoader } from '../../src/eval/evaluate.ts';
import { headProjectionOfLogits } from '../../src/eval/head-projection.ts';
import { openModel } from '../../src/infer/select.ts';
import { readCheckpoint } from '../../src/io/checkpoint/read.ts';

async function projectionOf(path: string, split: SplitChoice): Promise<{ classes: string[]; values: number[]; meanClass: number }> {
  const backend = await selectBackend('wasm');
  const threadsFrom = loadConfig(undefined, ['train.threads=1']);
  const { engine, info } = await openModel({ path, engine: 'tfjs', device: 'cpu', backend, threadsFrom });
  const pool = new PreparePool(0);
  try {
    const config = loadSavedConfig(info.savedConfig!);
    const samples = loadSplitAsTrained(config, split).samples;
    const run = await evaluate(engine, evaluationLoader(config, samples, info.preprocessing, pool), { numClasses: info.classes.length });
    const { values } = await readCheckpoint(path);
    const values2 = headProjectionOfLogits(run.logits, values.get('head.weight')!, values.get('head.bias')!, info.classes.length);
    return { classes: info.classes, values: values2, meanClass: run.metrics.meanClass };
  } finally {
    await pool.close();
    await engine.close();
  }
}

const args = process.argv.slice(2);
const splitAt = args.indexOf('--split');
const split = (splitAt >= 0 ? args.splice(splitAt, 2)[1] : 'test') as SplitChoice;
for (const path of args) {
  const r = await projectionOf(path, split);
  if (path === args[0]) console.log(`${'checkpoint'.padEnd(48)} ${r.classes.map((c) => c.slice(0, 9).padStart(10)).join('')}  mean-class`);
  console.log(`${path.padEnd(48)} ${r.values.map((v) => v.toFixed(3).padStart(10)).join('')}  ${(100 * r.meanClass).toFixed(1)}%`);
}
