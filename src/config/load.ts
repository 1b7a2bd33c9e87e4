// Loading a configuration: the schema's defaults, then the YAML file (only the keys that
// differ), then each --set override, every value checked against the schema. A problem is one
// line naming the file and line (or the --set) and the key, with the nearest known key.
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode, stringify } from 'yaml';
import { UsageError } from '../commands/errors.ts';
import { MiB, readRegularFileSync } from '../io/read-file.ts';

/** A config lists a few dozen keys. */
const MAX_CONFIG_BYTES = MiB;
import { SCHEMA, type Config, type KeySpec } from './schema.ts';
import { parseRandAugmentSpec } from '../data/augment/randaugment.ts';

export class ConfigError extends UsageError {
  override name = 'ConfigError';
}

const SPECS = new Map(SCHEMA.map((s) => [s.key, s]));
const SECTIONS = new Set(SCHEMA.map((s) => s.key.split('.')[0]!));

/** The defaults of every key, as a nested Config. */
export function defaultConfig(): Config {
  const flat = new Map(SCHEMA.map((s) => [s.key, structuredClone(s.default)]));
  return nest(flat);
}

/**
 * The configuration of `file` (or the defaults alone when absent) with `sets` ("a.b=value",
 * the value written as in YAML) applied in order.
 */
export function loadConfig(file?: string, sets: readonly string[] = []): Config {
  const flat = new Map(SCHEMA.map((s) => [s.key, structuredClone(s.default)]));
  if (file) {
    for (const [key, value] of readYamlFile(file)) flat.set(key, value);
  }
  for (const set of sets) {
    const [key, value] = parseSet(set);
    flat.set(key, value);
  }
  const config = nest(flat);
  checkConsistency(config, file ?? '--set');
  return config;
}

