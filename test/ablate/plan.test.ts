// The ablation as a plan and a table apart from training: `mek ablate --plan-only` writes every
// run folder's resolved config and trains nothing; whoever then trains the runs (mek here, the
// PyTorch reference elsewhere), `mek ablate --table DIR` builds the table from the folder alone,
// the same table as the training invocation's; runs written by hand in mek's file format
// (as scripts/reference/train_longtail.py writes them) are read like mek's own.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURE_FILE, BASE_CONFIG, PLAN_FILE, runConfig } from '../../src/ablate/plan.ts';
import { ABLATION_JSON } from '../../src/ablate/report.ts';
import { runAblation } from '../../src/ablate/run.ts';
import { METRICS_FILE, SUMMARY_FILE, WALL_FILE } from '../../src/ablate/run-folder.ts';
import { selectBackend } from '../../src/backend.ts';
import { ablateCommand } from '../../src/commands/ablate.ts';
import { loadConfig } from '../../src/config/load.ts';
import { variantFromConfig } from '../../src/config/variant.ts';
import { FASHION_MNIST_CLASSES } from '../../src/data/longtail.ts';
import { lineReporter } from '../../src/train/progress.ts';
import { runCommands } from '../helpers/cli.ts';
import { tinySets, writeTinyLongTail } from './tiny.ts';

let root: string;
let data: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mek-ablate-plan-'));
  data = await writeTinyLongTail(root);
});
afterAll(() => rm(root, { recursive: true, force: true }));

const mek = (...args: string[]) => runCommands(['--backend', 'cpu', ...args], [ablateCommand]);
const setArgs = (extra: string[] = []) => tinySets(root, data, extra).flatMap((s) => ['--set', s]);
const readJsonFile = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/** Per-class recalls as mek's files hold them: by class name. */
function perClass(values: number[]): Record<string, number> {
  return Object.fromEntries(FASHION_MNIST_CLASSES.map((c, i) => [c, values[i] ?? 0]));
}

