// The single source of truth for configuration: every key, its type, default and meaning.
// configs/default.yaml is generated from this table (`mek config defaults`), and a test keeps
// the two identical; experiment configs hold only the keys that differ.
import type { Interpolation } from '../data/resize.ts';

export type KeyType =
  | { kind: 'string' }
  | { kind: 'number'; min?: number; max?: number; words?: readonly string[] }
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'string[]' }
  | { kind: 'number[]'; length?: number }
  | { kind: 'int[]' };

export interface KeySpec {
  key: string;
  type: KeyType;
  /** null: "not set" (for model overrides, the variant's value). */
  default: unknown;
  nullable?: boolean;
  doc: string;
}

export const RAFDB_CLASS_NAMES = ['Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger', 'Neutral'];

const str = { kind: 'string' } as const;
const bool = { kind: 'boolean' } as const;
const positive = { kind: 'number', min: 0 } as const;
const count = (min = 0) => ({ kind: 'int', min }) as const;

export const SCHEMA: readonly KeySpec[] = [
  // --- model ---
  { key: 'model.variant', type: { kind: 'enum', values: ['swin_t', 'swin_tiny_test', 'swin_demo'] }, default: 'swin_t', doc: 'named Swin configuration (src/model/variants.ts); the keys below override single fields' },
  { key: 'model.img_size', type: count(1), default: null, nullable: true, doc: 'input side in pixels (null: the variant\'s)' },
  { key: 'model.patch_size', type: count(1), default: null, nullable: true, doc: 'patch side (the paper uses 2 at 112 px)' },
  { key: 'model.embed_dim', type: count(1), default: null, nullable: true, doc: 'channels of the first stage' },
  { key: 'model.depths', type: { kind: 'int[]' }, default: null, nullable: true, doc: 'blocks per stage' },
  { key: 'model.num_heads', type: { kind: 'int[]' }, default: null, nullable: true, doc: 'attention heads per stage' },
  { key: 'model.window_size', type: count(1), default: null, nullable: true, doc: 'attention window side' },
  { key: 'model.mlp_ratio', type: positive, default: null, nullable: true, doc: 'MLP hidden size / channels' },
  { key: 'model.qkv_bias', type: bool, default: null, nullable: true, doc: 'bias on the qkv projection' },
  { key: 'model.patch_norm', type: bool, default: null, nullable: true, doc: 'LayerNorm after the patch embedding' },
  { key: 'model.drop_path_rate', type: { kind: 'number', min: 0, max: 1 }, default: null, nullable: true, doc: 'stochastic depth of the last block (linear from 0)' },
  { key: 'model.init', type: str, default: '', doc: 'initial weights: our checkpoint .json, a PyTorch .pt/.pth (e.g. the release\'s start_0.pt) or .safetensors; empty: random init' },
  { key: 'model.init_optional', type: bool, default: false, doc: 'a missing model.init file: false stops with an error, true warns and starts from random weights' },

  // --- data ---
  { key: 'data.format', type: { kind: 'enum', values: ['rafdb', 'list', 'folder'] }, default: 'rafdb', doc: 'rafdb: one label file, split = name prefix, 1-based labels; list: one "path label" file per split, 0-based; folder: root/<split>/<class>/*' },
  { key: 'data.root', type: str, default: 'dataset/RAF', doc: 'image root (rafdb: <root>/<name> or <root>/Image/aligned/<stem>_aligned.jpg, found automatically)' },
  { key: 'data.label_file', type: str, default: 'dataset/list_patition_label.txt', doc: 'rafdb: the label file' },
  { key: 'data.train_list', type: str, default: '', doc: 'list: training list file ("relative/path label" lines, 0-based labels)' },
  { key: 'data.test_list', type: str, default: '', doc: 'list: test list file' },
  { key: 'data.train_split', type: str, default: 'train', doc: 'rafdb: name prefix of training images; folder: training sub-folder' },
  { key: 'data.test_split', type: str, default: 'test', doc: 'rafdb: name prefix of test images; folder: test sub-folder' },
  { key: 'data.classes', type: { kind: 'string[]' }, default: RAFDB_CLASS_NAMES, doc: 'class names in label order (folder: also the sub-folder names)' },
  { key: 'data.on_bad_image', type: { kind: 'enum', values: ['error', 'skip'] }, default: 'error', doc: 'a missing or undecodable image: stop with its name, or warn once and skip' },
  { key: 'data.max_image_pixels', type: count(1), default: 40_000_000, doc: 'an image with more pixels is unreadable (decoding holds the whole image in memory, whatever the model size)' },
  { key: 'data.max_skip_fraction', type: { kind: 'number', min: 0, max: 1 }, default: 0.1, doc: 'with on_bad_image skip: stop once more than this fraction of a split proves unreadable (a wrong data.root, not a few bad files)' },
  { key: 'data.sampler', type: { kind: 'enum', values: ['shuffle', 'balanced'] }, default: 'shuffle', doc: 'shuffle: every sample once per epoch; balanced: classes drawn uniformly (the model then sees a uniform prior)' },
  { key: 'data.val_fraction', type: { kind: 'number', min: 0, max: 0.5 }, default: 0, doc: 'hold out this fraction of each training class (stratified, seeded by train.seed) as a validation split for evaluation during training, best.json and the post-hoc tau; the test split is then evaluated once, at the end. 0: evaluate and select on the test split (the paper; optimistic)' },
  { key: 'data.repeat_to', type: count(0), default: 0, doc: 'repeat the training list to this many samples per epoch, as the reference does (0: no repeat)' },
  { key: 'data.drop_last', type: bool, default: true, doc: 'drop the last incomplete training batch of an epoch' },
  { key: 'data.prefetch', type: count(1), default: 4, doc: 'batches decoded ahead of the training step' },
  { key: 'data.workers', type: count(0), default: 1, doc: 'worker threads that decode and augment beside the training step (0: in the main thread)' },
  { key: 'data.cache_mb', type: count(0), default: 1024, doc: 'memory for decoded, resized images, shared by the workers (RAF-DB at 112 px needs ~460); 0: decode every time' },
  { key: 'data.synth_size', type: count(0), default: 0, doc: 'if the label file is absent, write a synthetic face dataset of this many images at data.root first (the demo; 0: never)' },
  { key: 'data.synth_difficulty', type: { kind: 'number', min: 0.01, max: 1 }, default: 1, doc: 'difficulty of that synthetic set in (0, 1] (see mek data synth --difficulty)' },
  { key: 'data.eval_interpolation', type: { kind: 'enum', values: ['bilinear', 'bicubic', 'nearest'] }, default: 'bilinear', doc: 'resize filter for evaluation and prediction' },

  // --- augmentation (training only) ---
  { key: 'augment.interpolation', type: { kind: 'enum', values: ['bicubic', 'bilinear', 'nearest'] }, default: 'bicubic', doc: 'resize filter of the training transform (the whole image to the model size)' },
  { key: 'augment.hflip', type: { kind: 'number', min: 0, max: 1 }, default: 0.5, doc: 'probability of a horizontal flip' },
  { key: 'augment.randaugment', type: str, default: 'rand-m9-mstd0.5-inc1', doc: 'timm RandAugment spec (n ops, magnitude m, magnitude std, increasing set); empty: off' },
  { key: 'augment.erasing', type: { kind: 'number', min: 0, max: 1 }, default: 0.25, doc: 'random erasing probability' },
  { key: 'augment.erasing_mode', type: { kind: 'enum', values: ['pixel', 'rand', 'const'] }, default: 'pixel', doc: 'erased values: per-pixel normal noise, one normal colour per box, or zeros' },
  { key: 'augment.mean', type: { kind: 'number[]', length: 3 }, default: [0.5, 0.5, 0.5], doc: 'normalisation mean per channel (of [0,1] values)' },
  { key: 'augment.std', type: { kind: 'number[]', length: 3 }, default: [0.5, 0.5, 0.5], doc: 'normalisation std per channel' },

  // --- loss ---
  { key: 'loss.rbl', type: bool, default: true, doc: 're-balanced smooth labels; false: plain cross-entropy' },
  { key: 'loss.eps', type: { kind: 'number', min: 0, max: 1 }, default: 0.3, doc: 'smoothing mass moved off the true class' },
  { key: 'loss.rac', type: bool, default: true, doc: 're-balanced attention consistency under horizontal flips' },
  { key: 'loss.lambda', type: positive, default: 0.1, doc: 'weight of the consistency term' },
  { key: 'loss.lambda_warmup_steps', type: count(0), default: 0, doc: 'lambda ramps linearly from 0 to loss.lambda over N steps, counted from the end of loss.warm_start_steps; 0: off (the paper)' },
  { key: 'loss.rac_normalize', type: { kind: 'enum', values: ['none', 'per_class'] }, default: 'none', doc: 'none: the raw maps (the paper); per_class: each map standardised over its grid (minus its mean, over sqrt(variance + 1e-5)) before the difference, so shrinking a map (or moving the logit, its mean) no longer satisfies the term; only its spatial pattern must mirror' },
  { key: 'loss.rac_classes', type: { kind: 'enum', values: ['all', 'true_pred'] }, default: 'all', doc: 'all: every class\'s map (the paper); true_pred: only the true class and the class the clean logits predict (argmax, no gradient), so the maps of classes absent from an image are left alone' },
  { key: 'loss.rac_weights', type: { kind: 'enum', values: ['balance', 'mean1', 'bounded', 'uniform'] }, default: 'balance', doc: 'RAC\'s class weights: balance, the balance weights as they are (the paper); mean1, divided by their mean; bounded, min(w, 1); uniform, all 1. RBL keeps the balance weights' },
  { key: 'loss.balance_normaliser', type: { kind: 'number', min: 0, words: ['classes'] }, default: 10, doc: 'w_c = N / (normaliser * n_c); the reference uses 10; "classes": the class count' },
  { key: 'loss.balance_power', type: positive, default: 1, doc: 'w_c = (N / (normaliser * n_c))^power; 1: the reference; 0.5: square-root re-balancing (flatter RBL shares and RAC weights)' },
  { key: 'loss.focal_gamma', type: positive, default: 0, doc: 'focal-style factor: each sample\'s classification loss times (1 - p_true)^gamma; 0: off (the paper)' },
  { key: 'loss.warm_start_steps', type: count(0), default: 0, doc: 'the first N steps train with plain cross-entropy (stage 1 of a warm start), the configured loss after; 0: off' },
  { key: 'loss.logit_adjust', type: positive, default: 0, doc: 'logit adjustment tau: the classification term is computed on logits + tau * log(prior), prior = the class frequencies training sees; predictions use the raw logits (that is the method); 1: the usual choice (= Balanced Softmax); 0: off' },
  { key: 'loss.rbl_shares', type: { kind: 'enum', values: ['balance', 'neutral'] }, default: 'balance', doc: 'what RBL shares eps by: balance, the balance weights (the paper); neutral, prior^tau (uniform without logit adjustment), which moves no mass to the rare classes: use it with loss.logit_adjust, with which balance shares collapse onto the rare classes' },
  { key: 'loss.drw_step', type: count(0), default: 0, doc: 'deferred re-weighting: from this step on each sample\'s classification loss is weighted by the class-balanced weight of its class (usually ~80% of train.steps); 0: off' },
  { key: 'loss.drw_beta', type: { kind: 'number', min: 0, max: 1 }, default: 0.9999, doc: 'beta of the class-balanced weights of deferred re-weighting: w_c ~ (1 - beta) / (1 - beta^n_c), averaging 1 over the classes; below 1' },

  // --- optimiser and schedule ---
  { key: 'optim.lr', type: positive, default: 5e-4, doc: 'base learning rate at batch lr_batch (scaled linearly with the batch size)' },
  { key: 'optim.lr_batch', type: count(0), default: 512, doc: 'batch size at which lr, warmup_lr and min_lr apply as written (0: no scaling)' },
  { key: 'optim.weight_decay', type: positive, default: 0.05, doc: 'AdamW decoupled weight decay' },
  { key: 'optim.betas', type: { kind: 'number[]', length: 2 }, default: [0.9, 0.999], doc: 'AdamW betas' },
  { key: 'optim.eps', type: positive, default: 1e-8, doc: 'AdamW epsilon (PyTorch default; tfjs Adam uses 1e-7)' },
  { key: 'optim.clip_norm', type: positive, default: 5, doc: 'global gradient-norm clip (0: off)' },
  { key: 'schedule.warmup_steps', type: count(0), default: 2000, doc: 'linear warm-up steps' },
  { key: 'schedule.warmup_lr', type: positive, default: 5e-7, doc: 'learning rate at step 0 (scaled like lr)' },
  { key: 'schedule.min_lr', type: positive, default: 5e-6, doc: 'learning rate at the last step (scaled like lr)' },

  // --- training run ---
  { key: 'train.steps', type: count(1), default: 60000, doc: 'optimizer steps' },
  { key: 'train.batch_size', type: count(1), default: 32, doc: 'images per step (the flipped copies come on top)' },
  { key: 'train.micro_batch', type: count(0), default: 0, doc: 'images per forward/backward chunk, gradients summed (same result); 0: the whole batch, or on wasm the largest chunk that fits its 4 GiB heap' },
  { key: 'train.recompute', type: { kind: 'enum', values: ['auto', 'on', 'off'] }, default: 'auto', doc: 'recompute each block in the backward pass instead of keeping activations (less memory, ~30% more compute); auto: on for large models on wasm' },
  { key: 'train.threads', type: count(0), default: 0, doc: 'threads computing each step (the batch split between them, gradients summed); 0: one per core on wasm, 1 elsewhere' },
  { key: 'train.seed', type: { kind: 'int' }, default: 2048, doc: 'seed of the run\'s random generator' },
  { key: 'train.eval_every', type: count(0), default: 1000, doc: 'evaluate on the test split every N steps (0: only at the end)' },
  { key: 'train.log_every', type: count(1), default: 50, doc: 'log line / metrics.jsonl interval in steps' },
  { key: 'train.log_head_projection', type: bool, default: false, doc: 'each evaluation also records head_projection: per class k the mean over the split of |f . w_k| / |w_k|, the pooled features\' component along head row k (from the logits, at no extra cost)' },
  { key: 'train.best_metric', type: { kind: 'enum', values: ['accuracy', 'mean_class_accuracy'] }, default: 'accuracy', doc: 'metric that picks best.json (the paper reports the best overall accuracy)' },
  { key: 'train.out_dir', type: str, default: 'checkpoints', doc: 'folder that holds the run folders' },
  { key: 'train.name', type: str, default: '', doc: 'run folder name (empty: the config file name)' },
  { key: 'eval.batch_size', type: count(1), default: 64, doc: 'images per evaluation batch' },

  // --- self-supervised pretraining (mek pretrain; mek train ignores these) ---
  { key: 'pretrain.task', type: { kind: 'enum', values: ['rotation'] }, default: 'rotation', doc: 'pretext task: rotation, predict which of 0/90/180/270 degrees each training image was turned by (Gidaris et al. 2018); labels are not read' },
  { key: 'pretrain.rotations', type: { kind: 'enum', values: ['all', 'random'] }, default: 'all', doc: 'all: each image in all four rotations, a step of 4 x train.batch_size images (as Gidaris et al. found best); random: one seeded rotation per image' },
  { key: 'pretrain.eval_images', type: count(1), default: 512, doc: 'without data.val_fraction, rotation accuracy is evaluated on the first N training images (ones it trains on); with it, on the validation hold-out, which pretraining never sees' },
];

