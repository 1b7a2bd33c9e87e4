// The folder source: <root>/<split>/<class>/<image>, class folders named by data.classes;
// listed from the disk itself, so every listed image exists.
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { DataConfig } from '../../config/schema.ts';
import type { DataProblem, Sample, SplitName } from '../labels.ts';
import { isFolder, splitName, type LabelSource, type Listed } from './common.ts';

export const FOLDER_SOURCE: LabelSource = {
  list: listFolders,
  locate: (_cfg, listed, checkImages) => ({
    samples: listed.samples,
    images: { checked: checkImages, layout: `${listed.source}/<class>/<image>`, rootMissing: false, missing: [] },
  }),
};

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
