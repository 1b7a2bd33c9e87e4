// Label sources: the three ways a dataset lists its images, read into one shape (samples in
// file order with 0-based labels, plus counts per class).
//   rafdb   one label file, lines `train_00001.jpg 5`; the split is the name's prefix before
//           `_`, labels are 1-based; images at <root>/<name> (the release's layout) or at
//           <root>/Image/aligned/<stem>_aligned.jpg (the official aligned download).
//   list    one file per split, lines `relative/path label` (0-based; the label is the last
//           field, so a path may contain spaces; blank lines and `#` comments are skipped).
//   folder  <root>/<split>/<class>/<image>, class folders named by data.classes.
// Everything here is synchronous: a label file is small and the image checks are stat calls,
// done once before any decoding starts.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, normalize, sep } from 'node:path';
import type { DataConfig } from '../config/schema.ts';
import { MiB, readRegularFileSync } from '../io/read-file.ts';
import { DataError } from '../errors.ts';

/** A label file lists names and labels: RAF-DB's is 270 kB, AffectNet's lists a few MB. */
const MAX_LABEL_FILE_BYTES = 256 * MiB;

export type SplitName = 'train' | 'test';

export interface Sample {
  path: string;
  /** 0-based class index. */
  label: number;
  /** Where the sample was listed: "file:line", or the image path for the folder source. */
  origin: string;
}

export interface SplitSamples {
  /** The split's name in the data (data.train_split / data.test_split for rafdb and folder). */
  split: string;
  samples: Sample[];
  /** Samples per class, in class order. */
  counts: number[];
}

export type ProblemKind =
  | 'missing-source' // label file, list file, root or split folder absent or unreadable
  | 'malformed' // a line that is not `name label`
  | 'label-range' // a label outside the classes
  | 'unknown-class' // a folder-source sub-folder that is not a class
  | 'empty-split' // a split with no samples
  | 'empty-class' // a class with no training samples
  | 'undecodable' // an image that exists but does not decode (mek data check)
  | 'duplicate'; // a name listed twice in one label file

export interface DataProblem {
  kind: ProblemKind;
  /** One line naming the file (and line) and what is wrong. */
  message: string;
}

export interface MissingImage {
  sample: Sample;
  /** Every path looked at, in order. */
  tried: string[];
}

export interface ImageCheck {
  /** Whether every listed image was looked for (otherwise `missing` is empty). */
  checked: boolean;
  /** Where images are looked for, e.g. "dataset/RAF/Image/aligned/<stem>_aligned.jpg". */
  layout: string;
  /** Set when data.root itself does not exist: every image is then missing. */
  rootMissing: boolean;
  missing: MissingImage[];
}

export interface SplitScan extends SplitSamples {
  which: SplitName;
  images: ImageCheck;
}

export interface DatasetScan {
  splits: Partial<Record<SplitName, SplitScan>>;
  /** Every problem found, in the order found; missing images are in each split's `images`. */
  problems: DataProblem[];
}

export interface LoadOptions {
  /** Look for every listed image and fail on the first one absent (default true). */
  checkImages?: boolean;
}

/**
 * The samples of one split. Throws DataError with the first problem: a missing label file,
 * list or root, a malformed line, a label out of range, an empty split, a class without
 * training samples, an unknown class folder, or (with checkImages) an absent image.
 * Synchronous.
 */
export function loadSplit(cfg: DataConfig, which: SplitName, opts: LoadOptions = {}): SplitSamples {
  const checkImages = opts.checkImages ?? true;
  const scan = scanDataset(cfg, [which], { checkImages });
  const problem = scan.problems[0];
  if (problem) throw new DataError(problem.message);
  const split = scan.splits[which]!;
  const images = split.images;
  if (images.rootMissing) throw new DataError(`data.root ${cfg.root}: no such folder (the images of the ${which} split are looked for as ${images.layout})`);
  const first = images.missing[0];
  if (first) throw new DataError(missingMessage(first, images.missing.length));
  return { split: split.split, samples: split.samples, counts: split.counts };
}

/** One line for an absent image: where it was listed and every path tried. */
export function missingMessage(m: MissingImage, total = 1): string {
  const more = total > 1 ? ` (${total - 1} more image${total > 2 ? 's' : ''} missing)` : '';
  return `${m.sample.origin}: image not found at ${m.tried.join(' nor at ')}${more}`;
}

/**
 * Reads the requested splits and collects every problem instead of stopping at the first
 * (for `mek data check`). Problems of a shared label file are reported once.
 */