// ---- the typed view of a resolved configuration ----

export interface ModelConfig {
  variant: string;
  img_size: number | null;
  patch_size: number | null;
  embed_dim: number | null;
  depths: number[] | null;
  num_heads: number[] | null;
  window_size: number | null;
  mlp_ratio: number | null;
  qkv_bias: boolean | null;
  patch_norm: boolean | null;
  drop_path_rate: number | null;
  init: string;
  init_optional: boolean;
}

export interface DataConfig {
  format: 'rafdb' | 'list' | 'folder';
  root: string;
  label_file: string;
  train_list: string;
  test_list: string;
  train_split: string;
  test_split: string;
  classes: string[];
  on_bad_image: 'error' | 'skip';
  max_skip_fraction: number;
  max_image_pixels: number;
  sampler: 'shuffle' | 'balanced';
  val_fraction: number;
  repeat_to: number;
  drop_last: boolean;
  prefetch: number;
  workers: number;
  cache_mb: number;
  synth_size: number;
  synth_difficulty: number;
  eval_interpolation: Interpolation;
}

export interface AugmentConfig {
  interpolation: Interpolation;
  hflip: number;
  randaugment: string;
  erasing: number;
  erasing_mode: 'pixel' | 'rand' | 'const';
  mean: number[];
  std: number[];
}

