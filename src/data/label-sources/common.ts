// What the three label sources (rafdb.ts, list.ts, folder.ts) share: the shape of what they
// list and locate, and the two small questions they all ask.
import { statSync } from 'node:fs';
import type { DataConfig } from '../../config/schema.ts';
import type { DataProblem, ImageCheck, Sample, SplitName } from '../labels.ts';

/** A way a dataset lists its images (data.format). */
export interface LabelSource {
  /** What the label files or folders say for each requested split that could be read; problems are collected. */
  list(cfg: DataConfig, which: readonly SplitName[], problems: DataProblem[]): Map<SplitName, Listed>;
  /** Where the listed images are on disk and, with checkImages, which of them are absent. */
  locate(cfg: DataConfig, listed: Listed, checkImages: boolean): Located;
}

export interface Listed {
  /** The file or folder the split comes from, for messages. */
  source: string;
  /** Paths as listed (rafdb: the image name; list: relative to root; folder: full path). */
  samples: Sample[];
  /** Extra words for an empty split, e.g. the prefixes that do occur. */
  emptyHint: string;
}

export interface Located {
  samples: Sample[];
  images: ImageCheck;
}

/** The split's name in the data: data.train_split / data.test_split (rafdb, folder), the split itself (list). */
export function splitName(cfg: DataConfig, which: SplitName): string {
  if (cfg.format === 'list') return which;
  return which === 'train' ? cfg.train_split : cfg.test_split;
}

export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
