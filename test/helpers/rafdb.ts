// RAF-DB as the tests know it, written out independently of src/ so that a test compares mek's
// results with the dataset's published facts rather than with mek's own constants.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RAFDB_CLASSES = ['Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger', 'Neutral'];

/** Images per class in the label file's train and test splits (label order). */
export const RAFDB_TRAIN_COUNTS = [1290, 281, 717, 4772, 1982, 705, 2524];
export const RAFDB_TEST_COUNTS = [329, 74, 160, 1185, 478, 162, 680];

/** The balance weights N / (10 n_c) of the train counts, as the release hard-codes them. */
export const RAFDB_BALANCE_WEIGHTS = [0.95124031, 4.36690391, 1.71143654, 0.25714585, 0.6191221, 1.74056738, 0.48617274];

/** The label file mek ships (labels only; the images are licensed and never in the repository). */
export const RAFDB_LABEL_FILE = fileURLToPath(new URL('../../configs/rafdb/list_patition_label.txt', import.meta.url));

/** The lines `name label` of the RAF-DB-style label file a dataset writer put in `dir`. */
export function labelLines(dir: string): { name: string; label: number }[] {
  return readFileSync(join(dir, 'list_patition_label.txt'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => {
      const [name, label] = line.split(' ');
      return { name: name!, label: Number(label) };
    });
}

/**
 * A RAF-DB test confusion matrix whose rows have the real test counts and whose diagonal gives
 * the released checkpoint's per-class figures (92.7, 74.3, 85.6, 96.9, 90.0, 86.4, 92.5):
 * overall 92.70%, mean-class 88.34%. The off-diagonal split is made up.
 */
export const RAFDB_CONFUSION = [
  [305, 4, 2, 6, 3, 2, 7],
  [6, 55, 2, 2, 5, 1, 3],
  [3, 1, 137, 4, 5, 3, 7],
  [5, 0, 3, 1148, 6, 4, 19],
  [2, 3, 6, 10, 430, 2, 25],
  [3, 1, 8, 3, 3, 140, 4],
  [6, 1, 6, 18, 19, 1, 629],
];
