// Label sources: the three ways a dataset lists its images (one file each in label-sources/),
// read into one shape (samples in file order with 0-based labels, plus counts per class).
//   rafdb   one label file, lines `train_00001.jpg 5`; the split is the name's prefix before
//           `_`, labels are 1-based; images at <root>/<name> (the release's layout) or at
//           <root>/Image/aligned/<stem>_aligned.jpg (the official aligned download).
//   list    one file per split, lines `relative/path label` (0-based; the label is the last
//           field, so a path may contain spaces; blank lines and `#` comments are skipped).
//   folder  <root>/<split>/<class>/<image>, class folders named by data.classes.
// Everything here is synchronous: a label file is small and the image checks are stat calls,
// done once before any decoding starts.
import type { DataConfig } from '../config/schema.ts';
import { DataError } from '../errors.ts';
import { splitName, type LabelSource } from './label-sources/common.ts';
import { FOLDER_SOURCE } from './label-sources/folder.ts';
import { LIST_SOURCE } from './label-sources/list.ts';
import { RAFDB_SOURCE } from './label-sources/rafdb.ts';

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


const SOURCES: Record<DataConfig['format'], LabelSource> = { rafdb: RAFDB_SOURCE, list: LIST_SOURCE, folder: FOLDER_SOURCE };

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
  const source = SOURCES[cfg.format];
  const listed = source.list(cfg, which, problems);
  const splits: Partial<Record<SplitName, SplitScan>> = {};
  for (const w of which) {
    const entries = listed.get(w);
    const split = splitName(cfg, w);
    if (!entries) {
      // The source could not be read; that problem is already reported.
      splits[w] = { which: w, split, samples: [], counts: cfg.classes.map(() => 0), images: noImages(cfg) };
      continue;
    }
    const resolved = source.locate(cfg, entries, checkImages);
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

function noImages(cfg: DataConfig): ImageCheck {
  return { checked: false, layout: `${cfg.root}/...`, rootMissing: false, missing: [] };
}
