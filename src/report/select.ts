// Which evaluated images a report shows, so that its size stays bounded whatever the split's
// size: per confusion cell (true, predicted) the most confident predictions first, at most
// `perCell`; per class the hardest images (lowest probability of the true class), at most
// `hardest`. Each image is drawn once, however many lists name it.

export interface ShownSelection {
  /** cells[t][p]: indices of images of true class t predicted as p, most confident first. */
  cells: number[][][];
  /** Images in (t, p) beyond those listed: the page says how many more there are. */
  cellTotals: number[][];
  /** hardest[t]: indices of class-t images, lowest probability of class t first. */
  hardest: number[][];
  /** Every index listed above, ascending. */
  shown: number[];
}

export interface SelectOptions {
  perCell: number;
  hardest: number;
}

/** probs: [N, K] row-major probabilities; labels and predictions: N class indices. */
export function selectShown(probs: Float32Array, labels: ArrayLike<number>, predictions: ArrayLike<number>, k: number, opts: SelectOptions): ShownSelection {
  const n = labels.length;
  const cellsAll: number[][][] = Array.from({ length: k }, () => Array.from({ length: k }, () => []));
  const byClass: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) {
    cellsAll[labels[i]!]![predictions[i]!]!.push(i);
    byClass[labels[i]!]!.push(i);
  }
  const p = (i: number, c: number) => probs[i * k + c]!;
  // Ties keep file order (Array.prototype.sort is stable), so a report is reproducible.
  const cells = cellsAll.map((row) => row.map((list, pred) => [...list].sort((a, b) => p(b, pred) - p(a, pred)).slice(0, opts.perCell)));
  const hardest = byClass.map((list, t) => [...list].sort((a, b) => p(a, t) - p(b, t)).slice(0, opts.hardest));
  const shown = new Set<number>();
  for (const row of cells) for (const list of row) for (const i of list) shown.add(i);
  for (const list of hardest) for (const i of list) shown.add(i);
  return { cells, cellTotals: cellsAll.map((row) => row.map((l) => l.length)), hardest, shown: [...shown].sort((a, b) => a - b) };
}