export interface LossConfig {
  rbl: boolean;
  eps: number;
  rac: boolean;
  lambda: number;
  lambda_warmup_steps: number;
  rac_normalize: 'none' | 'per_class';
  rac_classes: 'all' | 'true_pred';
  rac_weights: 'balance' | 'mean1' | 'bounded' | 'uniform';
  balance_normaliser: number | 'classes';
  balance_power: number;
  focal_gamma: number;
  warm_start_steps: number;
  logit_adjust: number;
  rbl_shares: 'balance' | 'neutral';
  drw_step: number;
  drw_beta: number;
}

export interface OptimConfig {
  lr: number;
  lr_batch: number;
  weight_decay: number;
  betas: number[];
  eps: number;
  clip_norm: number;
}

export interface ScheduleConfig {
  warmup_steps: number;
  warmup_lr: number;
  min_lr: number;
}

export interface TrainConfig {
  steps: number;
  batch_size: number;
  micro_batch: number;
  recompute: 'auto' | 'on' | 'off';
  threads: number;
  seed: number;
  eval_every: number;
  log_every: number;
  log_head_projection: boolean;
  best_metric: 'accuracy' | 'mean_class_accuracy';
  out_dir: string;
  name: string;
}

export interface PretrainConfig {
  task: 'rotation';
  rotations: 'all' | 'random';
  eval_images: number;
}

export interface Config {
  model: ModelConfig;
  data: DataConfig;
  augment: AugmentConfig;
  loss: LossConfig;
  optim: OptimConfig;
  schedule: ScheduleConfig;
  train: TrainConfig;
  eval: { batch_size: number };
  pretrain: PretrainConfig;
}
