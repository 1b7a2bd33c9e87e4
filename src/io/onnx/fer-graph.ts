// The FER model (Swin backbone, LayerNorm, token mean, linear head, class activation maps) as an
// ONNX graph, built from the same named parameters as the tfjs model (src/model/swin.ts, fer.ts)
// and following it op for op. What the tfjs model recomputes is folded into constants here: the
// relative position bias of every block gathered once into [heads, N, N], the shifted-window
// masks, the cyclic shifts as constant gather indices, every Linear weight pre-transposed.
// Input `image` [N, 3, H, W] (normalised as mek normalises), outputs `logits` [N, K] and `cams`
// [N, K, G, G]; the batch N is dynamic.
import { LAYER_NORM_EPS } from '../../model/layers.ts';
import { relativePositionIndex, shiftedWindowMaskValues } from '../../model/swin.ts';
import { camGridSize, stageGeometry, type StageGeometry, type SwinVariant } from '../../model/variants.ts';
import { GraphBuilder, tensorInfo } from './graph.ts';

/** LayerNormalization is a core op from opset 17. */
export const OPSET = 17;

type Values = Map<string, Float32Array>;

class FerGraph {
  readonly g = new GraphBuilder();

  constructor(
    readonly v: SwinVariant,
    private readonly values: Values,
  ) {}

  private param(name: string): Float32Array {
    const p = this.values.get(name);
    if (!p) throw new Error(`no value for ${name}`);
    return p;
  }

  /** A parameter as a constant of `dims`. */
  private weight(name: string, dims: number[]): string {
    return this.g.floats(this.param(name), dims, name.replace(/[^\w]/g, '_'));
  }

  /** x @ W^T + b for a PyTorch Linear weight [out, in]: the transpose is done here, once. */
  private linear(x: string, name: string, out: number, inp: number, bias = true): string {
    const w = this.param(`${name}.weight`);
    const t = new Float32Array(w.length);
    for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[i * out + o] = w[o * inp + i]!;
    const y = this.g.op('MatMul', [x, this.g.floats(t, [inp, out], `${name}_wT`.replace(/[^\w]/g, '_'))]);
    return bias && this.values.has(`${name}.bias`) ? this.g.op('Add', [y, this.weight(`${name}.bias`, [out])]) : y;
  }

  private layerNorm(x: string, name: string, dim: number): string {
    return this.g.op('LayerNormalization', [x, this.weight(`${name}.weight`, [dim]), this.weight(`${name}.bias`, [dim])], {
      axis: -1,
      epsilon: { float: LAYER_NORM_EPS },
    });
  }

  /** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), in the form ONNX Runtime fuses into one kernel. */
  private gelu(x: string): string {
    const g = this.g;
    const erf = g.op('Erf', [g.op('Div', [x, g.floats([Math.SQRT2], [])])]);
    return g.op('Mul', [g.op('Mul', [x, g.op('Add', [erf, g.floats([1], [])])]), g.floats([0.5], [])]);
  }

  private reshape(x: string, shape: number[]): string {
    return this.g.op('Reshape', [x, this.g.ints(shape)]);
  }

  private transpose(x: string, perm: number[]): string {
    return this.g.op('Transpose', [x], { perm });
  }

  /** Conv2d(k = s = patch) -> [N, L, E], LayerNorm when the variant has patch norm. */
  patchEmbed(image: string): string {
    const { embedDim: e, inChans: c, patchSize: p } = this.v;
    const conv = this.g.op('Conv', [image, this.weight('encoder.patch_embed.proj.weight', [e, c, p, p]), this.weight('encoder.patch_embed.proj.bias', [e])], {
      kernel_shape: [p, p],
      strides: [p, p],
    });
    const tokens = this.transpose(this.reshape(conv, [0, e, -1]), [0, 2, 1]); // [N, L, E]
    return this.v.patchNorm ? this.layerNorm(tokens, 'encoder.patch_embed.norm', e) : tokens;
  }

  private attention(prefix: string, windows: string, st: StageGeometry, masked: boolean): string {
    const g = this.g;
    const c = st.dim;
    const h = st.heads;
    const d = c / h;
    const w = st.window;
    const n = w * w;
    // [B', N, 3C] -> [3, B', heads, N, d]: q, k, v
    const qkv = this.transpose(this.reshape(this.linear(windows, `${prefix}.qkv`, 3 * c, c), [0, n, 3, h, d]), [2, 0, 3, 1, 4]);
    const part = (i: number) => g.op('Gather', [qkv, g.ints([i], [])], { axis: 0 });
    const q = g.op('Mul', [part(0), g.floats([d ** -0.5], [])]);
    let scores = g.op('MatMul', [q, this.transpose(part(1), [0, 1, 3, 2])]); // [B', heads, N, N]
    scores = g.op('Add', [scores, g.floats(relativeBias(this.param(`${prefix}.relative_position_bias_table`), w, h), [h, n, n], 'bias')]);
    if (masked) {
      const nW = (st.resolution / w) ** 2;
      const mask = g.floats(shiftedWindowMaskValues(st.resolution, w, st.shift), [nW, 1, n, n], 'mask');
      scores = this.reshape(g.op('Add', [this.reshape(scores, [-1, nW, h, n, n]), mask]), [-1, h, n, n]);
    }
    const attn = g.op('Softmax', [scores], { axis: -1 });
    const out = this.reshape(this.transpose(g.op('MatMul', [attn, part(2)]), [0, 2, 1, 3]), [0, n, c]);
    return this.linear(out, `${prefix}.proj`, c, c);
  }