describe('mek ablate --plan-only, then --table', () => {
  it('plans every run folder with its resolved config, trains nothing; mek trains the plan and --table rebuilds the same table', async () => {
    const planned = await mek('ablate', '--plan-only', '--name', 'planned', '--methods', 'ce,mek', '--seeds', '1', ...setArgs());
    expect(planned.code, planned.stderr).toBe(0);
    const dir = join(root, 'runs', 'planned');
    expect(planned.stdout).toContain(`[2/2] mek-s7: planned; ${join(dir, 'mek-s7')}\n`);
    expect(planned.stdout).toContain(`planned: 2 runs in ${dir}; `);
    expect(readJsonFile(join(dir, PLAN_FILE))).toEqual({ config: null, methods: ['ce', 'mek'], seeds: [7] });
    expect(existsSync(join(dir, ABLATION_JSON))).toBe(false);
    const base = loadConfig(join(dir, BASE_CONFIG));
    for (const method of ['ce', 'mek'] as const) {
      const runDir = join(dir, `${method}-s7`);
      expect(readdirSync(runDir).sort()).toEqual([ARCHITECTURE_FILE, BASE_CONFIG]);
      // Every key resolved, the method's keys set: what mek itself would train.
      const config = loadConfig(join(runDir, BASE_CONFIG));
      expect(config).toEqual(runConfig(base, dir, method, 7));
      expect(config.loss.rac).toBe(method === 'mek');
      expect(readJsonFile(join(runDir, ARCHITECTURE_FILE))).toEqual(variantFromConfig(config));
    }
    expect(readJsonFile(join(dir, 'mek-s7', ARCHITECTURE_FILE))).toMatchObject({ imgSize: 28, patchSize: 2, embedDim: 8, numClasses: 10, embeddingSize: 32 });

    const lines: string[] = [];
    const trained = await runAblation({
      config: loadConfig(undefined, tinySets(root, data)),
      methods: ['ce', 'mek'],
      seeds: 1,
      name: 'planned',
      backend: await selectBackend('cpu'),
      reporterFor: () => lineReporter(() => {}),
      line: (l) => lines.push(l),
      stopRequested: () => false,
    });
    expect(trained.complete).toBe(true);
    // A planned folder is simply trained: no word of an earlier attempt.
    expect(lines.map((l) => l.slice(0, 14))).toEqual(['[1/2] ce-s7: a', '[2/2] mek-s7: ']);
    const table = readFileSync(join(dir, ABLATION_JSON), 'utf8');

    const rebuilt = await mek('ablate', '--table', dir);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/^\[1\/2\] ce-s7: accuracy \d+\.\d\d%  mean-class /m);
    expect(rebuilt.stdout).toMatch(/^method\s+seeds\s+accuracy/m);
    expect(rebuilt.stdout).toContain(`done: 2 runs; ${join(dir, ABLATION_JSON)}`);
    expect(readFileSync(join(dir, ABLATION_JSON), 'utf8')).toBe(table);
  });

  it('reads runs that another trainer wrote in mek\'s format, and leaves out the unfinished', async () => {
    const planned = await mek('ablate', '--plan-only', '--name', 'elsewhere', '--methods', 'la', '--seeds', '3', ...setArgs());
    expect(planned.code, planned.stderr).toBe(0);
    const dir = join(root, 'runs', 'elsewhere');
    const write = (run: string, file: string, value: unknown) =>
      writeFileSync(join(dir, run, file), typeof value === 'string' ? value : JSON.stringify(value));
    // Two finished runs: the table takes the last eval event of each; the third stopped early.
    const recalls = [
      [1, 1, 1, 1, 1, 1, 1, 0.5, 0.25, 0],
      [1, 1, 1, 1, 1, 1, 1, 0.5, 0.75, 0.5],
    ];
    for (const [i, seed] of [7, 8].entries()) {
      const run = `la-s${seed}`;
      const last = { step: 3, accuracy: 0.8 + 0.1 * i, mean_class_accuracy: 0.5 + 0.1 * i, per_class: perClass(recalls[i]!) };
      write(run, SUMMARY_FILE, { step: 3, interrupted: false, best: { step: 3, metrics: last }, last: { step: 3, metrics: last }, selection: 'test', test: null, posthoc: null });
      const events = [
        { event: 'train', step: 3, epoch: 0, loss: 2.3, loss_cls: 2.3, loss_rac: null, grad_norm: 1, lr: 1e-3, samples_per_s: 100 },
        { event: 'eval', step: 2, split: 'test', accuracy: 0, mean_class_accuracy: 0, per_class: perClass([]) },
        { event: 'eval', split: 'test', ...last },
      ];
      write(run, METRICS_FILE, events.map((e) => JSON.stringify(e) + '\n').join(''));
      write(run, WALL_FILE, { method: 'la', seed, wall_s: 10 + 20 * i });
    }
    write('la-s9', SUMMARY_FILE, { step: 1, interrupted: true, best: null, last: null, selection: 'test', test: null, posthoc: null });

    const r = await mek('ablate', '--table', dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('[3/3] la-s9: not trained (no completed summary.json of 3 steps); left out\n');
    expect(r.stdout).toContain(`incomplete: 2 runs; ${join(dir, ABLATION_JSON)}`);
    const json = readJsonFile(join(dir, ABLATION_JSON));
    expect(json.complete).toBe(false);
    expect(json.seeds).toEqual([7, 8, 9]);
    expect(json.rarest_classes.map((c: { name: string }) => c.name)).toEqual(['Ankle boot', 'Bag', 'Sneaker']);
    const [summary] = json.summary;
    expect(summary.seeds).toEqual([7, 8]);
    expect(summary.accuracy.mean).toBeCloseTo(0.85, 12);
    expect(summary.accuracy.std).toBeCloseTo(Math.SQRT1_2 * 0.1, 12);
    // Rarest-3 per run: (0 + 0.25 + 0.5) / 3 and (0.5 + 0.75 + 0.5) / 3.
    expect(summary.rarest_accuracy.mean).toBeCloseTo((0.25 + 7 / 12) / 2, 12);
    expect(summary.wall_s_total).toBe(40);
    expect(json.runs[1].final.per_class).toEqual(recalls[1]);
  });

  it('--as-given plans the config exactly as given, whose method keys are then its recipe', async () => {
    const recipe = ['loss.rbl=false', 'loss.logit_adjust=1', 'loss.rbl_shares=neutral'];
    const planned = await mek('ablate', '--plan-only', '--as-given', '--name', 'given', '--seeds', '2', ...setArgs(recipe));
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).not.toMatch(/note:/);
    const dir = join(root, 'runs', 'given');
    expect(readJsonFile(join(dir, PLAN_FILE)).methods).toEqual(['config']);
    const config = loadConfig(join(dir, 'config-s8', BASE_CONFIG));
    expect(config.loss).toMatchObject({ rbl: false, rac: true, logit_adjust: 1, rbl_shares: 'neutral' });
    expect(config.train).toMatchObject({ seed: 8, name: 'config-s8' });

    const other = await mek('ablate', '--plan-only', '--as-given', '--name', 'given', '--seeds', '2', ...setArgs(['loss.rbl=false', 'loss.logit_adjust=0.5', 'loss.rbl_shares=neutral']));
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/given holds an ablation of a different config \(loss\.logit_adjust 1 -> 0\.5\)/);
    const table = await mek('ablate', '--table', dir);
    expect(table.stdout).toMatch(/^config as given\s+0\s+-/m);
    const both = await mek('ablate', '--as-given', '--methods', 'ce');
    expect(both.code).toBe(2);
    expect(both.stderr.trim()).toBe('mek: --as-given trains the config as given instead of --methods; give one of them');
  });

  it('--table takes no planning options, and needs an ablation folder', async () => {
    const both = await mek('ablate', '--table', join(root, 'runs', 'planned'), '--methods', 'ce', '--seeds', '2');
    expect(both.code).toBe(2);
    expect(both.stderr.trim()).toBe('mek: --table reads the plan in its folder; it takes no --seeds, --methods');
    const none = await mek('ablate', '--table', join(root, 'nothing'));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/plan\.json: not found or not JSON; is .*nothing an ablation folder\?/);
  });
});
