// The ablation table's maths on fake runs (no training): mean and sample std over seeds, the
// rarest classes by training count, their mean recall, and the text and Markdown renderings.
import { describe, expect, it } from 'vitest';
import {
  caption,
  formatDuration,
  formatMarkdown,
  formatStat,
  formatTable,
  rarestClasses,
  stat,
  subsetAccuracy,
  summarise,
  type EvalResult,
  type Method,
  type RunResult,
  type TableContext,
} from '../../src/ablate/table.ts';

const CLASSES = ['a', 'b', 'c', 'd', 'e'];
const TRAIN = [500, 300, 40, 90, 40];

function evalOf(step: number, accuracy: number, perClass: (number | null)[]): EvalResult {
  const present = perClass.filter((v): v is number => v !== null);
  return { step, accuracy, mean_class_accuracy: present.reduce((a, b) => a + b, 0) / present.length, per_class: perClass };
}

function run(method: Method, seed: number, accuracy: number, perClass: (number | null)[], wall: number | null = 60, posthoc: RunResult['posthoc'] = null): RunResult {
  return { method, seed, runDir: `x/${method}-s${seed}`, final: evalOf(100, accuracy, perClass), best: evalOf(50, accuracy + 0.01, perClass), posthoc, wallSeconds: wall };
}

describe('statistics', () => {
  it('mean and sample standard deviation (n - 1); no std for one value; null for none', () => {
    const s = stat([0.8, 0.9, 1.0])!;
    expect(s.mean).toBeCloseTo(0.9, 12);
    expect(s.std).toBeCloseTo(0.1, 12);
    expect(s.n).toBe(3);
    expect(stat([2, 4])).toEqual({ mean: 3, std: Math.SQRT2, n: 2 });
    expect(stat([0.5])).toEqual({ mean: 0.5, std: null, n: 1 });
    expect(stat([])).toBeNull();
  });

  it('the rarest classes are the fewest training images, ties to the higher class index', () => {
    expect(rarestClasses(TRAIN, CLASSES)).toEqual([
      { index: 4, name: 'e', train: 40 },
      { index: 2, name: 'c', train: 40 },
      { index: 3, name: 'd', train: 90 },
    ]);
    expect(rarestClasses([5, 1], ['x', 'y']).map((r) => r.index)).toEqual([1, 0]);
  });

  it('subset accuracy is the unweighted mean recall, leaving out classes without test samples', () => {
    expect(subsetAccuracy([1, 0.5, 0.2, 0.4, 0.6], [4, 2, 3])).toBeCloseTo(0.4, 12);
    expect(subsetAccuracy([1, 0.5, null, 0.4, 0.6], [4, 2, 3])).toBeCloseTo(0.5, 12);
    expect(subsetAccuracy([1, null], [1])).toBeNull();
  });
});