  block(x: string, prefix: string, st: StageGeometry, shift: number): string {
    const g = this.g;
    const { resolution: r, dim: c, window: w } = st;
    // The cyclic shift and the window partition are one permutation of the tokens: one Gather
    // each way instead of rolls, reshapes and transposes that each copy the tensor.
    const [order, inverse] = windowOrder(r, w, shift);
    const normed = this.layerNorm(x, `${prefix}.norm1`, c);
    const windows = this.reshape(g.op('Gather', [normed, g.ints(order)], { axis: 1 }), [-1, w * w, c]);
    const attended = this.reshape(this.attention(`${prefix}.attn`, windows, st, shift > 0), [-1, r * r, c]);
    const y = g.op('Add', [x, g.op('Gather', [attended, g.ints(inverse)], { axis: 1 })]);
    const wide = Math.floor(c * this.v.mlpRatio);
    const hidden = this.gelu(this.linear(this.layerNorm(y, `${prefix}.norm2`, c), `${prefix}.mlp.fc1`, wide, c));
    return g.op('Add', [y, this.linear(hidden, `${prefix}.mlp.fc2`, c, wide)]);
  }

  /** The 2x2 neighbours in the reference's channel order (block 2*dw + dh), LayerNorm(4C), Linear(4C -> 2C). */
  patchMerging(x: string, prefix: string, res: number, c: number): string {
    const half = res / 2;
    const merged = this.reshape(this.transpose(this.reshape(x, [0, half, 2, half, 2, c]), [0, 1, 3, 4, 2, 5]), [0, half * half, 4 * c]);
    return this.linear(this.layerNorm(merged, `${prefix}.norm`, 4 * c), `${prefix}.reduction`, 2 * c, 4 * c, false);
  }

  build(): { logits: string; cams: string } {
    const g = this.g;
    let x = this.patchEmbed('image');
    for (const [i, st] of stageGeometry(this.v).entries()) {
      for (let j = 0; j < st.depth; j++) x = this.block(x, `encoder.layers.${i}.blocks.${j}`, st, j % 2 === 1 ? st.shift : 0);
      if (st.downsample) x = this.patchMerging(x, `encoder.layers.${i}.downsample`, st.resolution, st.dim);
    }
    const stages = stageGeometry(this.v);
    const c = stages[stages.length - 1]!.dim;
    const k = this.v.numClasses;
    const grid = camGridSize(this.v);
    const tokens = this.layerNorm(x, 'norm', c); // [N, G*G, C]
    const logits = this.linear(g.op('ReduceMean', [tokens], { axes: [1], keepdims: 0 }), 'head', k, c);
    const perToken = this.linear(tokens, 'head', k, c, false); // [N, G*G, K]
    const cams = this.reshape(this.transpose(perToken, [0, 2, 1]), [0, k, grid, grid]);
    return { logits: g.name(logits, 'logits'), cams: g.name(cams, 'cams') };
  }
}

/**
 * Where each token of the windowed order comes from: window after window (row-major), the
 * tokens of a window row-major, after a cyclic shift of the grid by -shift on both axes (the
 * reference's torch.roll(x, (-s, -s))); and the inverse permutation, which undoes both.
 */
function windowOrder(res: number, w: number, shift: number): [number[], number[]] {
  const k = res / w;
  const order: number[] = [];
  for (let wh = 0; wh < k; wh++) {
    for (let ww = 0; ww < k; ww++) {
      for (let i = 0; i < w; i++) {
        for (let j = 0; j < w; j++) order.push(((wh * w + i + shift) % res) * res + ((ww * w + j + shift) % res));
      }
    }
  }
  const inverse = new Array<number>(order.length);
  order.forEach((source, position) => (inverse[source] = position));
  return [order, inverse];
}

/** The relative position bias of one block, [heads, N, N], from its table [(2w-1)^2, heads]. */
function relativeBias(table: Float32Array, w: number, heads: number): Float32Array {
  const n = w * w;
  const index = relativePositionIndex(w);
  const out = new Float32Array(heads * n * n);
  for (let hd = 0; hd < heads; hd++) for (let ij = 0; ij < n * n; ij++) out[hd * n * n + ij] = table[index[ij]! * heads + hd]!;
  return out;
}

/** The graph of the FER model with these parameter values, and its inputs and outputs. */
export function ferGraph(v: SwinVariant, values: Values) {
  const graph = new FerGraph(v, values);
  graph.build();
  const grid = camGridSize(v);
  return {
    graph: graph.g,
    inputs: [tensorInfo('image', ['N', v.inChans, v.imgSize, v.imgSize])],
    outputs: [tensorInfo('logits', ['N', v.numClasses]), tensorInfo('cams', ['N', v.numClasses, grid, grid])],
  };
}
