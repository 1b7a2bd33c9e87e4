// A FaceSpec as an SVG document. Everything is drawn in a 100 x 100 canvas; the face itself in
// face coordinates (origin at the face centre, y down) placed by the pose transform. The
// numbers below are proportions of a cartoon face tuned by eye on contact sheets: what matters
// is that each action unit moves the features the way the corresponding muscle does.
import type { Rgb } from './colour.ts';
import type { Expression } from './expression.ts';
import type { FaceSpec } from './face.ts';
import type { Identity } from './identity.ts';
import type { Occlusion } from './nuisance.ts';
import { clamp } from './sampling.ts';

const f = (x: number): string => (Math.round(x * 100) / 100).toString();

function rgb(c: Rgb): string {
  return `rgb(${c.r},${c.g},${c.b})`;
}

/** The colour scaled towards black (k < 1) or white (k > 1). */
function shade(c: Rgb, k: number): Rgb {
  const t = (v: number) => Math.round(clamp(k <= 1 ? v * k : v + (255 - v) * (k - 1), 0, 255));
  return { r: t(c.r), g: t(c.g), b: t(c.b) };
}

interface Point {
  x: number;
  y: number;
}

/**
 * Cubic from `a` to `b` whose midpoint lies at height `midY`; `inset` (0..0.5) places the
 * control points that far in from the ends (0 gives a round, semi-elliptic bulge, larger a
 * flatter arc). `skew` tilts the bulge towards `b` (positive) or `a`.
 */
function arc(a: Point, b: Point, midY: number, inset: number, skew = 0): string {
  const q = (8 * midY - a.y - b.y) / 6;
  const dx = b.x - a.x;
  return `C${f(a.x + inset * dx)},${f(q - skew)} ${f(b.x - inset * dx)},${f(q + skew)} ${f(b.x)},${f(b.y)}`;
}

function linearGradient(id: string, angle: number, stops: string): string {
  const dx = Math.cos(angle) / 2;
  const dy = Math.sin(angle) / 2;
  return `<linearGradient id="${id}" x1="${f(0.5 - dx)}" y1="${f(0.5 - dy)}" x2="${f(0.5 + dx)}" y2="${f(0.5 + dy)}">${stops}</linearGradient>`;
}

function background(spec: FaceSpec): { defs: string; body: string } {
  const bg = spec.background;
  const defs = linearGradient('bg', bg.direction, `<stop offset="0" stop-color="${rgb(bg.from)}"/><stop offset="1" stop-color="${rgb(bg.to)}"/>`);
  let body = '<rect width="100" height="100" fill="url(#bg)"/>';
  if (bg.stripes > 0) {
    let lines = '';
    for (let x = -80; x < 180; x += bg.stripes) lines += `<line x1="${f(x)}" y1="-80" x2="${f(x)}" y2="180"/>`;
    const stroke = rgb(shade(bg.from, 0.6));
    body += `<g transform="rotate(${f(bg.stripeAngle)} 50 50)" stroke="${stroke}" stroke-width="${f(bg.stripes / 3)}" opacity="0.5">${lines}</g>`;
  }
  for (const s of bg.shapes) {
    const paint = `fill="${rgb(s.color)}" opacity="${f(s.opacity)}"`;
    body +=
      s.kind === 'circle'
        ? `<ellipse cx="${f(s.x)}" cy="${f(s.y)}" rx="${f(s.w / 2)}" ry="${f(s.h / 2)}" ${paint} transform="rotate(${f(s.angle)} ${f(s.x)} ${f(s.y)})"/>`
        : `<rect x="${f(s.x - s.w / 2)}" y="${f(s.y - s.h / 2)}" width="${f(s.w)}" height="${f(s.h)}" ${paint} transform="rotate(${f(s.angle)} ${f(s.x)} ${f(s.y)})"/>`;
  }
  return { defs, body };
}

