// Configuration: defaults from one schema, YAML files holding only what differs, --set
// overrides, and one clear line (file:line, key, nearest known key) for every mistake.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { defaultConfig, defaultConfigYaml, loadConfig } from '../../src/config/load.ts';
import { SCHEMA } from '../../src/config/schema.ts';
import { expectOneLineError, thrownBy } from '../helpers/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'mek-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const errorOf = (f: () => unknown): string => expectOneLineError(thrownBy(f), ConfigError).message;

describe('config', () => {
  it('configs/default.yaml is exactly what the schema generates (run `mek config defaults`)', () => {
    const committed = readFileSync(new URL('../../configs/default.yaml', import.meta.url), 'utf8');
    expect(committed).toBe(defaultConfigYaml());
  });

  it('the default file loads to the defaults, and every schema key is in the typed config', () => {
    const loaded = loadConfig(new URL('../../configs/default.yaml', import.meta.url).pathname);
    expect(loaded).toEqual(defaultConfig());
    for (const spec of SCHEMA) {
      const [section, name] = spec.key.split('.') as [string, string];
      expect((loaded as any)[section], spec.key).toHaveProperty(name);
    }
    expect(loaded.train.batch_size).toBe(32);
    expect(loaded.loss.eps).toBe(0.3);
  });

  it('a file holds only what differs; --set applies after it, in order', () => {
    const path = file('small.yaml', 'train:\n  batch_size: 8\nloss:\n  rac: false\n');
    const c = loadConfig(path, ['train.batch_size=16', 'model.depths=[2, 2]', 'loss.balance_normaliser=classes', 'data.root=my data']);
    expect(c.train.batch_size).toBe(16);
    expect(c.loss.rac).toBe(false);
    expect(c.model.depths).toEqual([2, 2]);
    expect(c.loss.balance_normaliser).toBe('classes');
    expect(c.data.root).toBe('my data');
    expect(c.optim.lr).toBe(5e-4);
  });

  it('an unknown key names the file, line and nearest known key', () => {
    const path = file('typo.yaml', 'train:\n  steps: 10\n  bacth_size: 8\n');
    expect(errorOf(() => loadConfig(path))).toBe(`${path}:3: unknown key 'train.bacth_size' (did you mean 'train.batch_size'?)`);
    const section = file('section.yaml', 'trian:\n  steps: 10\n');
    expect(errorOf(() => loadConfig(section))).toContain(`${section}:1: unknown section 'trian' (did you mean 'train'?)`);
  });

  it('a wrong type or value names the key and what was expected', () => {
    expect(errorOf(() => loadConfig(file('t1.yaml', 'train:\n  batch_size: "big"\n')))).toMatch(/t1\.yaml:2: train\.batch_size: expected an integer, got "big"/);
    expect(errorOf(() => loadConfig(file('t2.yaml', 'loss:\n  eps: 1.5\n')))).toMatch(/loss\.eps: must be <= 1, got 1\.5/);
    expect(errorOf(() => loadConfig(file('t3.yaml', 'data:\n  format: imagefolder\n')))).toMatch(/expected one of rafdb, list, folder/);
    expect(errorOf(() => loadConfig(file('t4.yaml', 'augment:\n  mean: [0.5, 0.5]\n')))).toMatch(/augment\.mean: expected 3 numbers, got 2/);
    expect(errorOf(() => loadConfig(file('t5.yaml', 'model:\n  variant: swin_b\n')))).toMatch(/model\.variant: expected one of/);
  });

  it('bad --set values fail the same way', () => {
    expect(errorOf(() => loadConfig(undefined, ['train.batch_size=abc']))).toBe('--set train.batch_size=abc: train.batch_size: expected an integer, got "abc"');
    expect(errorOf(() => loadConfig(undefined, ['train.batchsize=4']))).toContain("(did you mean 'train.batch_size'?)");
    expect(errorOf(() => loadConfig(undefined, ['train.batch_size']))).toContain('expected key=value');
    expect(errorOf(() => loadConfig(undefined, ['loss.rbl=maybe']))).toContain('expected true or false');
    // the YAML parser recovers from an unclosed list; mek does not take the recovered value
    expect(errorOf(() => loadConfig(undefined, ['model.depths=[2,2']))).toBe('--set model.depths=[2,2: model.depths: not a YAML value (Flow sequence must end with a ])');
    expect(loadConfig(undefined, ['model.depths=']).model.depths).toBeNull();
  });

  it('YAML anchors and aliases are values like any other', () => {
    const c = loadConfig(file('alias.yaml', 'optim:\n  lr: &lr 5.0e-4\nschedule:\n  min_lr: *lr\nmodel:\n  depths: &d [2, 2]\n  num_heads: *d\n'));
    expect(c.schedule.min_lr).toBe(5e-4);
    expect(c.model.num_heads).toEqual([2, 2]);
  });

  it('broken YAML, a missing file and cross-key rules are one line each', () => {
    expect(errorOf(() => loadConfig(file('bad.yaml', 'train:\n  steps: [1, 2\n')))).toMatch(/bad\.yaml:\d+: invalid YAML/);
    expect(errorOf(() => loadConfig(join(dir, 'nope.yaml')))).toMatch(/nope\.yaml: cannot read config \(no such file\)/);
    expect(errorOf(() => loadConfig(undefined, ['data.format=list']))).toContain('needs data.train_list and data.test_list');
    expect(errorOf(() => loadConfig(undefined, ['train.batch_size=4', 'train.micro_batch=8']))).toContain('exceeds train.batch_size');
    // checked with the config, before a run folder exists
    expect(errorOf(() => loadConfig(undefined, ['augment.randaugment=hello']))).toBe(
      "--set: augment.randaugment: RandAugment spec 'hello': must start with 'rand' (got 'hello') (a timm spec such as 'rand-m9-mstd0.5-inc1', or '' for none)",
    );
    expect(loadConfig(undefined, ['augment.randaugment=rand-m7-n3']).augment.randaugment).toBe('rand-m7-n3');
  });

  it('bad values of the long-tail keys are one line naming the key', () => {
    expect(errorOf(() => loadConfig(undefined, ['loss.logit_adjust=-1']))).toBe('--set loss.logit_adjust=-1: loss.logit_adjust: must be >= 0, got -1');
    expect(errorOf(() => loadConfig(undefined, ['data.val_fraction=0.6']))).toBe('--set data.val_fraction=0.6: data.val_fraction: must be <= 0.5, got 0.6');
    expect(errorOf(() => loadConfig(undefined, ['data.val_fraction=-0.1']))).toContain('data.val_fraction: must be >= 0');
    expect(errorOf(() => loadConfig(file('drw.yaml', 'train:\n  steps: 800\nloss:\n  drw_step: 900\n')))).toMatch(/drw\.yaml: loss\.drw_step \(900\) is beyond train\.steps \(800\)/);
    expect(errorOf(() => loadConfig(undefined, ['loss.drw_beta=1']))).toContain('loss.drw_beta must be below 1');
    expect(errorOf(() => loadConfig(undefined, ['loss.rbl_shares=prior']))).toContain('expected one of balance, neutral');
    expect(loadConfig(undefined, ['train.steps=800', 'loss.drw_step=800', 'data.val_fraction=0.5']).loss.drw_step).toBe(800);
  });
});