export function scanDataset(
  cfg: DataConfig,
  which: readonly SplitName[] = ['train', 'test'],
  opts: LoadOptions = {},
): DatasetScan {
  const checkImages = opts.checkImages ?? true;
  const problems: DataProblem[] = [];
  const listed = listSamples(cfg, which, problems);
  const splits: Partial<Record<SplitName, SplitScan>> = {};
  for (const w of which) {
    const entries = listed.get(w);
    const split = splitName(cfg, w);
    if (!entries) {
      // The source could not be read; that problem is already reported.
      splits[w] = { which: w, split, samples: [], counts: cfg.classes.map(() => 0), images: noImages(cfg) };
      continue;
    }
    const resolved = cfg.format === 'rafdb' ? locateRafdb(cfg.root, entries, checkImages) : locatePlain(cfg, entries, checkImages);
    const counts = cfg.classes.map(() => 0);
    for (const s of resolved.samples) counts[s.label]!++;
    splits[w] = { which: w, split, samples: resolved.samples, counts, images: resolved.images };
    if (entries.samples.length === 0) {
      problems.push({ kind: 'empty-split', message: `${entries.source}: no samples in the ${w} split${entries.emptyHint}` });
    } else if (w === 'train') {
      counts.forEach((n, k) => {
        if (n > 0) return;
        const label = cfg.format === 'rafdb' ? k + 1 : k;
        problems.push({
          kind: 'empty-class',
          message: `${entries.source}: class '${cfg.classes[k]}' (label ${label}) has no training samples; every class needs at least one`,
        });
      });
    }
  }
  return { splits, problems };
}

function splitName(cfg: DataConfig, which: SplitName): string {
  if (cfg.format === 'list') return which;
  return which === 'train' ? cfg.train_split : cfg.test_split;
}

function noImages(cfg: DataConfig): ImageCheck {
  return { checked: false, layout: `${cfg.root}/...`, rootMissing: false, missing: [] };
}

// ---- listing: what the label files and folders say ----

interface Listed {
  /** The file or folder the split comes from, for messages. */
  source: string;
  /** Paths as listed (rafdb: the image name; list: relative to root; folder: full path). */
  samples: Sample[];
  /** Extra words for an empty split, e.g. the prefixes that do occur. */
  emptyHint: string;
}

function listSamples(cfg: DataConfig, which: readonly SplitName[], problems: DataProblem[]): Map<SplitName, Listed> {
  switch (cfg.format) {
    case 'rafdb':
      return listRafdb(cfg, which, problems);
    case 'list':
      return new Map(which.flatMap((w) => {
        const listed = listFile(cfg, w, problems);
        return listed ? [[w, listed] as const] : [];
      }));
    case 'folder':
      return listFolders(cfg, which, problems);
  }
}

function readLines(file: string, key: string, problems: DataProblem[]): string[] | null {
  if (!file) {
    problems.push({ kind: 'missing-source', message: `${key} is not set` });
    return null;
  }
  try {
    const fail = (p: string): never => {
      throw new Error(p);
    };
    return readRegularFileSync(file, { maxBytes: MAX_LABEL_FILE_BYTES, what: 'label file' }, fail).toString('utf8').split(/\r?\n/);
  } catch (err) {
    problems.push({ kind: 'missing-source', message: `${key} ${file}: cannot read (${reason(err)})` });
    return null;
  }
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'a folder, not a file';
  return code ?? (err instanceof Error ? err.message : String(err));
}

/** "name label" with the label the last field; null when the line has fewer than two fields. */
function splitLine(text: string): { name: string; labelText: string } | null {
  const m = /^(.*\S)\s+(\S+)$/.exec(text);
  return m ? { name: m[1]!, labelText: m[2]! } : null;
}

/**
 * Each "name label" entry of a label file with its "file:line", skipping blank and `#` lines;
 * a line without two fields is reported as malformed (`expected` says what was wanted), a name
 * listed twice (it would count twice in the class counts and balance weights) and a relative
 * name that leads out of the data root (`../`) as problems too.
 */
function forEachEntry(
  lines: string[],
  file: string,
  expected: string,
  problems: DataProblem[],
  visit: (fields: { name: string; labelText: string }, where: string) => void,
): void {
  const seen = new Map<string, string>();
  lines.forEach((raw, i) => {
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const fields = splitLine(text);
    if (!fields) {
      problems.push({ kind: 'malformed', message: `${where}: expected ${expected}, got '${text}'` });
      return;
    }
    const first = seen.get(fields.name);
    if (first) {
      problems.push({ kind: 'duplicate', message: `${where}: '${fields.name}' is listed already at line ${first.slice(first.lastIndexOf(':') + 1)}` });
      return;
    }
    seen.set(fields.name, where);
    const normalised = normalize(fields.name);
    if (!isAbsolute(fields.name) && (normalised === '..' || normalised.startsWith(`..${sep}`))) {
      problems.push({ kind: 'malformed', message: `${where}: '${fields.name}' leads out of data.root; list images by their path inside it` });
      return;
    }
    visit(fields, where);
  });
}