/** Hair behind the head, neck, shoulders and ears: what the face is drawn over. */
function behindFace(id: Identity): string {
  const { faceW: w, faceH: h } = id;
  let s = '';
  if (id.hairStyle === 'long') {
    s += `<path d="M${f(-w - 5)},${f(-h * 0.2)} C${f(-w - 6)},${f(-h * 1.3)} ${f(w + 6)},${f(-h * 1.3)} ${f(w + 5)},${f(-h * 0.2)} L${f(w + 7)},${f(h + 8)} L${f(-w - 7)},${f(h + 8)} Z" fill="${rgb(id.hair)}"/>`;
  }
  s += `<ellipse cx="0" cy="${f(h + 30)}" rx="${f(w * 2.3)}" ry="24" fill="${rgb(id.clothes)}"/>`;
  s += `<rect x="${f(-w * 0.42)}" y="${f(h * 0.4)}" width="${f(w * 0.84)}" height="${f(h * 0.8)}" fill="${rgb(shade(id.skin, 0.82))}"/>`;
  for (const side of [-1, 1]) {
    s += `<ellipse cx="${f(side * w)}" cy="${f(id.eyeY + 5)}" rx="3.6" ry="6.5" fill="${rgb(shade(id.skin, 0.9))}"/>`;
  }
  const c = id.chin;
  s += `<path d="M${f(-w)},0 C${f(-w)},${f(-h * 0.56)} ${f(-w * 0.56)},${f(-h)} 0,${f(-h)} C${f(w * 0.56)},${f(-h)} ${f(w)},${f(-h * 0.56)} ${f(w)},0 C${f(w)},${f(h * 0.6)} ${f(w * 0.5 * c)},${f(h)} 0,${f(h)} C${f(-w * 0.5 * c)},${f(h)} ${f(-w)},${f(h * 0.6)} ${f(-w)},0 Z" fill="${rgb(id.skin)}"/>`;
  return s;
}

/** Height of the brow line above the eyes' centre line at the inner end, the outer end. */
function browEnds(id: Identity, e: Expression, upperH: number): { innerY: number; outerY: number } {
  const base = id.eyeY - id.browGap;
  const raise = e.browRaise >= 0 ? -4.2 * e.browRaise : -3.2 * e.browRaise;
  let innerY = base + raise - 3.6 * e.browInner;
  let outerY = base + raise + (e.browInner > 0 ? 1.2 * e.browInner : 0.4 * e.browInner);
  // A brow never sinks into the open eye.
  const floor = id.eyeY - upperH - 1.3;
  innerY = Math.min(innerY, floor);
  outerY = Math.min(outerY, floor);
  return { innerY, outerY };
}

function wrinkles(id: Identity, e: Expression, lines: string): string {
  let s = '';
  const browY = id.eyeY - id.browGap - 4.2 * Math.max(0, e.browRaise);
  // Horizontal forehead lines from raised brows (frontalis).
  const across = clamp((e.browRaise - 0.25) * 0.9, 0, 0.65);
  if (across > 0) {
    for (let i = 0; i < 3; i++) {
      const y = browY - 4.5 - 2.6 * i;
      const half = id.faceW * (0.5 - 0.06 * i);
      s += `<path d="M${f(-half)},${f(y + 0.8)} Q0,${f(y - 1)} ${f(half)},${f(y + 0.8)}" opacity="${f(across)}"/>`;
    }
  }
  // Short central lines from inner-brow raising (fear, sadness).
  const central = clamp((e.browInner - 0.35) * 0.9, 0, 0.6);
  if (central > 0) {
    for (let i = 0; i < 2; i++) {
      const y = browY - 3.5 - 2.2 * i;
      s += `<path d="M-5,${f(y + 0.6)} Q0,${f(y - 0.8)} 5,${f(y + 0.6)}" opacity="${f(central)}"/>`;
    }
  }
  // Vertical lines between lowered, knitted brows (corrugator: anger).
  const knit = clamp((e.browTogether - 0.3) * (e.browInner < 0 ? 1.1 : 0.3), 0, 0.7);
  if (knit > 0) {
    const y = id.eyeY - id.browGap;
    s += `<path d="M-1.6,${f(y - 3)} L-1.1,${f(y + 2)} M1.6,${f(y - 3)} L1.1,${f(y + 2)}" opacity="${f(knit)}"/>`;
  }
  return s ? `<g fill="none" stroke="${lines}" stroke-width="0.6" stroke-linecap="round">${s}</g>` : '';
}

