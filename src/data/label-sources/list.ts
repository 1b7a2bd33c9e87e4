// The list source: one file per split, lines `relative/path label` (0-based; the label is the
// last field, so a path may contain spaces), paths relative to data.root unless absolute.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { DataConfig } from '../../config/schema.ts';
import type { DataProblem, ImageCheck, Sample, SplitName } from '../labels.ts';
import { isFolder, type LabelSource, type Listed, type Located } from './common.ts';
import { forEachEntry, parseLabel, readLines } from './entries.ts';

export const LIST_SOURCE: LabelSource = {
  list: (cfg, which, problems) =>
    new Map(which.flatMap((w) => {
      const listed = listFile(cfg, w, problems);
      return listed ? [[w, listed] as const] : [];
    })),
  locate: locateListed,
};

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

function locateListed(cfg: DataConfig, listed: Listed, checkImages: boolean): Located {
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