describe('shipped configs', () => {
  it.each(['demo', 'rafdb', 'affectnet', 'ferplus', 'fmnist-lt'])('configs/%s.yaml loads', (name) => {
    const c = loadConfig(new URL(`../../configs/${name}.yaml`, import.meta.url).pathname);
    expect(c.data.classes.length).toBeGreaterThan(1);
  });

  it('rafdb.yaml is the paper recipe', () => {
    const c = loadConfig(new URL('../../configs/rafdb.yaml', import.meta.url).pathname);
    expect(c.model.variant).toBe('swin_t');
    expect(c.train.batch_size).toBe(32);
    expect(c.train.steps).toBe(60000);
    expect(c.optim.lr * (c.train.batch_size / c.optim.lr_batch)).toBeCloseTo(3.125e-5, 12);
    expect(c.schedule.warmup_steps).toBe(2000);
    expect(c.loss).toEqual({
      rbl: true, eps: 0.3, rac: true, lambda: 0.1, balance_normaliser: 10, balance_power: 1, focal_gamma: 0, warm_start_steps: 0,
      logit_adjust: 0, rbl_shares: 'balance', drw_step: 0, drw_beta: 0.9999,
      lambda_warmup_steps: 0, rac_normalize: 'none', rac_classes: 'all', rac_weights: 'balance',
    });
    // the paper selects on the test split
    expect(c.data.val_fraction).toBe(0);
    expect(c.augment.randaugment).toBe('rand-m9-mstd0.5-inc1');
    expect(c.train.eval_every).toBe(1000);
    expect(c.train.seed).toBe(2048);
  });
});
