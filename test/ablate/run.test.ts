// `mek ablate` end to end on a tiny long-tailed set written from synthetic IDX files: two
// methods x one seed of a few steps with a micro Swin, the files it writes, a second invocation
// that re-runs nothing, an interrupted run that is resumed, and the refusals (another recipe in
// the same folder, an unknown method).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABLATION_JSON, ABLATION_MD } from '../../src/ablate/report.ts';
import { runAblation, type AblationOptions } from '../../src/ablate/run.ts';
import { WALL_FILE } from '../../src/ablate/run-folder.ts';
import { selectBackend, type BackendInfo } from '../../src/backend.ts';
import { ablateCommand } from '../../src/commands/ablate.ts';
import { loadConfig } from '../../src/config/load.ts';
import { lineReporter } from '../../src/train/progress.ts';
import { runCommands } from '../helpers/cli.ts';
import { tinySets, writeTinyLongTail } from './tiny.ts';

let root: string;
let data: string;
let backend: BackendInfo;

function sets(extra: string[] = []): string[] {
  return tinySets(root, data, extra);
}

function options(name: string, extra: Partial<AblationOptions> = {}): AblationOptions & { lines: string[] } {
  const lines: string[] = [];
  return {
    config: loadConfig(undefined, sets()),
    methods: ['ce', 'mek'],
    seeds: 1,
    name,
    backend,
    reporterFor: () => lineReporter(() => {}),
    line: (l) => lines.push(l),
    stopRequested: () => false,
    lines,
    ...extra,
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mek-ablate-'));
  data = await writeTinyLongTail(root);
  backend = await selectBackend('cpu');
});
afterAll(() => rm(root, { recursive: true, force: true }));

const mek = (...args: string[]) => runCommands(args, [ablateCommand]);

