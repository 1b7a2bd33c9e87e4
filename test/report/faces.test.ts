// The pixels a report draws: the model's input turned back into the face exactly, and the
// strip of five tiles (the mirror is data/augment/flip.ts's hflip, tested there).
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../src/data/augment/normalize.ts';
import { denormalize, STRIP_TILES, stripJpeg } from '../../src/report/faces.ts';

const size = 8;
const face = { width: size, height: size, data: Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 37) % 256) };

describe('faces', () => {
  it('denormalize gives back the bytes the loader normalised', () => {
    for (const [mean, std] of [[[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]]] as const) {
      expect(denormalize(normalize(face, mean, std), size, mean, std).data).toEqual(face.data);
    }
  });


  it('a strip is five tiles of the face size, as a JPEG', async () => {
    const k = 2;
    const cams = Float32Array.from({ length: k * 4 }, (_, i) => i);
    const jpeg = await stripJpeg({ face, cams, mirroredCams: cams, k, classes: [0, 1] });
    const meta = await sharp(jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', size * STRIP_TILES, size]);
  });
});
