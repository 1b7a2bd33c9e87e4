// The resize of the data pipeline against Pillow's own output (fixtures written by
// test/data/fixtures/make_pil_resize.py): bit-identical, up- and downscaling, both filters.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resizeLikePil, type ResampleFilter } from '../../src/data/resize.ts';
import { toleranceOf } from '../helpers/fixtures.ts';

interface Case {
  width: number;
  height: number;
  outWidth: number;
  outHeight: number;
  filter: ResampleFilter;
  input: string;
  output: string;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/pil_resize.json', import.meta.url), 'utf8')) as { tolerance: number; pillow: string; cases: Case[] };
// 0: Pillow's bytes exactly
const TOL = toleranceOf(fixture);

describe(`resize equals Pillow ${fixture.pillow}`, () => {
  it.each(fixture.cases.map((c) => [`${c.filter} ${c.width}x${c.height} -> ${c.outWidth}x${c.outHeight}`, c] as const))('%s', (_, c) => {
    const input = new Uint8Array(Buffer.from(c.input, 'base64'));
    const expected = new Uint8Array(Buffer.from(c.output, 'base64'));
    const out = resizeLikePil({ width: c.width, height: c.height, data: input }, c.outWidth, c.outHeight, c.filter);
    expect(out.width).toBe(c.outWidth);
    expect(out.height).toBe(c.outHeight);
    let differing = 0;
    for (let i = 0; i < expected.length; i++) if (Math.abs(out.data[i]! - expected[i]!) > TOL) differing++;
    expect(differing).toBe(0);
  });

  it('leaves the input untouched and returns a copy at the same size', () => {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const out = resizeLikePil({ width: 2, height: 1, data }, 2, 1, 'bicubic');
    expect(Array.from(out.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out.data).not.toBe(data);
  });
});