function eyesAndBrows(spec: FaceSpec, lines: string): { defs: string; body: string } {
  const id = spec.identity;
  const e = spec.expression;
  const upperH = id.eyeH * (1 + 0.9 * e.eyeOpen);
  const lowerH = id.eyeH * 0.75 * (1 - 0.65 * e.lowerLid);
  const { innerY, outerY } = browEnds(id, e, upperH);
  let defs = '';
  let body = '';
  for (const side of [-1, 1]) {
    const cx = side * id.eyeDx;
    const inner = { x: cx - side * id.eyeW, y: id.eyeY };
    const outer = { x: cx + side * id.eyeW, y: id.eyeY - 0.5 };
    // Raising the inner brow lifts the inner half of the upper lid (the sad "triangle");
    // lowering it pulls that half down into a glare.
    const skew = side * 0.35 * e.browInner * id.eyeH;
    const upper = `M${f(inner.x)},${f(inner.y)} ${arc(inner, outer, id.eyeY - upperH, 0.2, skew)}`;
    const lower = arc(outer, inner, id.eyeY + lowerH, 0.25);
    const clip = `eye${side < 0 ? 'L' : 'R'}`;
    defs += `<clipPath id="${clip}"><path d="${upper} ${lower} Z"/></clipPath>`;
    const ix = cx + spec.pose.gaze * id.eyeW * 0.35;
    const iy = id.eyeY + 0.2;
    body += `<g clip-path="url(#${clip})"><rect x="${f(cx - id.eyeW - 1)}" y="${f(id.eyeY - 10)}" width="${f(2 * id.eyeW + 2)}" height="20" fill="rgb(240,238,232)"/>`;
    body += `<circle cx="${f(ix)}" cy="${f(iy)}" r="${f(id.irisR)}" fill="${rgb(id.iris)}"/><circle cx="${f(ix)}" cy="${f(iy)}" r="${f(id.irisR * 0.45)}" fill="rgb(15,12,12)"/>`;
    body += `<circle cx="${f(ix + id.irisR * 0.35)}" cy="${f(iy - id.irisR * 0.35)}" r="${f(id.irisR * 0.2)}" fill="rgb(250,250,250)"/></g>`;
    body += `<path d="${upper}" fill="none" stroke="rgb(30,22,20)" stroke-width="0.9" stroke-linecap="round"/>`;
    body += `<path d="M${f(outer.x)},${f(outer.y)} ${lower}" fill="none" stroke="${lines}" stroke-width="0.45"/>`;
    // Lid crease, pushed up by wide-open eyes.
    const crease = id.eyeY - upperH - 1.4;
    body += `<path d="M${f(inner.x + side * 1)},${f(id.eyeY - 1.5)} Q${f(cx)},${f(crease - 1.2)} ${f(outer.x - side * 0.5)},${f(id.eyeY - 1.8)}" fill="none" stroke="${lines}" stroke-width="0.4" opacity="0.6"/>`;
    // Crow's feet of a genuine (cheek-raising) smile.
    if (e.cheek > 0.45) {
      const o = clamp((e.cheek - 0.45) * 1.2, 0, 0.7);
      const x0 = outer.x + side * 1.2;
      body += `<path d="M${f(x0)},${f(id.eyeY - 0.8)} l${f(side * 2.4)},-1.2 M${f(x0)},${f(id.eyeY + 0.8)} l${f(side * 2.4)},1.2" stroke="${lines}" stroke-width="0.45" opacity="${f(o)}"/>`;
    }
    // Brow: inner end to outer end, arched by browArch.
    const bi = { x: side * (id.eyeDx - id.browLen * 0.6 - 2.2 * e.browTogether), y: innerY };
    const bo = { x: side * (id.eyeDx + id.browLen * 0.6), y: outerY };
    const arch = Math.max(0.2, 1.8 + 1.6 * e.browArch);
    const mid = (bi.y + bo.y) / 2 - arch;
    body += `<path d="M${f(bi.x)},${f(bi.y)} ${arc(bi, bo, mid, 0.3, side * 0.15 * arch)}" fill="none" stroke="${rgb(shade(id.hair, 0.85))}" stroke-width="${f(id.browThick)}" stroke-linecap="round"/>`;
  }
  return { defs, body };
}

