// Weights must be finite: a NaN or an infinity in any tensor makes every prediction meaningless
// (null probabilities with a confident label), so a file holding one is refused when read,
// naming the first such tensor.

export interface NonFinite {
  name: string;
  index: number;
  value: number;
}

/** The first NaN or infinity in the tensors, in their order; null when all are finite. */
export function firstNonFinite(tensors: Iterable<[string, ArrayLike<number>]>): NonFinite | null {
  for (const [name, values] of tensors) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      // v - v is 0 for every finite number and NaN for NaN and both infinities.
      if (v - v !== 0) return { name, index: i, value: v };
    }
  }
  return null;
}

export function nonFiniteMessage(bad: NonFinite): string {
  return `${bad.name} holds ${bad.value} (element ${bad.index}): weights must be finite numbers; the file is refused (retrain or take an earlier checkpoint)`;
}
