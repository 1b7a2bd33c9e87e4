// Type guards for the JSON a checkpoint holds, which comes from disk and is trusted in nothing.

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A whole number >= 0. */
export function isCount(x: unknown): boolean {
  return Number.isInteger(x) && (x as number) >= 0;
}