function noseAndCheeks(id: Identity, e: Expression, mouth: MouthGeometry, lines: string): string {
  const w = id.noseW;
  const lift = 1.6 * e.noseWrinkle + 0.6 * e.upperLip;
  const y = id.noseY - lift;
  let s = `<path d="M-1.2,${f(id.eyeY + 3)} Q-2.4,${f(y - 4)} ${f(-w * 0.55)},${f(y - 0.5)}" fill="none" stroke="${lines}" stroke-width="0.6" opacity="0.55"/>`;
  s += `<path d="M${f(-w)},${f(y - 0.6)} Q${f(-w * 0.4)},${f(y + 1.6)} 0,${f(y + 0.6)} Q${f(w * 0.4)},${f(y + 1.6)} ${f(w)},${f(y - 0.6)}" fill="none" stroke="${lines}" stroke-width="0.75"/>`;
  const flare = 1 + 0.45 * e.noseWrinkle;
  for (const side of [-1, 1]) {
    s += `<ellipse cx="${f(side * w * 0.45)}" cy="${f(y + 0.2)}" rx="${f(1.1 * flare)}" ry="0.6" fill="${rgb(shade(id.skin, 0.42))}"/>`;
  }
  if (e.noseWrinkle > 0.15) {
    const o = clamp(e.noseWrinkle * 0.75, 0, 0.8);
    let d = '';
    for (let i = 0; i < 3; i++) {
      const yy = id.eyeY + 1.5 + 1.6 * i;
      const half = 1.6 + 0.5 * i;
      d += `M${f(-half)},${f(yy + 0.4)} Q0,${f(yy - 0.6)} ${f(half)},${f(yy + 0.4)} `;
    }
    s += `<path d="${d}" fill="none" stroke="${lines}" stroke-width="0.5" opacity="${f(o)}"/>`;
  }
  // Nasolabial folds deepen with a smile, a sneer or a raised upper lip.
  const fold = clamp(0.45 * e.cheek + 0.5 * e.noseWrinkle + 0.35 * e.upperLip, 0, 0.75);
  if (fold > 0.05) {
    for (const side of [-1, 1]) {
      const corner = side < 0 ? mouth.left : mouth.right;
      const x0 = side * (w + 1.2);
      const x1 = corner.x + side * 1.6;
      s += `<path d="M${f(x0)},${f(y - 1)} Q${f(x1 + side * 1.2)},${f((y + corner.y) / 2)} ${f(x1)},${f(corner.y - 0.3)}" fill="none" stroke="${lines}" stroke-width="0.6" opacity="${f(fold)}"/>`;
    }
  }
  if (e.cheek > 0.05) {
    const blush = clamp(0.3 * e.cheek, 0, 0.35);
    for (const side of [-1, 1]) {
      s += `<ellipse cx="${f(side * (id.eyeDx + 1.5))}" cy="${f(id.noseY - 0.5 - 1.5 * e.cheek)}" rx="5.5" ry="3.4" fill="rgb(214,92,96)" opacity="${f(blush)}"/>`;
    }
  }
  return s;
}

interface MouthGeometry {
  left: Point;
  right: Point;
  /** Heights of the opening's upper and lower edges at the middle. */
  innerTop: number;
  innerBottom: number;
  inset: number;
  /** Tilt of the upper lip towards the sneering side. */
  skew: number;
}

