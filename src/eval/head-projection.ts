// Issue 18's mechanism, measured: RAC (mek/losses.ts) compares maps built from the detached head
// rows, so the cheapest way to satisfy it is features with no component along a class's row,
// which also makes that class's logit constant. Per class k, the mean over images of
// |f . w_k| / |w_k|, with f the pooled features the head sees and w_k its row k: the size of the
// features' component along the normalised row. A class whose value falls towards 0 is being
// erased from the features.

/**
 * From the pooled features [B, D] and the head weight [K, D] (row-major, PyTorch's [out, in]):
 * per class the mean over the B rows of |f . w_k| / |w_k| (0 for an all-zero row).
 */
export function headProjection(features: ArrayLike<number>, weight: ArrayLike<number>, numClasses: number): number[] {
  const d = weight.length / numClasses;
  const rows = features.length / d;
  if (!Number.isInteger(d) || !Number.isInteger(rows)) throw new Error(`features (${features.length}) and head weight (${weight.length}) do not fit ${numClasses} classes`);
  const scores = new Float64Array(rows * numClasses);
  for (let b = 0; b < rows; b++) {
    for (let k = 0; k < numClasses; k++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += features[b * d + i]! * weight[k * d + i]!;
      scores[b * numClasses + k] = dot;
    }
  }
  return meanAbsAlongRows(scores, rowNorms(weight, numClasses));
}

/**
 * The same from the logits [N, K] an evaluation already holds: the head is linear, so
 * f . w_k = logit_k - bias_k, and no second pass over the images is needed.
 */
export function headProjectionOfLogits(logits: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, numClasses: number): number[] {
  const scores = Float64Array.from(logits, (z, i) => z - bias[i % numClasses]!);
  return meanAbsAlongRows(scores, rowNorms(weight, numClasses));
}

function rowNorms(weight: ArrayLike<number>, numClasses: number): number[] {
  const d = weight.length / numClasses;
  return Array.from({ length: numClasses }, (_, k) => {
    let sq = 0;
    for (let i = 0; i < d; i++) sq += weight[k * d + i]! ** 2;
    return Math.sqrt(sq);
  });
}

/** Per class k: the mean over rows of |scores[., k]| / norms[k]. */
function meanAbsAlongRows(scores: Float64Array, norms: number[]): number[] {
  const k = norms.length;
  const rows = scores.length / k;
  const sums = new Array<number>(k).fill(0);
  for (let i = 0; i < scores.length; i++) sums[i % k]! += Math.abs(scores[i]!);
  return sums.map((s, c) => (norms[c]! > 0 ? s / rows / norms[c]! : 0));
}
