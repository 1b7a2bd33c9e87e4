// The plan of an ablation: which method x seed runs, each with which config, in which folder.
// It is written before anything is trained, so the table can be built from the folder alone
// (`mek ablate --table`), whoever trained the runs: mek, or the PyTorch reference
// (scripts/reference/train_longtail.py) from the run folders `mek ablate --plan-only` writes.
// The ablation folder keeps the base config, so a second invocation with a different recipe
// cannot mix its runs into the table of the first.
//
//   <train.out_dir>/<name>/config.yaml        the base config (before method and seed)
//   <train.out_dir>/<name>/plan.json          the methods, the seeds and the config file's name
//   <train.out_dir>/<name>/<method>-s<seed>/  one run folder per method and seed; --plan-only
//       config.yaml                           writes the run's resolved config (all keys) and
//       architecture.json                     the model it builds, as checkpoints record it
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UsageError } from '../errors.ts';
import { configToYaml, defaultConfig, flattenConfig, loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { variantFromConfig } from '../config/variant.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { readJson } from './run-folder.ts';
import { AS_GIVEN, METHOD_KEYS, METHOD_NAMES, RECIPE_NAMES, RECIPES, type Method, type Recipe } from './table.ts';

export const BASE_CONFIG = 'config.yaml';
export const PLAN_FILE = 'plan.json';
export const ARCHITECTURE_FILE = 'architecture.json';
/** What --plan-only puts in a run folder: a folder holding only these has not been trained. */
export const PLANNED_RUN_FILES: readonly string[] = [BASE_CONFIG, ARCHITECTURE_FILE];

/** plan.json: what, with the base config.yaml beside it, makes the plan again. */
interface PlanFile {
  /** The config file the base came from, or null for --set only. */
  config: string | null;
  methods: Recipe[];
  seeds: number[];
}

/**
 * Keys a re-invocation may change without mixing different recipes in one table: what names and
 * places the runs, what the methods and seeds set anyway, and what only changes speed or logging.
 */
const FREE_KEYS = new Set([
  'train.name', 'train.out_dir', 'train.seed', ...METHOD_KEYS,
  'data.workers', 'data.prefetch', 'data.cache_mb', 'train.log_every', 'train.micro_batch', 'train.recompute', 'train.threads',
]);

export interface PlannedRun {
  method: Recipe;
  seed: number;
  /** "<method>-s<seed>": the run's folder name and its train.name. */
  tag: string;
  dir: string;
}

export interface AblationPlan {
  /** The ablation folder. */
  dir: string;
  /** The base config; each run sets its method's keys, train.seed, out_dir and name on top. */
  config: Config;
  /** The config file the base came from, for the table's caption. */
  configPath?: string;
  methods: Recipe[];
  seeds: number[];
  /** Seed-major: every method of the first seed before the second, so an early stop still compares. */
  runs: PlannedRun[];
}

export interface PlanOptions {
  config: Config;
  configPath?: string;
  methods: readonly Recipe[];
  /** Number of seeds: train.seed, train.seed + 1, ... */
  seeds: number;
  /** Ablation folder name under train.out_dir (default: <config name>-ablation). */
  name?: string;
}

/** "ce,rbl,mek" as methods in the given order, each once; unknown names are a UsageError. */
export function parseMethods(text: string): Method[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError(`--methods: no method given (choose from ${METHOD_NAMES.join(', ')})`);
  for (const n of names) {
    if (!(METHOD_NAMES as string[]).includes(n)) throw new UsageError(`--methods: unknown method '${n}' (choose from ${METHOD_NAMES.join(', ')})`);
  }
  return [...new Set(names)] as Method[];
}

export function ablationDir(config: Config, configPath: string | undefined, name?: string): string {
  const base = configPath ? basename(configPath, extname(configPath)) : config.train.name || 'run';
  return join(config.train.out_dir, name || `${base}-ablation`);
}

/** The runs of an ablation and where they go; reads and writes nothing. */
export function planAblation(opts: PlanOptions): AblationPlan {
  if (!Number.isInteger(opts.seeds) || opts.seeds < 1) throw new UsageError(`--seeds must be a positive integer, got ${opts.seeds}`);
  if (opts.methods.length === 0) throw new UsageError('--methods: no method given');
  const dir = ablationDir(opts.config, opts.configPath, opts.name);
  const seeds = Array.from({ length: opts.seeds }, (_, i) => opts.config.train.seed + i);
  return { dir, config: opts.config, configPath: opts.configPath, methods: [...opts.methods], seeds, runs: runsOf(dir, opts.methods, seeds) };
}

function runsOf(dir: string, methods: readonly Recipe[], seeds: readonly number[]): PlannedRun[] {
  return seeds.flatMap((seed) => methods.map((method) => ({ method, seed, tag: `${method}-s${seed}`, dir: join(dir, `${method}-s${seed}`) })));
}

/**
 * Creates the ablation folder with its base config and plan.json, after checking that the
 * folder holds no ablation of another recipe. `line` gets a note per base key that every
 * method overrides (unless the config as given is one of the runs: it trains them as they are).
 */
export async function writePlan(plan: AblationPlan, line: (text: string) => void): Promise<void> {
  checkSameRecipe(plan.dir, plan.config, plan.methods);
  mkdirSync(plan.dir, { recursive: true });
  await writeFileAtomic(join(plan.dir, BASE_CONFIG), configToYaml(plan.config));
  const file: PlanFile = { config: plan.configPath ?? null, methods: plan.methods, seeds: plan.seeds };
  await writeFileAtomic(join(plan.dir, PLAN_FILE), JSON.stringify(file, null, 2) + '\n');
  if (plan.methods.includes(AS_GIVEN)) return;
  for (const key of overriddenKeys(plan.config)) line(`note: ${key} is set by every method (${METHOD_KEYS.join(', ')}); the config's value is not used`);
}

/**
 * Writes each run folder's resolved config.yaml and architecture.json, for a trainer other than
 * mek to read; a folder that already holds anything else (a run started or done) is left as it
 * is. Returns the runs written.
 */
export async function writePlannedRuns(plan: AblationPlan): Promise<PlannedRun[]> {
  const written: PlannedRun[] = [];
  for (const run of plan.runs) {
    if (existsSync(run.dir) && readdirSync(run.dir).some((f) => !PLANNED_RUN_FILES.includes(f))) continue;
    const config = runConfig(plan.config, plan.dir, run.method, run.seed);
    mkdirSync(run.dir, { recursive: true });
    await writeFileAtomic(join(run.dir, BASE_CONFIG), configToYaml(config));
    await writeFileAtomic(join(run.dir, ARCHITECTURE_FILE), JSON.stringify(variantFromConfig(config), null, 2) + '\n');
    written.push(run);
  }
  return written;
}

/** The plan of an ablation folder, from its config.yaml and plan.json. */
export function readPlan(dir: string): AblationPlan {
  const file = readJson<PlanFile>(join(dir, PLAN_FILE));
  if (!file) {
    throw new UsageError(`${join(dir, PLAN_FILE)}: not found or not JSON; is ${dir} an ablation folder? (mek ablate --plan-only with the ablation's arguments writes it, training nothing)`);
  }
  const methods = file.methods.filter((m) => RECIPE_NAMES.includes(m));
  if (methods.length !== file.methods.length) throw new UsageError(`${join(dir, PLAN_FILE)}: unknown methods in ${JSON.stringify(file.methods)}`);
  const config = loadConfig(join(dir, BASE_CONFIG));
  return { dir, config, configPath: file.config ?? undefined, methods, seeds: file.seeds, runs: runsOf(dir, methods, file.seeds) };
}

/** A method's keys with their values for a run of `steps` steps (none for the config as given). */
export function methodValues(method: Recipe, steps: number): Record<string, unknown> {
  return Object.fromEntries(Object.entries(RECIPES[method].set).map(([key, v]) => [key, typeof v === 'function' ? v(steps) : v]));
}

/** The config of one method/seed run: the base with the method's keys, the seed and its folder. */
export function runConfig(base: Config, dir: string, method: Recipe, seed: number): Config {
  const c = structuredClone(base);
  for (const [key, value] of Object.entries(methodValues(method, base.train.steps))) {
    const [section, name] = key.split('.') as [keyof Config, string];
    (c[section] as unknown as Record<string, unknown>)[name] = value;
  }
  c.train.seed = seed;
  c.train.out_dir = dir;
  c.train.name = `${method}-s${seed}`;
  return c;
}

/** Method keys the base config sets away from their defaults: each method overrides them. */
function overriddenKeys(config: Config): string[] {
  const defaults = comparable(defaultConfig());
  const now = comparable(config);
  return METHOD_KEYS.filter((k) => now.get(k) !== defaults.get(k));
}

/** Every key's value as JSON text, so that lists compare by content. */
function comparable(config: Config): Map<string, string> {
  return new Map([...flattenConfig(config)].map(([key, value]) => [key, JSON.stringify(value)]));
}

/** Refuses to continue an ablation folder that was started with a different recipe. */
function checkSameRecipe(dir: string, config: Config, methods: readonly Recipe[]): void {
  const file = join(dir, BASE_CONFIG);
  if (!existsSync(file)) return;
  // Read as any config is: a key added to the schema since takes its default, which is the
  // behaviour the earlier runs had.
  const saved = comparable(loadConfig(file));
  const now = comparable(config);
  // The config as given trains the method keys as they are: then they are the recipe.
  const free = methods.includes(AS_GIVEN) ? [...FREE_KEYS].filter((k) => !METHOD_KEYS.includes(k)) : [...FREE_KEYS];
  const differ = [...now.keys()].filter((k) => !free.includes(k) && saved.get(k) !== now.get(k));
  if (differ.length > 0) {
    const shown = differ.slice(0, 4).map((k) => `${k} ${saved.get(k)} -> ${now.get(k)}`).join(', ');
    throw new UsageError(
      `${dir} holds an ablation of a different config (${shown}${differ.length > 4 ? `, ${differ.length - 4} more` : ''}); choose another --name or remove the folder`,
    );
  }
}