function mouthGeometry(spec: FaceSpec): MouthGeometry {
  const id = spec.identity;
  const e = spec.expression;
  const open = 7 * e.mouthOpen;
  const round = e.mouthRound * Math.min(1, e.mouthOpen * 1.5);
  const hw = id.mouthW * (1 + 0.32 * e.mouthWidth) * (1 - 0.42 * round);
  // The sneer lifts one corner and that side of the upper lip; `mirror` in the pose decides
  // which side ends up on the left of the image.
  const sneer = 2.4 * e.mouthAsym * (0.3 + e.upperLip);
  const cornerY = id.mouthY - 3.8 * e.mouthCorner + 0.9 * e.mouthOpen * (1 - round);
  const left = { x: -hw, y: cornerY };
  const right = { x: hw, y: cornerY - sneer };
  const innerTop = id.mouthY - 2.4 * e.upperLip - 0.15 * open - 0.5 * sneer;
  const innerBottom = Math.max(innerTop, id.mouthY + 0.85 * open);
  return {
    left,
    right,
    innerTop,
    innerBottom,
    inset: 0.36 * (1 - round),
    skew: 0.6 * sneer,
  };
}

function mouth(spec: FaceSpec, m: MouthGeometry): { defs: string; body: string } {
  const id = spec.identity;
  const e = spec.expression;
  const lip = id.lipThick * (1 - 0.75 * clamp(e.lipPress, 0, 1));
  const { left, right } = m;
  const upperInner = arc(left, right, m.innerTop, m.inset, m.skew);
  const lowerInnerBack = arc(right, left, m.innerBottom, m.inset);
  const outline =
    `M${f(left.x)},${f(left.y)} ${arc(left, right, m.innerTop - lip * 0.9, m.inset * 0.9, m.skew)} ` +
    `${arc(right, left, m.innerBottom + lip * 1.15, m.inset * 0.9)} Z`;
  let body = `<path d="${outline}" fill="${rgb(id.lips)}"/>`;
  let defs = '';
  const gap = m.innerBottom - m.innerTop;
  if (gap > 0.35) {
    const opening = `M${f(left.x)},${f(left.y)} ${upperInner} ${lowerInnerBack} Z`;
    defs = `<clipPath id="mouth"><path d="${opening}"/></clipPath>`;
    body += `<path d="${opening}" fill="rgb(60,22,24)"/>`;
    if (e.teeth > 0.25) {
      const toothH = Math.min(gap, 1.4 + 1.6 * e.teeth);
      body += `<rect clip-path="url(#mouth)" x="${f(left.x)}" y="${f(m.innerTop - 3)}" width="${f(right.x - left.x)}" height="${f(toothH + 3)}" fill="rgb(240,236,226)"/>`;
    }
  }
  body += `<path d="M${f(left.x)},${f(left.y)} ${upperInner}" fill="none" stroke="${rgb(shade(id.lips, 0.45))}" stroke-width="0.7" stroke-linecap="round"/>`;
  return { defs, body };
}

/** Hair on top of the head: a cap, or a fringe that may hang over the brows. */
function hairOnTop(id: Identity): string {
  if (id.hairStyle === 'none') return '';
  const { faceW: w, faceH: h } = id;
  const side = -h * 0.32;
  const hairline =
    id.hairStyle === 'fringe' ? -h * 0.5 + id.fringeDepth * (h * 0.5 + id.eyeY - id.browGap + 1) : -h * 0.62;
  const inset = id.hairStyle === 'fringe' ? 0.75 : 0.55;
  return `<path d="M${f(-w - 1)},${f(side)} C${f(-w - 1.5)},${f(-h * 1.2)} ${f(w + 1.5)},${f(-h * 1.2)} ${f(w + 1)},${f(side)} C${f(w * inset)},${f(hairline)} ${f(-w * inset)},${f(hairline)} ${f(-w - 1)},${f(side)} Z" fill="${rgb(id.hair)}"/>`;
}

