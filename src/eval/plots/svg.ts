// The little SVG toolkit the plots are drawn with: escaping, scales with readable ticks, text
// and the render to PNG. sharp's libvips rasterises SVG with librsvg and finds fonts through
// fontconfig, so plots need no browser; text asks for the generic 'sans-serif' family.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../../io/atomic.ts';

export const FONT = 'sans-serif';
/** matplotlib's tab10: distinct, colour-blind tolerable line colours. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
export const AXIS_COLOUR = '#333333';
export const GRID_COLOUR = '#e3e3e3';
/** Width of an average glyph of the sans-serif face, as a fraction of the font size. */
const GLYPH_WIDTH = 0.6;

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A coordinate with at most two decimals: shorter SVG, same picture. */
export function num(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** Estimated width in pixels of `s` at font size `size` (no text measuring without a browser). */
export function textWidth(s: string, size: number): number {
  return s.length * size * GLYPH_WIDTH;
}

export interface TextStyle {
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  weight?: 'normal' | 'bold';
  fill?: string;
  /** Degrees, about (x, y). */
  rotate?: number;
  /** Shift the baseline so that y is the vertical middle of the glyphs. */
  middle?: boolean;
}

export function text(x: number, y: number, s: string, style: TextStyle = {}): string {
  const size = style.size ?? 12;
  // librsvg's dominant-baseline support is partial; a fixed offset centres digits and capitals.
  const dy = style.middle ? size * 0.35 : 0;
  const attrs = [`x="${num(x)}"`, `y="${num(y + dy)}"`, `font-size="${size}"`, `text-anchor="${style.anchor ?? 'start'}"`, `fill="${style.fill ?? AXIS_COLOUR}"`];
  if (style.weight === 'bold') attrs.push('font-weight="bold"');
  if (style.rotate) attrs.push(`transform="rotate(${num(style.rotate)} ${num(x)} ${num(y)})"`);
  return `<text ${attrs.join(' ')}>${esc(s)}</text>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1, dash?: string): string {
  const d = dash ? ` stroke-dasharray="${dash}"` : '';
  return `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}" stroke="${stroke}" stroke-width="${width}"${d}/>`;
}

export function rect(x: number, y: number, w: number, h: number, fill: string, extra = ''): string {
  return `<rect x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}" fill="${fill}"${extra ? ` ${extra}` : ''}/>`;
}

export function svgDocument(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    rect(0, 0, width, height, '#ffffff'),
    ...body,
    '</svg>',
  ].join('\n');
}

/** A map from data to pixels, with the tick values that label it. */
export interface Scale {
  (v: number): number;
  ticks: number[];
  format: (v: number) => string;
}

/** 1, 2 or 5 times a power of ten, so that [lo, hi] gets about `count` ticks. */
export function tickStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

/** Widens a degenerate or empty-looking range so a single value still gets an axis. */
export function padRange(lo: number, hi: number, log = false): [number, number] {
  if (hi > lo) return [lo, hi];
  if (log) return [lo / 2, hi * 2];
  const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
  return [lo - pad, hi + pad];
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function decimalsFor(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/** Tick labels: exponent notation for tiny or huge values (learning rates), else fixed decimals. */
export function tickFormatter(step: number, maxAbs: number): (v: number) => string {
  if (maxAbs > 0 && (maxAbs < 1e-3 || maxAbs >= 1e6)) {
    // As many mantissa digits as the tick step needs at this value's magnitude: 3e-5, 2.5e-5.
    const stepExp = Math.floor(Math.log10(step) + 1e-9);
    return (v) => {
      if (v === 0) return '0';
      const digits = clamp(Math.floor(Math.log10(Math.abs(v)) + 1e-9) - stepExp, 0, 6);
      return v.toExponential(digits).replace(/\.?0+e/, 'e');
    };
  }
  const d = decimalsFor(step);
  return (v) => v.toFixed(d);
}

/** Linear scale over [lo, hi] onto [r0, r1], extended outwards to whole ticks when `nice`. */
export function linearScale(lo: number, hi: number, r0: number, r1: number, opts: { count?: number; nice?: boolean; integer?: boolean } = {}): Scale {
  [lo, hi] = padRange(lo, hi);
  const step = opts.integer ? Math.max(1, tickStep(lo, hi, opts.count ?? 5)) : tickStep(lo, hi, opts.count ?? 5);
  if (opts.nice ?? true) {
    lo = Math.floor(lo / step + 1e-9) * step;
    hi = Math.ceil(hi / step - 1e-9) * step;
  }
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  const f = (v: number) => r0 + ((v - lo) / (hi - lo)) * (r1 - r0);
  const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
  return Object.assign(f, { ticks, format: tickFormatter(step, maxAbs) });
}

/** Log10 scale over positive [lo, hi], widened to whole decades; ticks at 1, 2, 5 x 10^n where room allows. */
export function logScale(lo: number, hi: number, r0: number, r1: number): Scale {
  [lo, hi] = padRange(lo, hi, true);
  const d0 = Math.floor(Math.log10(lo));
  const d1 = Math.ceil(Math.log10(hi));
  const a = d0;
  const b = d1 === d0 ? d0 + 1 : d1;
  const mantissas = b - a <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let d = a; d <= b; d++) for (const m of mantissas) if (d < b || m === 1) ticks.push(m * 10 ** d);
  const f = (v: number) => r0 + ((Math.log10(v) - a) / (b - a)) * (r1 - r0);
  const format = (v: number) => {
    const e = Math.floor(Math.log10(v) + 1e-9);
    return e >= -3 && e <= 4 ? String(Number(v.toPrecision(1))) : v.toExponential(0);
  };
  return Object.assign(f, { ticks, format });
}

/** Step counts as 500, 2k, 1.5k, 60k, 1.2M. */
export function formatStep(v: number): string {
  if (Math.abs(v) >= 1e6) return `${Number((v / 1e6).toFixed(2))}M`;
  if (Math.abs(v) >= 1e3) return `${Number((v / 1e3).toFixed(2))}k`;
  return String(Number(v.toFixed(2)));
}

/** Writes atomically, creating the folder first: a plot is either whole or absent. */
export async function writePlotFile(path: string, data: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, data);
}

export function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png().toBuffer();
}

export async function writeSvgPng(path: string, svg: string): Promise<void> {
  await writePlotFile(path, await svgToPng(svg));
}
