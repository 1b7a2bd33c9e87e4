// Class attention maps over a face: one overlay, or a grid of the face and an overlay per class.
import sharp from 'sharp';
import type { RgbImage } from '../../data/image.ts';
import { camOverlay, maxOverClasses, type OverlayOptions } from '../cam.ts';
import { MEAN_COLOUR } from './chart.ts';
import { rect, svgDocument, text, writePlotFile, writeSvgPng } from './svg.ts';

function rgbPng(image: RgbImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
}

/** The CAM (G x G) blended over the image, written as a PNG of the image's size. */
export async function camOverlayPng(path: string, rgb: RgbImage, cam: Float32Array, opts: OverlayOptions = {}): Promise<void> {
  await writePlotFile(path, await rgbPng(camOverlay(rgb, cam, opts)));
}

export interface CamGridOptions extends OverlayOptions {
  /** Longest side of each tile in pixels; small faces are enlarged to it. */
  tile?: number;
  /** Tiles per row at most. */
  columns?: number;
  /** Add the maximum over classes, the single map the release's inference.py draws. */
  showMax?: boolean;
  title?: string;
}

/**
 * The face, then one overlay per class (labelled with its probability when `probs` is given;
 * the most probable class in bold), from the model's [K, G, G] CAMs.
 */
export async function camGridSvg(rgb: RgbImage, cams: Float32Array, classNames: readonly string[], probs?: ArrayLike<number>, opts: CamGridOptions = {}): Promise<string> {
  const k = classNames.length;
  if (k === 0 || cams.length % k !== 0) throw new RangeError(`${cams.length} CAM values do not split into ${k} class maps`);
  if (probs && probs.length !== k) throw new RangeError(`${probs.length} probabilities for ${k} classes`);
  const n = cams.length / k;
  const scale = (opts.tile ?? 192) / Math.max(rgb.width, rgb.height);
  const tw = Math.round(rgb.width * scale);
  const th = Math.round(rgb.height * scale);
  let top1 = -1;
  if (probs) for (let c = 0; c < k; c++) if (top1 < 0 || probs[c]! > probs[top1]!) top1 = c;

  const tiles: { image: RgbImage; label: string; bold: boolean }[] = [{ image: rgb, label: 'input', bold: false }];
  if (opts.showMax ?? true) tiles.push({ image: camOverlay(rgb, maxOverClasses(cams, k), opts), label: 'max over classes', bold: false });
  for (let c = 0; c < k; c++) {
    const label = probs ? `${classNames[c]} ${(probs[c]! * 100).toFixed(1)}%` : classNames[c]!;
    tiles.push({ image: camOverlay(rgb, cams.subarray(c * n, (c + 1) * n), opts), label, bold: c === top1 });
  }
  const perRow = Math.min(tiles.length, Math.ceil(tiles.length / Math.ceil(tiles.length / (opts.columns ?? 5))));
  const rows = Math.ceil(tiles.length / perRow);
  const pad = 10;
  const labelH = 24;
  const top = opts.title ? 40 : pad;
  const width = perRow * (tw + pad) + pad;
  const height = top + rows * (th + labelH + pad);
  const out: string[] = [];
  if (opts.title) out.push(text(width / 2, 26, opts.title, { size: 16, anchor: 'middle', weight: 'bold' }));
  for (const [i, t] of tiles.entries()) {
    const x = pad + (i % perRow) * (tw + pad);
    const y = top + Math.floor(i / perRow) * (th + labelH + pad);
    // Enlarged with sharp, not by the SVG renderer, so the look does not depend on librsvg's filter.
    const png = await sharp(t.image.data, { raw: { width: t.image.width, height: t.image.height, channels: 3 } }).resize(tw, th, { kernel: 'lanczos3' }).png().toBuffer();
    out.push(`<image x="${x}" y="${y}" width="${tw}" height="${th}" href="data:image/png;base64,${png.toString('base64')}"/>`);
    if (t.bold) out.push(rect(x - 2, y - 2, tw + 4, th + 4, 'none', `stroke="${MEAN_COLOUR}" stroke-width="3"`));
    out.push(text(x + tw / 2, y + th + 17, t.label, { size: 13, anchor: 'middle', weight: t.bold ? 'bold' : 'normal' }));
  }
  return svgDocument(width, height, out);
}

export async function camGridPng(path: string, rgb: RgbImage, cams: Float32Array, classNames: readonly string[], probs?: ArrayLike<number>, opts: CamGridOptions = {}): Promise<void> {
  await writeSvgPng(path, await camGridSvg(rgb, cams, classNames, probs, opts));
}
