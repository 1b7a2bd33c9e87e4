// The rotation pretext task's batch transforms: quarter turns are exact permutations of the
// pixels (four make the identity), turn the way numpy's rot90 does, and the labels say which
// turn each image got; the random draw is a pure function of the batch's position.
import { describe, expect, it } from 'vitest';
import type { HostBatch } from '../../src/data/loader.ts';
import { allRotations, randomRotations, rot90, rotationTransforms, ROTATION_CLASSES } from '../../src/pretrain/rotation.ts';

/** A size x size x 3 image whose every value is distinct: pixel (r, c), channel ch = 100 (r * size + c) + ch. */
function numbered(size: number, offset = 0): Float32Array {
  const out = new Float32Array(size * size * 3);
  for (let p = 0; p < size * size; p++) for (let ch = 0; ch < 3; ch++) out[p * 3 + ch] = offset + 100 * p + ch;
  return out;
}

function batchOf(images: Float32Array[], size: number, index = 8): HostBatch {
  const all = new Float32Array(images.length * size * size * 3);
  images.forEach((im, i) => all.set(im, i * im.length));
  return { images: all, labels: Int32Array.from(images.map((_, i) => 6 - i)), size: images.length, epoch: 1, next: { epoch: 1, index } };
}

describe('rot90', () => {
  it('turns counter-clockwise as numpy.rot90 does: the top row becomes the left column, read bottom-up', () => {
    // [[a, b], [c, d]] -> rot90 -> [[b, d], [a, c]] (numpy.rot90([[1, 2], [3, 4]]) == [[2, 4], [1, 3]]).
    const image = Float32Array.from([1, 2, 3, 4]);
    expect(Array.from(rot90(image, 2, 1, 1))).toEqual([2, 4, 1, 3]);
    expect(Array.from(rot90(image, 2, 2, 1))).toEqual([4, 3, 2, 1]);
    expect(Array.from(rot90(image, 2, 3, 1))).toEqual([3, 1, 4, 2]);
    expect(Array.from(rot90(image, 2, 0, 1))).toEqual([1, 2, 3, 4]);
  });

  it('is a permutation of whole pixels (channels kept together); four quarter turns are the identity, two are 180 degrees', () => {
    const size = 5;
    const image = numbered(size);
    let turned = image;
    for (let k = 1; k <= 4; k++) {
      turned = rot90(turned, size, 1);
      expect([...turned].sort((a, b) => a - b)).toEqual([...image].sort((a, b) => a - b));
      for (let p = 0; p < size * size; p++) {
        // each pixel's three channels stay one pixel: ch 0, 1, 2 of one source pixel
        expect(turned[p * 3 + 1]! - turned[p * 3]!).toBe(1);
        expect(turned[p * 3 + 2]! - turned[p * 3]!).toBe(2);
      }
      if (k === 1) expect(turned).toEqual(rot90(image, size, 1));
      if (k === 2) expect(turned).toEqual(rot90(image, size, 2));
      if (k === 3) expect(turned).toEqual(rot90(image, size, -1));
    }
    expect(turned).toEqual(image);
    expect(rot90(rot90(image, size, 1), size, 3)).toEqual(image);
  });

  it('refuses an array that is not a size x size x 3 image', () => {
    expect(() => rot90(new Float32Array(10), 2, 1)).toThrow(/not a 2x2x3 image/);
  });
});

describe('the batch transforms', () => {
  const size = 4;
  const images = [numbered(size, 0), numbered(size, 10_000), numbered(size, 20_000)];

  it('all rotations: four views per image, image by image, labelled by their turn; the position stays the batch\'s', () => {
    const out = allRotations(batchOf(images, size), size);
    expect(out.size).toBe(12);
    expect(Array.from(out.labels)).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
    const pixels = size * size * 3;
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 4; k++) expect(out.images.subarray((4 * i + k) * pixels, (4 * i + k + 1) * pixels)).toEqual(rot90(images[i]!, size, k));
    }
    expect(out.next).toEqual({ epoch: 1, index: 8 });
    expect(out.epoch).toBe(1);
    expect(ROTATION_CLASSES).toEqual(['rot0', 'rot90', 'rot180', 'rot270']);
  });

  it('a random rotation: one view per image, its label its turn, drawn from (seed, epoch, position) alone', () => {
    const many = Array.from({ length: 64 }, (_, i) => numbered(size, i * 10_000));
    const a = randomRotations(batchOf(many, size), size, 2048);
    expect(a.size).toBe(64);
    const pixels = size * size * 3;
    a.labels.forEach((k, i) => expect(a.images.subarray(i * pixels, (i + 1) * pixels)).toEqual(rot90(many[i]!, size, k)));
    // every turn drawn, in no fixed pattern
    expect(new Set(a.labels).size).toBe(4);
    // the same batch at the same position turns the same way (a resumed run); elsewhere, or with another seed, differently
    expect(randomRotations(batchOf(many, size), size, 2048).labels).toEqual(a.labels);
    expect(randomRotations(batchOf(many, size, 72), size, 2048).labels).not.toEqual(a.labels);
    expect(randomRotations(batchOf(many, size), size, 1).labels).not.toEqual(a.labels);
  });

  it('evaluations always see all four rotations; training as pretrain.rotations says', () => {
    const all = rotationTransforms('all', size, 1);
    const random = rotationTransforms('random', size, 1);
    expect(all.train(batchOf(images, size)).size).toBe(12);
    expect(random.train(batchOf(images, size)).size).toBe(3);
    expect(random.eval(batchOf(images, size)).size).toBe(12);
  });
});
