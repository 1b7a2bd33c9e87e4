// The rafdb source: one label file, lines `train_00001.jpg 5`; the split is the name's prefix
// before `_`, labels are 1-based; images at <root>/<name> (the release's layout) or at
// <root>/Image/aligned/<stem>_aligned.jpg (the official aligned download), found by probing.
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { DataConfig } from '../../config/schema.ts';
import type { DataProblem, ImageCheck, Sample, SplitName } from '../labels.ts';
import { isFolder, splitName, type LabelSource, type Listed, type Located } from './common.ts';
import { forEachEntry, parseLabel, readLines } from './entries.ts';

export const RAFDB_SOURCE: LabelSource = {
  list: listRafdb,
  locate: (cfg, listed, checkImages) => locateRafdb(cfg.root, listed, checkImages),
};

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