function occlusion(o: Occlusion, id: Identity): string {
  switch (o.kind) {
    case 'glasses': {
      let s = '';
      const rx = id.eyeW + 2.6;
      const ry = id.eyeH + 3;
      for (const side of [-1, 1]) {
        const cx = side * id.eyeDx;
        const lens = o.round
          ? `<ellipse cx="${f(cx)}" cy="${f(id.eyeY)}" rx="${f(rx)}" ry="${f(ry)}"/>`
          : `<rect x="${f(cx - rx)}" y="${f(id.eyeY - ry)}" width="${f(2 * rx)}" height="${f(2 * ry)}" rx="1.5"/>`;
        s += lens;
        s += `<line x1="${f(side * (id.eyeDx + rx))}" y1="${f(id.eyeY - 1)}" x2="${f(side * id.faceW)}" y2="${f(id.eyeY - 1.5)}"/>`;
      }
      s += `<path d="M${f(-id.eyeDx + rx)},${f(id.eyeY - 1)} Q0,${f(id.eyeY - 3)} ${f(id.eyeDx - rx)},${f(id.eyeY - 1)}" fill="none"/>`;
      return `<g fill="rgb(20,24,28)" fill-opacity="${f(o.tint)}" stroke="${rgb(o.frame)}" stroke-width="${f(o.thick)}">${s}</g>`;
    }
    case 'hand': {
      const skin = rgb(shade(id.skin, 0.97));
      let fingers = '';
      for (let i = 0; i < 4; i++) {
        const x = -6.6 + 4.2 * i;
        const len = [11, 13, 12.5, 10][i]!;
        fingers += `<rect x="${f(x - 1.9)}" y="${f(-6 - len)}" width="3.8" height="${f(len + 4)}" rx="1.9"/>`;
      }
      fingers += `<rect x="7" y="-6" width="3.8" height="11" rx="1.9" transform="rotate(-50 9 0)"/>`;
      return `<g transform="translate(${f(o.x)} ${f(o.y)}) rotate(${f(o.angle)}) scale(${f(o.size)})" fill="${skin}" stroke="${rgb(shade(id.skin, 0.7))}" stroke-width="0.5">${fingers}<ellipse cx="0" cy="2" rx="8.5" ry="9.5"/></g>`;
    }
    case 'rect':
      return `<rect x="${f(o.x - o.w / 2)}" y="${f(o.y - o.h / 2)}" width="${f(o.w)}" height="${f(o.h)}" fill="${rgb(o.color)}" transform="rotate(${f(o.angle)} ${f(o.x)} ${f(o.y)})"/>`;
  }
}

/** The face as an SVG document of `size` x `size` pixels. */
export function faceSvg(spec: FaceSpec, size: number): string {
  const id = spec.identity;
  const e = spec.expression;
  const lines = rgb(shade(id.skin, 0.62));
  const bg = background(spec);
  const eyes = eyesAndBrows(spec, lines);
  const m = mouthGeometry(spec);
  const mo = mouth(spec, m);
  const p = spec.pose;
  const light = spec.degradation.light;
  const defs =
    bg.defs +
    eyes.defs +
    mo.defs +
    linearGradient('light', spec.degradation.lightDirection, `<stop offset="0" stop-color="white" stop-opacity="${f(light)}"/><stop offset="0.5" stop-color="white" stop-opacity="0"/><stop offset="1" stop-color="black" stop-opacity="${f(light)}"/>`);
  const face =
    behindFace(id) +
    wrinkles(id, e, lines) +
    eyes.body +
    noseAndCheeks(id, e, m, lines) +
    mo.body +
    hairOnTop(id) +
    spec.occlusions.map((o) => occlusion(o, id)).join('');
  const transform = `translate(${f(50 + p.dx)} ${f(50 + p.dy)}) rotate(${f(p.angle)}) scale(${f(p.mirror ? -p.scale : p.scale)} ${f(p.scale)})`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 100 100">` +
    `<defs>${defs}</defs>${bg.body}<g transform="${transform}">${face}</g>` +
    (light > 0 ? '<rect width="100" height="100" fill="url(#light)"/>' : '') +
    '</svg>'
  );
}