/** The label as an integer in [first, first + K), or the problem with it. */
function parseLabel(text: string, first: number, classes: number, where: string): number | DataProblem {
  if (!/^[+-]?\d+$/.test(text)) return { kind: 'malformed', message: `${where}: label '${text}' is not an integer` };
  const value = Number(text);
  const last = first + classes - 1;
  if (value < first || value > last) {
    return {
      kind: 'label-range',
      message: `${where}: label ${value} out of range ${first}..${last} (${classes} classes: ${first}-based labels)`,
    };
  }
  return value - first;
}

function listRafdb(cfg: DataConfig, which: readonly SplitName[], problems: DataProblem[]): Map<SplitName, Listed> {
  const file = cfg.label_file;
  const lines = readLines(file, 'data.label_file', problems);
  if (!lines) return new Map();
  const wanted = new Map(which.map((w) => [splitName(cfg, w), w]));
  const samples = new Map<SplitName, Sample[]>(which.map((w) => [w, []]));
  const prefixes = new Set<string>();
  const K = cfg.classes.length;
  forEachEntry(lines, file, "'<name> <label>' (like 'train_00001.jpg 5')", problems, (fields, where) => {
    const cut = fields.name.indexOf('_');
    if (cut <= 0) {
      problems.push({ kind: 'malformed', message: `${where}: name '${fields.name}' has no split prefix (expected <split>_<id>.jpg)` });
      return;
    }
    const label = parseLabel(fields.labelText, 1, K, where);
    if (typeof label !== 'number') {
      problems.push(label);
      return;
    }
    const prefix = fields.name.slice(0, cut);
    prefixes.add(prefix);
    const w = wanted.get(prefix);
    if (w) samples.get(w)!.push({ path: fields.name, label, origin: where });
  });
  const found = prefixes.size ? [...prefixes].map((p) => `'${p}'`).join(', ') : 'none';
  return new Map(which.map((w) => [w, {
    source: file,
    samples: samples.get(w)!,
    emptyHint: ` (no names start with '${splitName(cfg, w)}_'; data.${w}_split sets the prefix; prefixes in the file: ${found})`,
  }]));
}

function listFile(cfg: DataConfig, which: SplitName, problems: DataProblem[]): Listed | null {
  const key = `data.${which}_list`;
  const file = which === 'train' ? cfg.train_list : cfg.test_list;
  const lines = readLines(file, key, problems);
  if (!lines) return null;
  const samples: Sample[] = [];
  forEachEntry(lines, file, "'<relative/path> <label>' (0-based label)", problems, (fields, where) => {
    const label = parseLabel(fields.labelText, 0, cfg.classes.length, where);
    if (typeof label !== 'number') problems.push(label);
    else samples.push({ path: fields.name, label, origin: where });
  });
  return { source: file, samples, emptyHint: '' };
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff']);

/** Code-unit order, so a listing does not depend on the locale. */
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function listFolders(cfg: DataConfig, which: readonly SplitName[], problems: DataProblem[]): Map<SplitName, Listed> {
  const out = new Map<SplitName, Listed>();
  if (!isFolder(cfg.root)) {
    problems.push({ kind: 'missing-source', message: `data.root ${cfg.root}: no such folder` });
    return out;
  }
  const classIndex = new Map(cfg.classes.map((c, k) => [c, k]));
  for (const w of which) {
    const dir = join(cfg.root, splitName(cfg, w));
    if (!isFolder(dir)) {
      problems.push({ kind: 'missing-source', message: `${dir}: no such folder (the ${w} split: <data.root>/<data.${w}_split>)` });
      continue;
    }
    const present = new Set<string>();
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => byName(a.name, b.name))) {
      // Loose files (a README, a CSV) are not samples; only sub-folders are classes.
      if (!entry.isDirectory() && !(entry.isSymbolicLink() && isFolder(join(dir, entry.name)))) continue;
      if (classIndex.has(entry.name)) present.add(entry.name);
      else {
        problems.push({
          kind: 'unknown-class',
          message: `${join(dir, entry.name)}: unknown class folder '${entry.name}' (data.classes: ${cfg.classes.join(', ')})`,
        });
      }
    }
    const samples: Sample[] = [];
    cfg.classes.forEach((name, label) => {
      if (!present.has(name)) return;
      const classDir = join(dir, name);
      const files = readdirSync(classDir, { withFileTypes: true })
        .filter((e) => !e.name.startsWith('.') && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()) && !e.isDirectory())
        .map((e) => e.name)
        .sort(byName);
      for (const f of files) {
        const path = join(classDir, f);
        samples.push({ path, label, origin: path });
      }
    });
    out.set(w, { source: dir, samples, emptyHint: ` (no ${[...IMAGE_EXTENSIONS].join('/')} files in its class folders)` });
  }
  return out;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