describe('summarise', () => {
  const runs = [
    run('ce', 1, 0.9, [1, 1, 0.1, 0.2, 0.3]),
    run('ce', 2, 0.8, [1, 1, 0.3, 0.4, 0.5], 80),
    run('mek', 1, 0.85, [1, 1, 0.6, 0.6, 0.6]),
  ];
  const rare = rarestClasses(TRAIN, CLASSES);

  it('per method over its seeds, in the order asked; a method without runs is all empty', () => {
    const [ce, rbl, mek] = summarise(runs, ['ce', 'rbl', 'mek'], rare);
    expect(ce!.seeds).toEqual([1, 2]);
    expect(ce!.accuracy!.mean).toBeCloseTo(0.85, 12);
    expect(ce!.accuracy!.std).toBeCloseTo(Math.sqrt(0.005), 12);
    // Rarest (e, c, d): seed 1 (0.3 + 0.1 + 0.2) / 3 = 0.2, seed 2 0.4: mean 0.3, std sqrt(0.02).
    expect(ce!.rarest!.mean).toBeCloseTo(0.3, 12);
    expect(ce!.rarest!.std).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(ce!.meanClass!.mean).toBeCloseTo((0.52 + 0.64) / 2, 12);
    expect(ce!.bestAccuracy!.mean).toBeCloseTo(0.86, 12);
    expect(ce!.wallSeconds!.mean).toBe(70);
    expect(ce!.wallTotal).toBe(140);
    expect(rbl).toMatchObject({ seeds: [], accuracy: null, rarest: null, wallTotal: null });
    expect(mek!.rarest).toEqual({ mean: 0.6, std: null, n: 1 });
  });

  it('renders percentages with ± std, the mean alone for one seed, and a caption saying which checkpoint', () => {
    expect(formatStat({ mean: 0.85, std: 0.0707, n: 2 })).toBe('85.00 ± 7.07');
    expect(formatStat({ mean: 0.6, std: null, n: 1 })).toBe('60.00');
    expect(formatStat(null)).toBe('-');
    expect(formatDuration(12.34)).toBe('12.3s');
    expect(formatDuration(842)).toBe('14m 02s');
    expect(formatDuration(3780)).toBe('1h 03m');
    const ctx: TableContext = { name: 'demo-ablation', config: 'configs/x.yaml', steps: 100, seeds: [1, 2], rarest: rare, bestMetric: 'accuracy', selection: 'test', valFraction: 0 };
    const summaries = summarise(runs, ['ce', 'mek'], rare);
    const table = formatTable(summaries, ctx);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(
      /^method\s+seeds\s+accuracy\s+mean-class\s+rarest-3\s+post-hoc acc\.\s+post-hoc mean-class\s+post-hoc rarest-3\s+tau\s+best acc\.\s+best mean-class\s+time\/run$/,
    );
    expect(lines[2]).toMatch(/^CE\s+2\s+85\.00 ± 7\.07\s+58\.00 ± 8\.49\s+30\.00 ± 14\.14\s+-\s+-\s+-\s+-\s+86\.00 ± 7\.07\s+58\.00 ± 8\.49\s+1m 10s$/);
    expect(lines[3]).toMatch(/^MEK \(RBL \+ RAC\)\s+1\s+85\.00\s+76\.00\s+60\.00\s+-\s+-\s+-\s+-\s+86\.00\s+76\.00\s+1m 00s$/);
    expect(caption(ctx)).toMatch(/final evaluation \(the last step\)/);
    expect(caption(ctx)).toMatch(/e \(40\), c \(40\), d \(90\)/);
    expect(caption(ctx)).toMatch(/picked on the test split, so optimistic/);
    const md = formatMarkdown(summaries, runs, ctx);
    expect(md).toContain('| CE | 2 | 85.00 ± 7.07 | 58.00 ± 8.49 | 30.00 ± 14.14 | - | - | - | - | 86.00 ± 7.07 | 58.00 ± 8.49 | 1m 10s |');
    expect(md).toContain('| ce-s2 | 80.00 | 64.00 | 40.00 | - | 81.00 (50) | 1m 20s |');
    expect(md).toContain('| mek-s1 | 85.00 | 76.00 | 60.00 | - | 86.00 (50) | 1m 00s |');
  });

  it('with a validation split: the post-hoc columns over seeds, and a caption that says what was picked where', () => {
    const withPosthoc = [
      run('la', 1, 0.8, [1, 1, 0.1, 0.2, 0.3], 60, { tau: 0.25, test: evalOf(100, 0.7, [1, 0.8, 0.4, 0.4, 0.6]) }),
      run('la', 2, 0.8, [1, 1, 0.1, 0.2, 0.3], 60, { tau: 0.75, test: evalOf(100, 0.6, [1, 0.6, 0.6, 0.6, 0.6]) }),
    ];
    const [la] = summarise(withPosthoc, ['la'], rare);
    expect(la!.posthocTau).toEqual({ mean: 0.5, std: Math.sqrt(0.125), n: 2 });
    expect(la!.posthocAccuracy!.mean).toBeCloseTo(0.65, 12);
    expect(la!.posthocMeanClass!.mean).toBeCloseTo((0.64 + 0.68) / 2, 12);
    // rarest (e, c, d): seed 1 (0.6 + 0.4 + 0.4) / 3, seed 2 0.6
    expect(la!.posthocRarest!.mean).toBeCloseTo((1.4 / 3 + 0.6) / 2, 12);
    const ctx: TableContext = { name: 'x', config: 'c.yaml', steps: 100, seeds: [1, 2], rarest: rare, bestMetric: 'mean_class_accuracy', selection: 'val', valFraction: 0.1 };
    const line = formatTable([la!], ctx).split('\n')[2]!;
    expect(line).toMatch(/^CE \+ LA\s+2\s+80\.00 ± 0\.00\s+52\.00 ± 0\.00\s+20\.00 ± 0\.00\s+65\.00 ± 7\.07\s+66\.00 ± 2\.83\s+53\.33 ± 9\.43\s+0\.50\s/);
    expect(caption(ctx)).toMatch(/best validation mean_class_accuracy \(data\.val_fraction 0\.1\), evaluated once at the end/);
    expect(caption(ctx)).toMatch(/tau chosen on the validation split/);
    expect(formatMarkdown([la!], withPosthoc, ctx)).toContain('| la-s2 | 80.00 | 52.00 | 20.00 | 68.00 (0.75) |');
  });
});
