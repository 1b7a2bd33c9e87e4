// Decodes every image a split lists, the way training and evaluation will, so that a corrupt
// file is found by `mek data check` before a run reaches it (mid-epoch, or at the first
// evaluation). Images already known to be missing are not looked at again.
import { decodeImage } from './decode.ts';
import type { Interpolation } from './resize.ts';
import type { Sample } from './labels.ts';

export interface Undecodable {
  /** Where the sample was listed ("file:line"). */
  origin: string;
  path: string;
  /** The decoder's one line. */
  message: string;
}

export interface DecodeAllOptions {
  size: number;
  maxPixels: number;
  interpolation: Interpolation;
  /** Images decoded at once (sharp works off the main thread). */
  concurrency?: number;
  onProgress?: (done: number) => void;
}

export async function findUndecodable(samples: readonly Sample[], opts: DecodeAllOptions): Promise<Undecodable[]> {
  const bad: Undecodable[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < samples.length) {
      const s = samples[next++]!;
      try {
        await decodeImage(s.path, opts.size, opts.interpolation, opts.maxPixels);
      } catch (err) {
        bad.push({ origin: s.origin, path: s.path, message: err instanceof Error ? err.message : String(err) });
      }
      opts.onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  // In list order, whatever order the decodes finished in.
  const order = new Map(samples.map((s, i) => [s.origin, i]));
  return bad.sort((a, b) => order.get(a.origin)! - order.get(b.origin)!);
}