// ---- locating: where the listed images are on disk ----

interface Located {
  samples: Sample[];
  images: ImageCheck;
}

function locatePlain(cfg: DataConfig, listed: Listed, checkImages: boolean): Located {
  if (cfg.format === 'folder') {
    // Listed from the disk itself: every path exists.
    return { samples: listed.samples, images: { checked: checkImages, layout: `${listed.source}/<class>/<image>`, rootMissing: false, missing: [] } };
  }
  const root = cfg.root;
  const samples = listed.samples.map((s) => ({ ...s, path: isAbsolute(s.path) ? s.path : join(root, s.path) }));
  const images: ImageCheck = { checked: checkImages, layout: `${root}/<path from the list>`, rootMissing: false, missing: [] };
  if (checkImages) {
    const needsRoot = listed.samples.some((s) => !isAbsolute(s.path));
    images.rootMissing = needsRoot && !isFolder(root);
    for (const s of samples) if (!existsSync(s.path)) images.missing.push({ sample: s, tried: [s.path] });
  }
  return { samples, images };
}

const RAFDB_LAYOUTS = {
  /** The release reads <root>/<name>. */
  flat: { pattern: '<name>', path: (root: string, name: string) => join(root, name) },
  /** The official download's aligned 100x100 faces. */
  aligned: {
    pattern: 'Image/aligned/<stem>_aligned.jpg',
    path: (root: string, name: string) => join(root, 'Image', 'aligned', `${name.slice(0, name.length - extname(name).length)}_aligned.jpg`),
  },
} as const;
type RafdbLayout = keyof typeof RAFDB_LAYOUTS;

/** Entries probed to decide the layout: enough to get past a few absent images. */
const LAYOUT_PROBES = 16;

function locateRafdb(root: string, listed: Listed, checkImages: boolean): Located {
  const names = listed.samples.map((s) => s.path);
  const layout = detectRafdbLayout(root, names);
  const other: RafdbLayout | null = layout === 'flat' ? 'aligned' : layout === 'aligned' ? 'flat' : null;
  const primary: RafdbLayout = layout ?? 'flat';
  const describeLayout = layout
    ? join(root, RAFDB_LAYOUTS[layout].pattern)
    : `${join(root, RAFDB_LAYOUTS.flat.pattern)} or ${join(root, RAFDB_LAYOUTS.aligned.pattern)}`;
  const images: ImageCheck = { checked: checkImages, layout: describeLayout, rootMissing: false, missing: [] };
  const samples = listed.samples.map((s) => ({ ...s, path: RAFDB_LAYOUTS[primary].path(root, s.path) }));
  if (!checkImages) return { samples, images };
  images.rootMissing = !isFolder(root);
  samples.forEach((s, i) => {
    const name = listed.samples[i]!.path;
    const tried = [RAFDB_LAYOUTS[primary].path(root, name), RAFDB_LAYOUTS[other ?? 'aligned'].path(root, name)];
    if (images.rootMissing) {
      images.missing.push({ sample: s, tried });
    } else if (!existsSync(s.path)) {
      // A stray image in the other layout is still found rather than reported.
      if (existsSync(tried[1]!)) s.path = tried[1]!;
      else images.missing.push({ sample: s, tried });
    }
  });
  return { samples, images };
}

/** The layout of the first probed entry found in either place; null when none is found. */
function detectRafdbLayout(root: string, names: readonly string[]): RafdbLayout | null {
  if (!isFolder(root)) return null;
  for (const name of names.slice(0, LAYOUT_PROBES)) {
    for (const layout of Object.keys(RAFDB_LAYOUTS) as RafdbLayout[]) {
      if (existsSync(RAFDB_LAYOUTS[layout].path(root, name))) return layout;
    }
  }
  return null;
}