function readYamlFile(file: string): Map<string, unknown> {
  let text: string;
  try {
    text = readRegularFileSync(file, { maxBytes: MAX_CONFIG_BYTES, what: 'config' }, (p) => {
      throw new ConfigError(`${file}: ${p}`);
    }).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`${file}: cannot read config (${code === 'ENOENT' ? 'no such file' : code ?? String(err)})`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = lines.linePos(e.pos[0]).line;
    throw new ConfigError(`${file}:${line}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const out = new Map<string, unknown>();
  const where = (node: YamlNode | null | undefined) => {
    const offset = node?.range?.[0];
    return offset === undefined ? file : `${file}:${lines.linePos(offset).line}`;
  };
  if (doc.contents === null) return out;
  if (!isMap(doc.contents)) throw new ConfigError(`${file}: a config is a mapping of sections (model:, data:, train:, ...)`);
  const visit = (node: YamlNode, prefix: string) => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode;
      const name = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const key = prefix ? `${prefix}.${name}` : name;
      const valueNode = pair.value as YamlNode | null;
      if (!prefix) {
        if (!SECTIONS.has(name)) throw new ConfigError(`${where(keyNode)}: unknown section '${name}'${suggest(name, [...SECTIONS])}`);
        if (valueNode === null || !isMap(valueNode)) {
          throw new ConfigError(`${where(keyNode)}: section '${name}' must be a mapping of keys`);
        }
        visit(valueNode, key);
        continue;
      }
      const spec = SPECS.get(key);
      if (!spec) throw new ConfigError(`${where(keyNode)}: unknown key '${key}'${suggest(key, [...SPECS.keys()])}`);
      const value = valueNode === null ? null : resolve(valueNode, doc, where(valueNode), key);
      const problem = checkValue(spec, value);
      if (problem) throw new ConfigError(`${where(valueNode ?? keyNode)}: ${key}: ${problem}`);
      out.set(key, value);
    }
  };
  visit(doc.contents, '');
  return out;
}

/** Anchors and aliases are YAML; expanding them is bounded, so an alias bomb is one line too. */
const MAX_ALIAS_COUNT = 100;

function resolve(node: YamlNode, doc: Document, where: string, key: string): unknown {
  try {
    return node.toJS(doc, { maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new ConfigError(`${where}: ${key}: ${(err as Error).message.split('\n')[0]}`);
  }
}

function parseSet(set: string): [string, unknown] {
  const eq = set.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set ${set}: expected key=value (for example --set train.batch_size=64)`);
  const key = set.slice(0, eq).trim();
  const raw = set.slice(eq + 1);
  const spec = SPECS.get(key);
  if (!spec) throw new ConfigError(`--set ${set}: unknown key '${key}'${suggest(key, [...SPECS.keys()])}`);
  let value: unknown = raw;
  // Values are written as in YAML: 64, 5e-4, true, [2, 2, 6, 2], null; a string that the YAML
  // reading would turn into something else stays a string for string keys.
  if (spec.type.kind !== 'string') {
    const doc = parseDocument(raw, { prettyErrors: false });
    // The parser recovers from [2,2 as [2, 2]; a value that needed recovering is a typo.
    if (doc.errors.length > 0) throw new ConfigError(`--set ${set}: ${key}: not a YAML value (${doc.errors[0]!.message.split('\n')[0]})`);
    value = doc.contents === null ? null : resolve(doc.contents as YamlNode, doc, `--set ${set}`, key);
  }
  const problem = checkValue(spec, value);
  if (problem) throw new ConfigError(`--set ${set}: ${key}: ${problem}`);
  return [key, value];
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** What is wrong with `value` for `spec`, or null. */
export function checkValue(spec: KeySpec, value: unknown): string | null {
  if (value === null || value === undefined) return spec.nullable ? null : `a value is required (default ${describe(spec.default)})`;
  const t = spec.type;
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const range = (v: number, min?: number, max?: number) =>
    min !== undefined && v < min ? `must be >= ${min}, got ${v}` : max !== undefined && v > max ? `must be <= ${max}, got ${v}` : null;
  switch (t.kind) {
    case 'string':
      return typeof value === 'string' ? null : `expected a string, got ${describe(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `expected true or false, got ${describe(value)}`;
    case 'number':
      if (typeof value === 'string' && t.words?.includes(value)) return null;
      if (!isNum(value)) return `expected a number${t.words ? ` or ${t.words.map((w) => `'${w}'`).join(', ')}` : ''}, got ${describe(value)}`;
      return range(value, t.min, t.max);
    case 'int':
      if (!isNum(value) || !Number.isInteger(value)) return `expected an integer, got ${describe(value)}`;
      return range(value, t.min, t.max);
    case 'enum':
      return typeof value === 'string' && t.values.includes(value)
        ? null
        : `expected one of ${t.values.join(', ')}, got ${describe(value)}${typeof value === 'string' ? suggest(value, t.values) : ''}`;
    case 'string[]':
      return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')
        ? null
        : `expected a non-empty list of strings, got ${describe(value)}`;
    case 'number[]':
      if (!Array.isArray(value) || !value.every(isNum)) return `expected a list of numbers, got ${describe(value)}`;
      return t.length !== undefined && value.length !== t.length ? `expected ${t.length} numbers, got ${value.length}` : null;
    case 'int[]':
      return Array.isArray(value) && value.length > 0 && value.every((v) => isNum(v) && Number.isInteger(v) && v > 0)
        ? null
        : `expected a non-empty list of positive integers, got ${describe(value)}`;
  }
}

/** Cross-key rules that single values cannot express. */
function checkConsistency(c: Config, where: string): void {
  if (c.data.format === 'list' && (!c.data.train_list || !c.data.test_list)) {
    throw new ConfigError(`${where}: data.format 'list' needs data.train_list and data.test_list`);
  }
  if (c.train.micro_batch > c.train.batch_size) {
    throw new ConfigError(`${where}: train.micro_batch (${c.train.micro_batch}) exceeds train.batch_size (${c.train.batch_size})`);
  }
  if (c.augment.std.some((s) => s <= 0)) throw new ConfigError(`${where}: augment.std values must be positive`);
  if (c.loss.drw_step > c.train.steps) {
    throw new ConfigError(`${where}: loss.drw_step (${c.loss.drw_step}) is beyond train.steps (${c.train.steps}); re-weighting would never start`);
  }
  if (c.augment.randaugment.trim() !== '') {
    try {
      parseRandAugmentSpec(c.augment.randaugment);
    } catch (err) {
      throw new ConfigError(`${where}: augment.randaugment: ${(err as Error).message} (a timm spec such as 'rand-m9-mstd0.5-inc1', or '' for none)`);
    }
  }
  if (c.loss.drw_beta >= 1) throw new ConfigError(`${where}: loss.drw_beta must be below 1, got ${c.loss.drw_beta} (the effective number of samples divides by 1 - beta)`);
}

function nest(flat: Map<string, unknown>): Config {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of flat) {
    const [section, name] = key.split('.') as [string, string];
    (out[section] ??= {})[name] = value;
  }
  return out as unknown as Config;
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

/** " (did you mean 'x'?)" for the closest candidate, comparing whole keys and last segments. */
export function suggest(word: string, candidates: readonly string[]): string {
  let best = '';
  let bestScore = Infinity;
  const tail = word.split('.').pop()!;
  for (const c of candidates) {
    const score = Math.min(distance(word, c), distance(tail, c.split('.').pop()!) + 0.5);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best && bestScore <= Math.max(3, tail.length / 2) ? ` (did you mean '${best}'?)` : '';
}

/**
 * A configuration saved in a checkpoint or run folder, re-checked against today's schema, with
 * `sets` applied on top. Keys the schema no longer has are reported like any unknown key.
 */
export function loadSavedConfig(saved: object, sets: readonly string[] = []): Config {
  const savedSets = Object.entries(saved).flatMap(([section, values]) =>
    Object.entries(values as Record<string, unknown>).map(
      ([key, value]) => `${section}.${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
    ),
  );
  return loadConfig(undefined, [...savedSets, ...sets]);
}

/** A config as `section.key` -> value: the schema's names, for comparing two configs key by key. */
export function flattenConfig(config: Config): Map<string, unknown> {
  const flat = new Map<string, unknown>();
  for (const [section, values] of Object.entries(config)) {
    for (const [name, value] of Object.entries(values as Record<string, unknown>)) flat.set(`${section}.${name}`, value);
  }
  return flat;
}

/** A resolved config as YAML, for the run folder. */
export function configToYaml(config: Config): string {
  return stringify(config, { lineWidth: 0 });
}

/** configs/default.yaml: every key with its default and its meaning, generated from the schema. */
export function defaultConfigYaml(): string {
  const lines = [
    '# Every mek configuration key with its default. Generated from src/config/schema.ts by',
    '# `mek config defaults`; a test keeps it in step. Experiment configs hold only what differs.',
  ];
  let section = '';
  for (const spec of SCHEMA) {
    const [sec, name] = spec.key.split('.') as [string, string];
    if (sec !== section) {
      lines.push('', `${sec}:`);
      section = sec;
    }
    const value = stringify(spec.default, { flow: true, lineWidth: 0 }).trim();
    lines.push(`  ${name}: ${value}`.padEnd(40) + ` # ${spec.doc}`);
  }
  return lines.join('\n') + '\n';
}