describe('mek ablate', () => {
  it('trains each method x seed in its own folder and writes the table; a second invocation re-runs nothing', async () => {
    const opts = options('tiny');
    const result = await runAblation(opts);
    const dir = join(root, 'runs', 'tiny');
    expect(result.dir).toBe(dir);
    expect(result.complete).toBe(true);
    expect(opts.lines).toHaveLength(2);
    expect(opts.lines[0]).toMatch(/^\[1\/2\] ce-s7: accuracy \d+\.\d\d%  mean-class \d+\.\d\d%  rarest-3 \d+\.\d\d% \(final, step 3\) in \d+ s; /);
    expect(opts.lines[1]).toMatch(/^\[2\/2\] mek-s7: /);
    for (const f of ['config.yaml', ABLATION_JSON, ABLATION_MD]) expect(existsSync(join(dir, f)), f).toBe(true);
    for (const run of ['ce-s7', 'mek-s7']) {
      for (const f of ['summary.json', 'metrics.jsonl', 'last.json', WALL_FILE]) expect(existsSync(join(dir, run, f)), `${run}/${f}`).toBe(true);
    }
    // The method is the only difference between the two runs' configs.
    const ceConfig = readFileSync(join(dir, 'ce-s7', 'config.yaml'), 'utf8');
    expect(ceConfig).toMatch(/rbl: false\n/);
    expect(ceConfig).toMatch(/rac: false\n/);
    expect(readFileSync(join(dir, 'mek-s7', 'config.yaml'), 'utf8').replace('rbl: true', 'rbl: false').replace('rac: true', 'rac: false').replace('name: mek-s7', 'name: ce-s7')).toBe(ceConfig);

    const json = JSON.parse(readFileSync(join(dir, ABLATION_JSON), 'utf8'));
    expect(json.complete).toBe(true);
    expect(json.seeds).toEqual([7]);
    expect(json.checkpoint).toMatch(/^final evaluation \(last step\)/);
    expect(json.rarest_classes.map((r: { name: string }) => r.name)).toEqual(['Ankle boot', 'Bag', 'Sneaker']);
    expect(json.summary.map((s: { method: string }) => s.method)).toEqual(['ce', 'mek']);
    expect(json.runs).toHaveLength(2);
    for (const r of json.runs) {
      expect(r.final.step).toBe(3);
      expect(r.final.per_class).toHaveLength(10);
      expect(r.wall_s).toBeGreaterThan(0);
      const s = json.summary.find((x: { method: string }) => x.method === r.method);
      expect(s.accuracy).toEqual({ mean: r.final.accuracy, std: null, n: 1 });
    }
    const md = readFileSync(join(dir, ABLATION_MD), 'utf8');
    expect(md).toMatch(/^# Ablation: tiny\n/);
    expect(md).toMatch(/\| CE \| 1 \| /);
    expect(md).toMatch(/\| mek-s7 \| /);

    const before = statSync(join(dir, 'mek-s7', 'summary.json')).mtimeMs;
    const again = await mek('ablate', '--backend', 'cpu', '--name', 'tiny', '--methods', 'ce,mek', '--seeds', '1', ...sets().flatMap((s) => ['--set', s]));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/\[1\/2\] ce-s7: already done, not re-run: /);
    expect(again.stdout).toMatch(/\[2\/2\] mek-s7: already done, not re-run: /);
    expect(again.stdout).toMatch(/^method\s+seeds\s+accuracy/m);
    expect(again.stdout).toMatch(/final\s+evaluation\s+\(the\s+last\s+step\)/);
    expect(again.stdout).toContain(`done: 2 runs; ${join(dir, ABLATION_JSON)}`);
    expect(statSync(join(dir, 'mek-s7', 'summary.json')).mtimeMs).toBe(before);
  });

  it('an interrupted ablation continues where it stopped', async () => {
    let calls = 0;
    const first = await runAblation(options('resume', { methods: ['rbl'], stopRequested: () => ++calls > 3 }));
    expect(first.interrupted).toBe(true);
    expect(first.complete).toBe(false);
    const dir = join(root, 'runs', 'resume');
    expect(JSON.parse(readFileSync(join(dir, 'rbl-s7', 'summary.json'), 'utf8')).interrupted).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, ABLATION_JSON), 'utf8')).complete).toBe(false);

    const rest = options('resume', { methods: ['rbl'] });
    const second = await runAblation(rest);
    expect(second.complete).toBe(true);
    expect(rest.lines[0]).toMatch(/^\[1\/1\] rbl-s7: .*\(final, step 3\).*\(resumed\)$/);
    expect(second.runs[0]!.runDir).toBe(join(dir, 'rbl-s7'));
  });

  it('with a validation split: the table takes each run\'s one test evaluation of best.json and its post-hoc result', async () => {
    const opts = options('val', { config: loadConfig(undefined, sets(['data.val_fraction=0.3', 'train.best_metric=mean_class_accuracy'])), methods: ['la', 'mek-la'] });
    const result = await runAblation(opts);
    expect(result.complete).toBe(true);
    expect(opts.lines[0]).toMatch(/^\[1\/2\] la-s7: .*\(final, step 3\); post-hoc tau [\d.]+: mean-class \d+\.\d\d% in \d+ s; /);
    const dir = join(root, 'runs', 'val');
    const json = JSON.parse(readFileSync(join(dir, ABLATION_JSON), 'utf8'));
    expect(json.selection).toBe('val');
    for (const r of json.runs) {
      const summary = JSON.parse(readFileSync(join(dir, `${r.method}-s7`, 'summary.json'), 'utf8'));
      expect(r.final.accuracy).toBe(summary.test.accuracy);
      expect(r.posthoc.tau).toBe(summary.posthoc.tau);
      expect(r.posthoc.test.mean_class_accuracy).toBe(summary.posthoc.test.mean_class_accuracy);
    }
    expect(json.methods.find((m: { method: string }) => m.method === 'mek-la').set).toMatchObject({ 'loss.logit_adjust': 1, 'loss.rbl_shares': 'neutral', 'loss.lambda': 0.01 });
    expect(readFileSync(join(dir, 'mek-la-s7', 'config.yaml'), 'utf8')).toMatch(/logit_adjust: 1\n/);
    expect(result.table).toMatch(/evaluated once at the end/);
  });

  it('refuses to mix another recipe into an ablation folder, and unknown methods', async () => {
    const other = options('tiny', { config: loadConfig(undefined, sets(['optim.lr=2e-3'])) });
    await expect(runAblation(other)).rejects.toThrow(/tiny holds an ablation of a different config \(optim\.lr 0\.001 -> 0\.002\); choose another --name/);
    const noted = options('noted', { config: loadConfig(undefined, sets(['loss.logit_adjust=0.5'])), methods: ['ce'] });
    await runAblation(noted);
    expect(noted.lines[0]).toMatch(/^note: loss\.logit_adjust is set by every method \(.*\); the config's value is not used$/);
    const r = await mek('ablate', '--backend', 'cpu', '--methods', 'ce,focal', '--set', 'train.steps=1');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("mek: --methods: unknown method 'focal' (choose from ce, rbl, rac, mek, la, drw, bal, mek-la, mek-norm, mek-tp, mek-w1, mek-v, mek-v-la)");
  });
});
