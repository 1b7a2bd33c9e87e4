// The strips of a batch: the model runs once on the images and once on their mirror images,
// both times with class attention maps, and each image's strip is drawn from the two.
import { flipImages, type InferenceEngine } from '../infer/engine.ts';
import type { Preprocessing } from '../io/checkpoint/format.ts';
import { denormalize, stripJpeg } from './faces.ts';

export interface StripRequest {
  /** [n, S, S, 3] normalised, as the engine takes them. */
  images: Float32Array;
  n: number;
  /** The two classes to draw for each image. */
  pairs: readonly [number, number][];
}

/** One JPEG strip per image of the batch, in batch order. */
export async function stripsOfBatch(engine: InferenceEngine, pre: Preprocessing, k: number, req: StripRequest): Promise<Buffer[]> {
  const size = pre.imageSize;
  const own = await engine.run(req.images, req.n, true);
  const mirrored = await engine.run(flipImages(req.images, req.n, size), req.n, true);
  const pixels = size * size * 3;
  const camsPer = own.cams!.length / req.n;
  const strips: Buffer[] = [];
  for (let j = 0; j < req.n; j++) {
    strips.push(
      await stripJpeg({
        face: denormalize(req.images.subarray(j * pixels, (j + 1) * pixels), size, pre.mean, pre.std),
        cams: own.cams!.subarray(j * camsPer, (j + 1) * camsPer),
        mirroredCams: mirrored.cams!.subarray(j * camsPer, (j + 1) * camsPer),
        k,
        classes: req.pairs[j]!,
      }),
    );
  }
  return strips;
}
