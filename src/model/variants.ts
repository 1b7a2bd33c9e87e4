// Model variants are data: a named table of Swin configurations, plus the geometry every
// other module derives from one (stage resolutions, windows, shifts).

export interface SwinVariant {
  imgSize: number;
  patchSize: number;
  inChans: number;
  embedDim: number;
  depths: number[];
  numHeads: number[];
  windowSize: number;
  mlpRatio: number;
  qkvBias: boolean;
  patchNorm: boolean;
  /** Stochastic depth rate of the last block; rates rise linearly from 0 over all blocks. */
  dropPathRate: number;
  numClasses: number;
  /** Output size of the unused face-embedding head (`encoder.feature.*`) of the pretrained backbone. */
  embeddingSize: number;
}

/** What every shipped variant shares: RGB input, the paper's 7x7 windows, MLP ratio and biases, RAF-DB's 7 classes. */
const SHARED = {
  inChans: 3,
  windowSize: 7,
  mlpRatio: 4,
  qkvBias: true,
  patchNorm: true,
  numClasses: 7,
} as const;

export const VARIANTS = {
  /** The paper's backbone: Swin-T adapted to 112x112 faces with patch size 2. */
  swin_t: {
    ...SHARED,
    imgSize: 112,
    patchSize: 2,
    embedDim: 96,
    depths: [2, 2, 6, 2],
    numHeads: [3, 6, 12, 24],
    dropPathRate: 0.1,
    embeddingSize: 512,
  },
  /**
   * A small model with the same structure (shifted, masked windows in two stages and a 7x7
   * attention grid), for tests and the CPU demo.
   */
  swin_tiny_test: {
    ...SHARED,
    imgSize: 56,
    patchSize: 2,
    embedDim: 16,
    depths: [2, 2, 2],
    numHeads: [2, 2, 4],
    dropPathRate: 0.1,
    embeddingSize: 32,
  },
  /**
   * The CPU demo: 56 px with patch 4 gives the same 7x7 attention grid in two stages at a
   * quarter of the tokens, so a few hundred steps fit in minutes on two cores.
   */
  swin_demo: {
    ...SHARED,
    imgSize: 56,
    patchSize: 4,
    embedDim: 32,
    depths: [2, 2],
    numHeads: [2, 4],
    dropPathRate: 0.05,
    embeddingSize: 32,
  },
} satisfies Record<string, SwinVariant>;

export type VariantName = keyof typeof VARIANTS;

export interface StageGeometry {
  /** Tokens per side at this stage's input. */
  resolution: number;
  dim: number;
  heads: number;
  depth: number;
  /** Effective window side: the variant's window, or the resolution when that is smaller. */
  window: number;
  /** Cyclic shift of the odd blocks; 0 when the whole stage fits in one window. */
  shift: number;
  /** Whether a patch merging layer follows this stage. */
  downsample: boolean;
  /** Index of the stage's first block among all blocks (for the drop-path schedule). */
  firstBlock: number;
}

/** Describes what is wrong with a variant, or returns null when it is buildable. */
export function variantProblem(v: SwinVariant): string | null {
  if (v.depths.length === 0 || v.depths.length !== v.numHeads.length) {
    return `depths (${v.depths.length} stages) and num_heads (${v.numHeads.length}) must be non-empty and of equal length`;
  }
  if (v.imgSize % v.patchSize !== 0) return `img_size ${v.imgSize} is not divisible by patch_size ${v.patchSize}`;
  let res = v.imgSize / v.patchSize;
  for (let i = 0; i < v.depths.length; i++) {
    const dim = v.embedDim * 2 ** i;
    if (dim % v.numHeads[i]! !== 0) return `stage ${i}: dim ${dim} is not divisible by ${v.numHeads[i]} heads`;
    const window = Math.min(v.windowSize, res);
    if (res % window !== 0) return `stage ${i}: resolution ${res} is not divisible by window ${window}`;
    if (i < v.depths.length - 1) {
      if (res % 2 !== 0) return `stage ${i}: resolution ${res} is odd and cannot be merged`;
      res /= 2;
    }
  }
  return null;
}

export function stageGeometry(v: SwinVariant): StageGeometry[] {
  const problem = variantProblem(v);
  if (problem) throw new Error(`invalid Swin variant: ${problem}`);
  const stages: StageGeometry[] = [];
  let res = v.imgSize / v.patchSize;
  let firstBlock = 0;
  for (let i = 0; i < v.depths.length; i++) {
    const fits = res <= v.windowSize;
    stages.push({
      resolution: res,
      dim: v.embedDim * 2 ** i,
      heads: v.numHeads[i]!,
      depth: v.depths[i]!,
      window: fits ? res : v.windowSize,
      shift: fits ? 0 : Math.floor(v.windowSize / 2),
      downsample: i < v.depths.length - 1,
      firstBlock,
    });
    firstBlock += v.depths[i]!;
    res /= 2;
  }
  return stages;
}

/** Channels of the final stage (the features the head sees). */
export function numFeatures(v: SwinVariant): number {
  return v.embedDim * 2 ** (v.depths.length - 1);
}

/** Side of the final token grid, which is also the side of the class attention maps. */
export function camGridSize(v: SwinVariant): number {
  return v.imgSize / v.patchSize / 2 ** (v.depths.length - 1);
}

/** Drop-path rate of block `index` (0-based over all blocks), linear from 0 to dropPathRate. */
export function dropPathRate(v: SwinVariant, index: number): number {
  const total = v.depths.reduce((a, b) => a + b, 0);
  return total <= 1 ? 0 : (v.dropPathRate * index) / (total - 1);
}
