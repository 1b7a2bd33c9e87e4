"""PyTorch side of the long-tailed ablation: trains what `mek ablate` trains (CE, RBL, CE + RAC
and MEK over seeds) with swin_mek.py's model and losses, and writes ablation.json / ablation.md
in the layout of src/ablate/, so scripts/reference/compare_ablation.py can set the two tables
side by side. Agreement is statistical (within the seed spread): the data order, the flips and
the initial weights come from torch's generators, not from mek's.

    /usr/bin/python3 scripts/reference/train_longtail.py --config configs/fmnist-lt.yaml --seeds 3
    /usr/bin/python3 scripts/reference/train_longtail.py --config configs/fmnist-lt.yaml \
        --methods mek --seeds 1 --steps 20 --out /tmp/torch-quick        # a quick check

See scripts/reference/README.md ("Long-tailed ablation in PyTorch") for what matches exactly.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

# OpenMP threads that spin while waiting (libgomp's default) collapse when a core is shared: with
# a second process on one of two cores, 2 threads measured 3.0 s/step instead of 0.13. Passive
# waiting costs nothing measurable on idle cores. Read when torch loads libgomp, so set it first.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swin_mek as sm  # noqa: E402

# ---------------------------------------------------------------- configuration

# The mek config keys this script implements, with mek's defaults (src/config/schema.ts). A key
# of the YAML or of --set that is in neither this table nor IGNORED_KEYS is refused: silently
# dropping a key that changes the recipe would make the comparison meaningless.
DEFAULTS = {
    "model.variant": "swin_t",
    "model.img_size": None,
    "model.patch_size": None,
    "model.embed_dim": None,
    "model.depths": None,
    "model.num_heads": None,
    "model.window_size": None,
    "model.mlp_ratio": None,
    "model.qkv_bias": None,
    "model.patch_norm": None,
    "model.drop_path_rate": None,
    "model.init": "",
    "data.format": "rafdb",
    "data.root": "dataset/RAF",
    "data.label_file": "dataset/list_patition_label.txt",
    "data.train_split": "train",
    "data.test_split": "test",
    "data.classes": ["Surprise", "Fear", "Disgust", "Happiness", "Sadness", "Anger", "Neutral"],
    "data.sampler": "shuffle",
    "data.repeat_to": 0,
    "data.drop_last": True,
    "data.eval_interpolation": "bilinear",
    "data.val_fraction": 0.0,
    "augment.interpolation": "bicubic",
    "augment.hflip": 0.5,
    "augment.randaugment": "rand-m9-mstd0.5-inc1",
    "augment.erasing": 0.25,
    "augment.erasing_mode": "pixel",
    "augment.mean": [0.5, 0.5, 0.5],
    "augment.std": [0.5, 0.5, 0.5],
    "loss.rbl": True,
    "loss.eps": 0.3,
    "loss.rac": True,
    "loss.lambda": 0.1,
    "loss.balance_normaliser": 10.0,
    "loss.balance_power": 1.0,
    "loss.focal_gamma": 0.0,
    "loss.warm_start_steps": 0,
    "loss.logit_adjust": 0.0,
    "loss.rbl_shares": "balance",
    "loss.drw_step": 0,
    "loss.drw_beta": 0.9999,
    "optim.lr": 5e-4,
    "optim.lr_batch": 512,
    "optim.weight_decay": 0.05,
    "optim.betas": [0.9, 0.999],
    "optim.eps": 1e-8,
    "optim.clip_norm": 5.0,
    "schedule.warmup_steps": 2000,
    "schedule.warmup_lr": 5e-7,
    "schedule.min_lr": 5e-6,
    "train.steps": 60000,
    "train.batch_size": 32,
    "train.seed": 2048,
    "train.eval_every": 1000,
    "train.log_every": 50,
    "train.best_metric": "accuracy",
    "train.out_dir": "checkpoints",
    "train.name": "",
    "eval.batch_size": 64,
}

# Keys that only change speed, memory, logging or file handling in mek (or, for micro_batch,
# split a batch into chunks whose gradients sum to the same result): accepted and ignored.
IGNORED_KEYS = {
    "data.workers", "data.prefetch", "data.cache_mb", "data.on_bad_image", "data.synth_size",
    "data.synth_difficulty", "data.train_list", "data.test_list", "model.init_optional",
    "train.micro_batch", "train.recompute", "train.threads",
}

# src/model/variants.ts, in swin_mek.build's keys (num_classes comes from data.classes).
VARIANTS = {
    "swin_t": dict(img_size=112, patch_size=2, in_chans=3, embed_dim=96, depths=[2, 2, 6, 2],
                   num_heads=[3, 6, 12, 24], window_size=7, mlp_ratio=4.0, qkv_bias=True,
                   patch_norm=True, drop_path_rate=0.1, embedding_size=512),
    "swin_tiny_test": dict(img_size=56, patch_size=2, in_chans=3, embed_dim=16, depths=[2, 2, 2],
                           num_heads=[2, 2, 4], window_size=7, mlp_ratio=4.0, qkv_bias=True,
                           patch_norm=True, drop_path_rate=0.1, embedding_size=32),
    "swin_demo": dict(img_size=56, patch_size=4, in_chans=3, embed_dim=32, depths=[2, 2],
                      num_heads=[2, 4], window_size=7, mlp_ratio=4.0, qkv_bias=True,
                      patch_norm=True, drop_path_rate=0.05, embedding_size=32),
}

# src/ablate/table.ts METHODS: each method is a setting of config keys on top of the base
# config; every method sets the keys of PLAIN, so base values of those never leak into it.
PLAIN = {"loss.rbl": False, "loss.rac": False, "loss.logit_adjust": 0.0, "loss.rbl_shares": "balance",
         "loss.drw_step": 0, "data.sampler": "shuffle"}
METHODS = {
    "ce": dict(label="CE", set=dict(PLAIN)),
    "rbl": dict(label="RBL", set={**PLAIN, "loss.rbl": True}),
    "rac": dict(label="CE + RAC", set={**PLAIN, "loss.rac": True}),
    "mek": dict(label="MEK (RBL + RAC)", set={**PLAIN, "loss.rbl": True, "loss.rac": True}),
    "la": dict(label="CE + LA", set={**PLAIN, "loss.logit_adjust": 1.0}),
    # DRW from 80% of the run (a function of train.steps, as table.ts)
    "drw": dict(label="CE + DRW", set={**PLAIN, "loss.drw_step": lambda steps: int(math.floor(0.8 * steps + 0.5))}),
    "bal": dict(label="CE, balanced sampler", set={**PLAIN, "data.sampler": "balanced"}),
    "mek-la": dict(label="MEK + LA", set={**PLAIN, "loss.rbl": True, "loss.rac": True, "loss.logit_adjust": 1.0,
                                          "loss.rbl_shares": "neutral", "loss.lambda": 0.01}),
    # Not in mek: the config exactly as given (--set), for trying a composition before it has a name.
    "config": dict(label="config as given", set={}),
}
RAREST_COUNT = 3
# Keys an ablation run sets itself, or that only name things: they may differ between two
# invocations on the same output folder (as src/ablate/run.ts FREE_KEYS).
FREE_KEYS = {"train.seed", "train.name", "train.out_dir", "train.log_every"} | set(PLAIN)
# The post-hoc adjustment grid (src/eval/adjust.ts): tau from 0 to 2 in steps of 0.25.
TAU_GRID = [i * 0.25 for i in range(9)]


class ConfigError(Exception):
    pass


def parse_scalar(text):
    """One YAML scalar of the subset our configs use (for when PyYAML is absent)."""
    t = text.strip()
    if t in ("", "~", "null", "Null", "NULL"):
        return None
    if t in ("true", "True", "TRUE"):
        return True
    if t in ("false", "False", "FALSE"):
        return False
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    if t.startswith("[") and t.endswith("]"):
        inner = t[1:-1].strip()
        return [parse_scalar(p) for p in inner.split(",")] if inner else []
    for cast in (int, float):
        try:
            return cast(t)
        except ValueError:
            pass
    return t


def strip_comment(line):
    """The line without a trailing `# comment` (a '#' outside quotes, after a space)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def parse_simple_yaml(text):
    """The two-level mapping of a mek config (`section:` then indented `key: value`, values
    scalars or flow lists). Enough for configs/*.yaml; block lists and anchors are not."""
    out, section = {}, None
    for number, raw in enumerate(text.splitlines(), 1):
        line = strip_comment(raw).rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            name, _, rest = line.partition(":")
            if rest.strip():
                raise ConfigError(f"line {number}: expected a section header, got '{line}'")
            section = out.setdefault(name.strip(), {})
            continue
        if section is None or ":" not in line or line.strip().startswith("-"):
            raise ConfigError(f"line {number}: not understood by the fallback parser: '{line}' "
                              "(install python3-yaml)")
        key, _, value = line.strip().partition(":")
        section[key.strip()] = parse_scalar(value)
    return out


def load_yaml(text):
    try:
        import yaml
    except ImportError:
        return parse_simple_yaml(text)
    return yaml.safe_load(text) or {}


def coerce(key, value):
    """`value` in the type of the key's default. PyYAML reads YAML 1.1, where 5e-4 (no dot) is a
    string, while mek's reader (YAML 1.2) reads a number: numbers written as strings are read."""
    default = DEFAULTS[key]
    if value is None:
        if default is None:
            return None
        raise ConfigError(f"{key}: a value is required (default {default!r})")
    if key == "loss.balance_normaliser" and value == "classes":
        return value
    if key in ("model.depths", "model.num_heads"):
        return [int(v) for v in value]
    if key in ("model.qkv_bias", "model.patch_norm") or isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if key in ("model.img_size", "model.patch_size", "model.embed_dim", "model.window_size") \
            or isinstance(default, int):
        if isinstance(value, bool) or float(value) != int(float(value)):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return int(float(value))
    if key in ("model.mlp_ratio", "model.drop_path_rate") or isinstance(default, float):
        return float(value)
    if isinstance(default, list):
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return [str(v) for v in value] if isinstance(default[0], str) else [float(v) for v in value]
    return str(value)


def flatten_config(doc, where):
    flat = {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: a config is a mapping of sections (model:, data:, ...)")
    for section, values in doc.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: section '{section}' must be a mapping of keys")
        for name, value in values.items():
            flat[f"{section}.{name}"] = value
    return flat


def load_config(path, sets):
    """Defaults, then the YAML file, then each --set key=value, as mek's loadConfig does."""
    cfg = dict(DEFAULTS)
    given = {}
    if path:
        with open(path, encoding="utf8") as f:
            given.update(flatten_config(load_yaml(f.read()), path))
    for item in sets:
        key, eq, raw = item.partition("=")
        if not eq:
            raise ConfigError(f"--set {item}: expected key=value")
        key = key.strip()
        # String keys keep the raw text (mek does the same), so `augment.randaugment=` is "".
        given[key] = raw if isinstance(DEFAULTS.get(key), str) else parse_scalar(raw) if raw.strip() else None
    for key, value in given.items():
        if key in IGNORED_KEYS:
            continue
        if key not in DEFAULTS:
            raise ConfigError(f"{key}: not a key this script implements (known: see DEFAULTS in "
                              f"{os.path.basename(__file__)})")
        try:
            cfg[key] = coerce(key, value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: {value!r} is not a value of the type of its default {DEFAULTS[key]!r}")
    check_supported(cfg)
    return cfg


def check_supported(cfg):
    """Parts of mek's recipe that this reference does not implement: refuse rather than train
    something else under the same name."""
    problems = []
    if cfg["data.format"] != "rafdb":
        problems.append(f"data.format {cfg['data.format']} (only rafdb)")
    if cfg["augment.randaugment"].strip():
        problems.append(f"augment.randaugment '{cfg['augment.randaugment']}' (only off: '')")
    if cfg["augment.erasing"] != 0:
        problems.append(f"augment.erasing {cfg['augment.erasing']} (only 0)")
    if cfg["model.init"]:
        problems.append(f"model.init {cfg['model.init']} (only random init)")
    if cfg["data.sampler"] not in ("shuffle", "balanced"):
        problems.append(f"data.sampler {cfg['data.sampler']}")
    if cfg["model.variant"] not in VARIANTS:
        problems.append(f"model.variant {cfg['model.variant']}")
    if cfg["loss.rbl_shares"] not in ("balance", "neutral", "adjusted"):
        problems.append(f"loss.rbl_shares {cfg['loss.rbl_shares']} (balance, neutral or adjusted)")
    if cfg["train.best_metric"] not in ("accuracy", "mean_class_accuracy"):
        problems.append(f"train.best_metric {cfg['train.best_metric']}")
    if problems:
        raise ConfigError("not supported by this reference: " + "; ".join(problems))


def variant_of(cfg):
    """src/config/variant.ts: the named variant with single fields overridden; the class count
    from data.classes."""
    v = dict(VARIANTS[cfg["model.variant"]])
    for field in ("img_size", "patch_size", "embed_dim", "depths", "num_heads", "window_size",
                  "mlp_ratio", "qkv_bias", "patch_norm", "drop_path_rate"):
        if cfg["model." + field] is not None:
            v[field] = cfg["model." + field]
    v["num_classes"] = len(cfg["data.classes"])
    return v


# ---------------------------------------------------------------- data

RESAMPLE = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "nearest": Image.NEAREST}


def read_rafdb(cfg):
    """Per split (train/test): image names and 0-based labels from the RAF-DB label file (lines
    `name label`, split = the name's prefix before '_', labels 1-based), in file order."""
    want = {cfg["data.train_split"]: "train", cfg["data.test_split"]: "test"}
    out = {"train": ([], []), "test": ([], [])}
    K = len(cfg["data.classes"])
    path = cfg["data.label_file"]
    if not os.path.exists(path):
        raise SystemExit(f"{path}: label file not found (write the data first, e.g. `node bin/mek.js "
                         "data longtail --from /usr/share/datasets/fashion-mnist --out "
                         "dataset/fmnist-lt-r50 --ratio 50`)")
    with open(path, encoding="utf8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, label = line.rsplit(None, 1)
            split = want.get(name.split("_", 1)[0])
            if split is None:
                continue
            k = int(label) - 1
            if not 0 <= k < K:
                raise SystemExit(f"{path}:{number}: label {label} out of range 1..{K}")
            out[split][0].append(name)
            out[split][1].append(k)
    return out


def image_path(root, name):
    """<root>/<name>, or the official aligned layout <root>/Image/aligned/<stem>_aligned.jpg."""
    direct = os.path.join(root, name)
    if os.path.exists(direct):
        return direct
    aligned = os.path.join(root, "Image", "aligned", os.path.splitext(name)[0] + "_aligned.jpg")
    if os.path.exists(aligned):
        return aligned
    raise SystemExit(f"image not found at {direct} nor at {aligned}")


def load_images(root, names, size, interpolation):
    """uint8 [N, size, size, 3]: PIL's convert('RGB') and, where needed, a resize of the whole
    image, as mek's decode.ts. Held in memory (Fashion-MNIST at 28 px: ~46 MB for both splits)."""
    out = np.empty((len(names), size, size, 3), dtype=np.uint8)
    for i, name in enumerate(names):
        with Image.open(image_path(root, name)) as im:
            im = im.convert("RGB")
            if im.size != (size, size):
                im = im.resize((size, size), RESAMPLE[interpolation])
            out[i] = np.asarray(im)
    return torch.from_numpy(out)


def hold_out(labels, fraction, seed):
    """A stratified hold-out (src/data/holdout.ts): per class, floor(fraction * n_c + 0.5)
    samples (at least one when fraction > 0 and the class has two, never all), drawn with a
    generator of `seed`. Returns (train indices, val indices), each in file order. The draw is
    torch's, not mek's: the same sizes, other members."""
    gen = torch.Generator().manual_seed(seed)
    val = []
    for k in range(int(labels.max()) + 1):
        members = torch.nonzero(labels == k).flatten()
        n = len(members)
        take = min(max(int(math.floor(fraction * n + 0.5)), 1 if n >= 2 else 0), n - 1) if fraction > 0 else 0
        val += members[torch.randperm(n, generator=gen)[:take]].tolist()
    val_set = set(val)
    train = [i for i in range(len(labels)) if i not in val_set]
    return torch.tensor(train, dtype=torch.int64), torch.tensor(sorted(val), dtype=torch.int64)


class Dataset:
    def __init__(self, cfg, size):
        lists = read_rafdb(cfg)
        root = cfg["data.root"]
        K = len(cfg["data.classes"])
        all_images = load_images(root, lists["train"][0], size, cfg["augment.interpolation"])
        all_labels = torch.tensor(lists["train"][1], dtype=torch.int64)
        self.all_train = (all_images, all_labels)
        # Held-out images are evaluated as mek evaluates: resized with the evaluation filter (a
        # no-op at the images' own size, which is all this script supports for a val split).
        self.split(cfg["data.val_fraction"], cfg["train.seed"])
        self.test_images = load_images(root, lists["test"][0], size, cfg["data.eval_interpolation"])
        self.test_labels = torch.tensor(lists["test"][1], dtype=torch.int64)
        self.test_counts = torch.bincount(self.test_labels, minlength=K).tolist()
        empty = [cfg["data.classes"][k] for k, n in enumerate(self.train_counts) if n == 0]
        if empty:
            raise SystemExit(f"classes without training samples: {', '.join(empty)}")
        # Normalisation as torchvision's ToTensor + Normalize and mek's normalize.ts: x / 255,
        # minus mean, divided by std, each rounded to float32 (the same values bit for bit).
        self.mean = torch.tensor(cfg["augment.mean"], dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(cfg["augment.std"], dtype=torch.float32).view(1, 3, 1, 1)

    def split(self, fraction, seed):
        """The training split minus a stratified hold-out of `fraction` (the validation split)."""
        images, labels = self.all_train
        K = int(labels.max()) + 1
        train_idx, val_idx = hold_out(labels, fraction, seed)
        self.train_images, self.train_labels = images[train_idx], labels[train_idx]
        self.val_images, self.val_labels = images[val_idx], labels[val_idx]
        self.train_counts = torch.bincount(self.train_labels, minlength=K).tolist()

    def to(self, device):
        self.mean, self.std = self.mean.to(device), self.std.to(device)
        return self


    def normalise(self, images_u8):
        """uint8 NHWC -> normalised float32 NCHW, on the device of the mean."""
        x = images_u8.to(self.mean.device).permute(0, 3, 1, 2).to(torch.float32) / 255.0
        return (x - self.mean) / self.std


class TrainSampler:
    """Batches of training indices, epoch after epoch, like mek's BatchLoader: `shuffle` serves
    every sample once per epoch (the list repeated to data.repeat_to first, when set);
    `balanced` draws a class uniformly, then a sample of it; drop_last drops an epoch's last
    short batch. The order comes from this generator, so it is not mek's order."""

    def __init__(self, labels, batch_size, sampler, repeat_to, drop_last, generator):
        self.labels = labels
        self.batch_size = batch_size
        self.sampler = sampler
        self.length = repeat_to if repeat_to > 0 else len(labels)
        self.drop_last = drop_last
        self.gen = generator
        self.epoch = -1
        self.order = torch.empty(0, dtype=torch.int64)
        self.index = 0
        if drop_last and self.length < batch_size:
            raise SystemExit(f"only {self.length} training samples for a batch of {batch_size} with drop_last")

    def _new_epoch(self):
        self.epoch += 1
        self.index = 0
        n = len(self.labels)
        if self.sampler == "balanced":
            members = [torch.nonzero(self.labels == k).flatten() for k in range(int(self.labels.max()) + 1)]
            members = [m for m in members if len(m) > 0]
            cls = torch.randint(len(members), (self.length,), generator=self.gen)
            self.order = torch.stack([members[c][torch.randint(len(members[c]), (1,), generator=self.gen)[0]]
                                      for c in cls.tolist()])
        else:
            base = torch.arange(self.length) % n
            self.order = base[torch.randperm(self.length, generator=self.gen)]

    def next(self):
        remaining = len(self.order) - self.index
        if remaining <= 0 or (self.drop_last and remaining < self.batch_size):
            self._new_epoch()
            remaining = len(self.order)
        size = min(self.batch_size, remaining)
        picks = self.order[self.index:self.index + size]
        self.index += size
        return picks


# ---------------------------------------------------------------- model, losses, metrics

def init_like_mek(model):
    """The initialisation of mek's ParamStore.init (src/model/params.ts), which follows the
    reference's timm hook: Linear weights N(0, 0.02) truncated to [-2, 2] with zero biases,
    LayerNorm (and BatchNorm) weight 1 / bias 0. swin_mek.build already draws the relative
    position bias tables from the same N(0, 0.02); the patch-embedding Conv2d keeps PyTorch's
    default U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, as mek's conv_uniform."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.LayerNorm, nn.BatchNorm1d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def balance_weights(counts, normaliser, power=1.0):
    """src/mek/balance.ts: w_c = (N / (normaliser * n_c))^power, in float64, then float32."""
    norm = len(counts) if normaliser == "classes" else normaliser
    return (sm.balance_weights(counts, norm) ** power).to(torch.float32)


def rarest_classes(train_counts, classes, k=RAREST_COUNT):
    """table.ts rarestClasses: fewest training images first; ties go to the higher index."""
    order = sorted(range(len(train_counts)), key=lambda i: (train_counts[i], -i))
    return [dict(index=i, name=classes[i], train=train_counts[i]) for i in order[:min(k, len(order))]]


def subset_accuracy(per_class, indices):
    """Unweighted mean recall of `indices`, classes without test samples left out."""
    present = [per_class[i] for i in indices if per_class[i] is not None]
    return sum(present) / len(present) if present else None


@torch.no_grad()
def logits_of(model, data, images, batch_size):
    """Eval mode (no drop path, no augmentation) logits [N, K] of uint8 NHWC images, on the CPU."""
    model.eval()
    out = [model(data.normalise(images[i:i + batch_size]))[0].float().cpu() for i in range(0, len(images), batch_size)]
    model.train()
    return torch.cat(out)


def metrics_of(logits, labels, K, step, log_prior=None, tau=0.0):
    """Overall accuracy, per-class recall and their unweighted mean from one confusion matrix
    (src/eval/metrics.ts); predictions argmax(z - tau log prior) (post-hoc adjustment)."""
    z = logits if not tau else logits - tau * log_prior
    confusion = torch.bincount(labels * K + z.argmax(1), minlength=K * K).view(K, K)
    support = confusion.sum(1).tolist()
    diag = confusion.diagonal().tolist()
    per_class = [d / n if n > 0 else None for d, n in zip(diag, support)]
    present = [a for a in per_class if a is not None]
    return dict(step=step, accuracy=sum(diag) / sum(support),
                mean_class_accuracy=sum(present) / len(present), per_class=per_class)


def sweep_adjust(logits, labels, K, step, log_prior):
    """Metrics at every tau of TAU_GRID, and the tau of the highest mean-class accuracy (the
    smallest such tau on a tie), as src/eval/adjust.ts."""
    curve = [dict(tau=t, **metrics_of(logits, labels, K, step, log_prior, t)) for t in TAU_GRID]
    best = max(curve, key=lambda m: (m["mean_class_accuracy"], -m["tau"]))
    return curve, best["tau"]


# ---------------------------------------------------------------- one run

def training_prior(counts, sampler):
    """The class distribution the model is trained on (src/data/prior.ts): the training split's
    class frequencies, or uniform when the balanced sampler draws classes uniformly. Float64."""
    n = torch.tensor(counts, dtype=torch.float64)
    return torch.full_like(n, 1 / len(counts)) if sampler == "balanced" else n / n.sum()


def method_values(method, steps):
    """The method's keys with their values for a run of `steps` steps (src/ablate/run.ts)."""
    return {k: v(steps) if callable(v) else v for k, v in METHODS[method]["set"].items()}


def method_config(cfg, method):
    """The base config with the method's keys on top (src/ablate/run.ts runConfig)."""
    c = dict(cfg)
    c.update(method_values(method, cfg["train.steps"]))
    return c


def train_run(base_cfg, method, seed, data, log, device="cpu"):
    """One method/seed run, evaluated every train.eval_every steps and at the last on the
    validation split (data.val_fraction > 0) or the test split; returns the run's result record
    (what result.json holds). With a validation split the best checkpoint by train.best_metric
    (picked on it) is evaluated once on the test split at the end (`final`), and the post-hoc
    adjustment tau is chosen on the validation split (`posthoc`)."""
    cfg = method_config(base_cfg, method)
    rbl_on, rac_on = cfg["loss.rbl"], cfg["loss.rac"]
    K = len(cfg["data.classes"])
    variant = variant_of(cfg)
    steps, B = cfg["train.steps"], cfg["train.batch_size"]
    use_val = cfg["data.val_fraction"] > 0
    data.split(cfg["data.val_fraction"], seed)

    # The global generator draws the initial weights and, during training, the drop-path masks;
    # a second generator draws the data order and the flips, so changing one does not move the other.
    torch.manual_seed(seed)
    model = sm.build(variant)
    init_like_mek(model)
    model.to(device).train()
    data_gen = torch.Generator().manual_seed(seed)
    sampler = TrainSampler(data.train_labels, B, cfg["data.sampler"], cfg["data.repeat_to"],
                           cfg["data.drop_last"], data_gen)

    w = balance_weights(data.train_counts, cfg["loss.balance_normaliser"], cfg["loss.balance_power"])
    prior = training_prior(data.train_counts, cfg["data.sampler"])
    log_prior = prior.log().to(torch.float32)
    tau = cfg["loss.logit_adjust"]
    shares = sm.rbl_share_weights(w.double(), prior, tau, cfg["loss.rbl_shares"]).to(torch.float32)
    drw_w = sm.class_balanced_weights(data.train_counts, cfg["loss.drw_beta"]).to(torch.float32)
    w_d, shares_d, log_prior_d, drw_d = (t.to(device) for t in (w, shares, log_prior, drw_w))
    # Every parameter in one group, as the reference: weight decay on all of them. The unused
    # encoder.norm and encoder.feature get no gradient, and AdamW skips them (as mek's, which
    # does not hold them in its trainable list).
    params = [p for p in model.parameters()]
    opt = torch.optim.AdamW(params, lr=0.0, betas=tuple(cfg["optim.betas"]), eps=cfg["optim.eps"],
                            weight_decay=cfg["optim.weight_decay"])
    scale = B / cfg["optim.lr_batch"] if cfg["optim.lr_batch"] > 0 else 1.0
    schedule = dict(base_lr=cfg["optim.lr"] * scale, warmup_lr_init=cfg["schedule.warmup_lr"] * scale,
                    lr_min=cfg["schedule.min_lr"] * scale, warmup_t=cfg["schedule.warmup_steps"],
                    t_initial=steps)
    clip, lam, eps, p_flip = cfg["optim.clip_norm"], cfg["loss.lambda"], cfg["loss.eps"], cfg["augment.hflip"]
    eval_every = cfg["train.eval_every"]
    best_key = cfg["train.best_metric"]
    log_every = cfg["train.log_every"]
    drw_step = cfg["loss.drw_step"]
    eval_images, eval_labels = (data.val_images, data.val_labels) if use_val else (data.test_images, data.test_labels)

    evals, train_log, step_times = [], [], []
    best, best_state = None, None
    logged = 0
    eval_seconds = 0.0
    start = time.perf_counter()
    for step in range(steps):
        t0 = time.perf_counter()
        lr = sm.cosine_lr(step, **schedule)
        for group in opt.param_groups:
            group["lr"] = lr
        idx = sampler.next()
        imgs, y = data.train_images[idx], data.train_labels[idx]
        if p_flip > 0:
            # RandomHorizontalFlip per sample (u < p), on the 8-bit image before normalising
            flip = torch.rand(len(idx), generator=data_gen) < p_flip
            imgs = torch.where(flip.view(-1, 1, 1, 1), imgs.flip(2), imgs)
        x = data.normalise(imgs)
        y = y.to(device)
        b = x.shape[0]
        # A warm start: plain cross-entropy (no focal factor, no mirror, no adjustment, no
        # re-weighting) before warm_start_steps.
        method_now = step >= cfg["loss.warm_start_steps"]
        rbl_now, rac_now = rbl_on and method_now, rac_on and method_now
        gamma = cfg["loss.focal_gamma"] if method_now else 0.0
        tau_now = tau if method_now else 0.0
        drw_now = method_now and drw_step > 0 and step >= drw_step
        if rac_now:
            # The batch and its mirror as one batch of 2B (src/train/step.ts); the mirror is of
            # the augmented image, and drop path draws its own masks for each half.
            logits, cams = model(torch.cat([x, x.flip(-1)]))
            logits, cams, cams_of_flipped = logits[:b], cams[:b], cams[b:]
        else:
            logits, _ = model(x)
        cls = sm.classification_loss(logits, y, w_d, eps, rbl=rbl_now, gamma=gamma, log_prior=log_prior_d,
                                     tau=tau_now, sample_weights=drw_d if drw_now else None, shares=shares_d)
        rac = sm.rac_loss(cams, cams_of_flipped, w_d) if rac_now else None
        total = cls + lam * rac if rac_now else cls
        opt.zero_grad(set_to_none=True)
        total.backward()
        live = [p for p in params if p.grad is not None]
        if clip > 0:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(live, clip))
        else:
            grad_norm = float(torch.norm(torch.stack([p.grad.norm() for p in live])))
        opt.step()
        loss = float(total)
        if not math.isfinite(loss):
            raise SystemExit(f"{method}-s{seed}: loss is {loss} at step {step + 1} (lr {lr:.2e})")
        step_times.append(time.perf_counter() - t0)
        done = step + 1
        if done % log_every == 0 or done == steps:
            entry = dict(step=done, epoch=sampler.epoch, loss=loss, loss_cls=float(cls),
                         loss_rac=float(rac) if rac is not None else None, grad_norm=grad_norm, lr=lr)
            train_log.append(entry)
            recent = step_times[logged:]
            logged = done
            log(f"step {done}/{steps}  loss {loss:.4f}  lr {lr:.2e}  {sum(recent) / len(recent):.3f} s/step")
        if (eval_every > 0 and done % eval_every == 0) or done == steps:
            t1 = time.perf_counter()
            ev = metrics_of(logits_of(model, data, eval_images, cfg["eval.batch_size"]), eval_labels, K, done)
            eval_seconds += time.perf_counter() - t1
            evals.append(ev)
            if best is None or ev[best_key] > best[best_key]:
                best = ev
                if use_val:
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            log(f"step {done}: {'val' if use_val else 'test'} accuracy {100 * ev['accuracy']:.2f}%  mean-class "
                f"{100 * ev['mean_class_accuracy']:.2f}%  ({time.perf_counter() - t1:.1f} s)")
    posthoc, sweep = None, None
    if use_val:
        # The test split once, with the checkpoint picked on the validation split; the post-hoc
        # tau picked on the validation split too.
        model.load_state_dict(best_state)
        test_logits = logits_of(model, data, data.test_images, cfg["eval.batch_size"])
        final = metrics_of(test_logits, data.test_labels, K, best["step"])
        val_logits = logits_of(model, data, data.val_images, cfg["eval.batch_size"])
        sweep, chosen = sweep_adjust(val_logits, data.val_labels, K, best["step"], log_prior)
        posthoc = dict(tau=chosen, val=next(m for m in sweep if m["tau"] == chosen),
                       test=metrics_of(test_logits, data.test_labels, K, best["step"], log_prior, chosen))
        log(f"test (best on val, step {best['step']}): accuracy {100 * final['accuracy']:.2f}%  mean-class "
            f"{100 * final['mean_class_accuracy']:.2f}%; post-hoc tau {chosen}: accuracy "
            f"{100 * posthoc['test']['accuracy']:.2f}%  mean-class {100 * posthoc['test']['mean_class_accuracy']:.2f}%")
    else:
        final = evals[-1]
    wall = time.perf_counter() - start
    # The first steps pay for allocation and thread start-up; the median is the steady rate.
    steady = sorted(step_times[min(2, len(step_times) - 1):])
    return dict(method=method, seed=seed, steps=steps, final=final, best=best, evals=evals,
                selection="val" if use_val else "test", posthoc=posthoc, val_sweep=sweep,
                train_log=train_log, wall_s=wall, eval_s=eval_seconds,
                s_per_step_mean=sum(step_times) / len(step_times),
                s_per_step_median=steady[len(steady) // 2],
                threads=torch.get_num_threads(), torch_version=torch.__version__, device=str(device))


# ---------------------------------------------------------------- the table (src/ablate/table.ts)

def stat(values):
    """Mean and sample standard deviation (None for fewer than two values); None for none."""
    n = len(values)
    if n == 0:
        return None
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return dict(mean=mean, std=std, n=n)


def format_stat(s):
    if not s:
        return "-"
    mean = f"{100 * s['mean']:.2f}"
    return mean if s["std"] is None else f"{mean} ± {100 * s['std']:.2f}"


def format_duration(seconds):
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m = int(seconds // 60)
    if m < 60:
        return f"{m}m {int(math.floor(seconds - 60 * m + 0.5)):02d}s"
    return f"{m // 60}h {m % 60:02d}m"


def summarise(runs, methods, rarest):
    indices = [r["index"] for r in rarest]
    out = []
    for method in methods:
        mine = sorted((r for r in runs if r["method"] == method), key=lambda r: r["seed"])
        vals = lambda xs: [v for v in xs if isinstance(v, (int, float))]  # noqa: E731
        walls = vals([r["wall_s"] for r in mine])
        out.append(dict(
            method=method,
            seeds=[r["seed"] for r in mine],
            accuracy=stat([r["final"]["accuracy"] for r in mine]),
            mean_class_accuracy=stat([r["final"]["mean_class_accuracy"] for r in mine]),
            rarest_accuracy=stat(vals([subset_accuracy(r["final"]["per_class"], indices) for r in mine])),
            best_accuracy=stat(vals([r["best"]["accuracy"] for r in mine if r["best"]])),
            best_mean_class_accuracy=stat(vals([r["best"]["mean_class_accuracy"] for r in mine if r["best"]])),
            posthoc_accuracy=stat(vals([r["posthoc"]["test"]["accuracy"] for r in mine if r.get("posthoc")])),
            posthoc_mean_class_accuracy=stat(vals([r["posthoc"]["test"]["mean_class_accuracy"] for r in mine if r.get("posthoc")])),
            posthoc_rarest_accuracy=stat(vals([subset_accuracy(r["posthoc"]["test"]["per_class"], indices)
                                               for r in mine if r.get("posthoc")])),
            posthoc_tau=stat(vals([r["posthoc"]["tau"] for r in mine if r.get("posthoc")])),
            wall_s_per_run=stat(walls),
            wall_s_total=sum(walls) if walls else None,
        ))
    return out


HEADERS = ["method", "seeds", "accuracy", "mean-class", "rarest-3", "post-hoc acc.", "post-hoc mean-class",
           "post-hoc rarest-3", "tau", "best acc.", "best mean-class", "time/run"]


def format_tau(s):
    return "-" if not s else f"{s['mean']:.2f}"


def table_rows(summaries):
    return [[METHODS[s["method"]]["label"], str(len(s["seeds"])), format_stat(s["accuracy"]),
             format_stat(s["mean_class_accuracy"]), format_stat(s["rarest_accuracy"]),
             format_stat(s["posthoc_accuracy"]), format_stat(s["posthoc_mean_class_accuracy"]),
             format_stat(s["posthoc_rarest_accuracy"]), format_tau(s["posthoc_tau"]),
             format_stat(s["best_accuracy"]), format_stat(s["best_mean_class_accuracy"]),
             format_duration(s["wall_s_per_run"]["mean"] if s["wall_s_per_run"] else None)]
            for s in summaries]


def caption(ctx):
    seeds = f"seed {ctx['seeds'][0]}" if len(ctx["seeds"]) == 1 else "seeds " + ", ".join(map(str, ctx["seeds"]))
    rare = ", ".join(f"{r['name']} ({r['train']})" for r in ctx["rarest"])
    if ctx["selection"] == "val":
        which = (f"of the checkpoint with the best validation {ctx['best_metric']} (data.val_fraction "
                 f"{ctx['val_fraction']}), evaluated once at the end")
        best = "best: the best evaluation on the validation split"
        posthoc = ("post-hoc: predictions argmax(logits - tau log prior) with tau chosen on the validation split "
                   "(highest mean-class accuracy over 0, 0.25, ..., 2), tau its mean over seeds")
    else:
        which = "at the final evaluation (the last step)"
        best = (f"best: the best evaluation during the run by train.best_metric ({ctx['best_metric']}), picked on "
                "the test split, so optimistic")
        posthoc = "post-hoc: needs a validation split (data.val_fraction), none here"
    return (f"Ablation '{ctx['name']}' ({ctx['config']}, {ctx['steps']} steps, {seeds}). Accuracy (%) on the test "
            f"split {which}, mean ± sample std over seeds (the mean alone for one seed). accuracy: overall; "
            "mean-class: unweighted mean of the per-class recalls; rarest-3: unweighted mean recall of the "
            f"{len(ctx['rarest'])} classes with the fewest training images: {rare}. {posthoc}. {best}. time/run: "
            "wall time of one run (training and evaluations).")


def wrap(text, width):
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return "\n".join(lines)


def format_table(summaries, ctx):
    rows = [HEADERS] + table_rows(summaries)
    widths = [max(len(r[c]) for r in rows) for c in range(len(HEADERS))]
    fmt = lambda r: "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])  # noqa: E731
                              for i, c in enumerate(r)).rstrip()
    body = [fmt(HEADERS), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows[1:]]
    return "\n".join(body + ["", wrap(caption(ctx), 100)]) + "\n"


def format_markdown(summaries, runs, ctx, note):
    md = lambda r: "| " + " | ".join(r) + " |"  # noqa: E731
    pct = lambda v: f"{100 * v:.2f}" if isinstance(v, (int, float)) else "-"  # noqa: E731
    indices = [r["index"] for r in ctx["rarest"]]
    per_run_headers = ["run", "accuracy", "mean-class", "rarest-3", "best acc. (step)", "time"]
    order = list(METHODS)
    per_run = [[f"{r['method']}-s{r['seed']}", pct(r["final"]["accuracy"]), pct(r["final"]["mean_class_accuracy"]),
                pct(subset_accuracy(r["final"]["per_class"], indices)),
                f"{pct(r['best']['accuracy'])} ({r['best']['step']})" if r["best"] else "-",
                format_duration(r["wall_s"])]
               for r in sorted(runs, key=lambda r: (order.index(r["method"]), r["seed"]))]
    lines = [f"# Ablation: {ctx['name']}", "", caption(ctx), "", note, "", md(HEADERS),
             md(["---" if c == 0 else "---:" for c in range(len(HEADERS))])]
    lines += [md(r) for r in table_rows(summaries)]
    lines += ["", "## Runs", "", md(per_run_headers),
              md(["---" if c == 0 else "---:" for c in range(len(per_run_headers))])]
    lines += [md(r) for r in per_run] + [""]
    return "\n".join(lines)


def ablation_json(summaries, runs, ctx, classes, methods, complete, extra):
    indices = [r["index"] for r in ctx["rarest"]]
    return dict(
        name=ctx["name"], config=ctx["config"], steps=ctx["steps"],
        methods=[dict(method=m, label=METHODS[m]["label"], set=method_values(m, ctx["steps"])) for m in methods],
        selection=ctx["selection"], val_fraction=ctx["val_fraction"],
        seeds=ctx["seeds"],
        checkpoint="final evaluation (last step); best_* is the best evaluation by train.best_metric",
        best_metric=ctx["best_metric"], classes=classes, rarest_classes=ctx["rarest"], complete=complete,
        summary=summaries,
        runs=[dict(method=r["method"], seed=r["seed"], run_dir=r["run_dir"], final=r["final"],
                   rarest_accuracy=subset_accuracy(r["final"]["per_class"], indices), best=r["best"],
                   posthoc=r.get("posthoc"), wall_s=r["wall_s"]) for r in runs],
        # Not in mek's file: which implementation wrote it (compare_ablation.py prints it).
        implementation=extra,
    )


# ---------------------------------------------------------------- files

def write_atomic(path, text):
    """Write then rename, so a reader (or a second process on the same folder) never sees half
    a file."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf8") as f:
        f.write(text)
    os.replace(tmp, path)


def read_json(path):
    try:
        with open(path, encoding="utf8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def check_same_recipe(out_dir, cfg):
    """Refuses to mix runs of different recipes in one folder (as src/ablate/run.ts); a quick
    --steps check must go to its own --out."""
    path = os.path.join(out_dir, "config.json")
    recipe = {k: v for k, v in sorted(cfg.items()) if k not in FREE_KEYS}
    saved = read_json(path)
    if saved is not None:
        differ = [k for k in recipe if k in saved and saved[k] != recipe[k]]
        if differ:
            shown = ", ".join(f"{k} {saved[k]!r} -> {recipe[k]!r}" for k in differ[:4])
            raise SystemExit(f"{out_dir} holds runs of a different recipe ({shown}); choose another --out "
                             "or remove the folder")
    else:
        write_atomic(path, json.dumps(recipe, indent=2) + "\n")


def run_line(r, rarest):
    rare = subset_accuracy(r["final"]["per_class"], [c["index"] for c in rarest])
    pct = lambda v: "-" if v is None else f"{100 * v:.2f}%"  # noqa: E731
    ph = r.get("posthoc")
    posthoc = f"; post-hoc tau {ph['tau']}: mean-class {pct(ph['test']['mean_class_accuracy'])}" if ph else ""
    timing = f" in {round(r['wall_s'])} s ({r['s_per_step_median']:.3f} s/step, {r['threads']} thread" \
             f"{'s' if r['threads'] != 1 else ''})" if "s_per_step_median" in r else ""
    return (f"accuracy {pct(r['final']['accuracy'])}  mean-class {pct(r['final']['mean_class_accuracy'])}  "
            f"rarest-{len(rarest)} {pct(rare)} (final, step {r['final']['step']}){posthoc}{timing}; {r['run_dir']}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="mek config YAML (e.g. configs/fmnist-lt.yaml)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config key, as mek's --set (repeatable)")
    ap.add_argument("--methods", default="ce,mek,la,mek-la,drw,bal", help=f"comma-separated subset of {','.join(METHODS)}")
    ap.add_argument("--device", default="cpu", help="torch device (cpu, cuda); the data and the model go there")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per method: train.seed, train.seed + 1, ...")
    ap.add_argument("--steps", type=int, help="override train.steps (quick checks; use its own --out)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: two runs side by side)")
    ap.add_argument("--out", help="output folder (default: <train.out_dir>/<config name>-torch-ablation)")
    args = ap.parse_args()

    try:
        cfg = load_config(args.config, args.set)
    except (ConfigError, OSError) as e:
        raise SystemExit(f"config: {e}")
    if args.steps is not None:
        cfg["train.steps"] = args.steps
    methods = []
    for m in (s.strip() for s in args.methods.split(",")):
        if m and m not in METHODS:
            raise SystemExit(f"--methods: unknown method '{m}' (choose from {', '.join(METHODS)})")
        if m and m not in methods:
            methods.append(m)
    if not methods or args.seeds < 1:
        raise SystemExit("need at least one method and --seeds >= 1")
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    base = os.path.splitext(os.path.basename(args.config))[0] if args.config else (cfg["train.name"] or "run")
    out_dir = args.out or os.path.join(cfg["train.out_dir"], f"{base}-torch-ablation")
    os.makedirs(out_dir, exist_ok=True)
    check_same_recipe(out_dir, cfg)

    variant = variant_of(cfg)
    t = time.perf_counter()
    data = Dataset(cfg, variant["img_size"]).to(args.device)
    if args.device.startswith("cuda"):
        # float32 as on the CPU: no TensorFloat-32 in the patch embedding's convolution or the matmuls
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    classes = cfg["data.classes"]
    rarest = rarest_classes(torch.bincount(data.all_train[1], minlength=len(classes)).tolist(), classes)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); model {cfg['model.variant']} "
          f"{variant['img_size']}px patch {variant['patch_size']} embed {variant['embed_dim']} depths "
          f"{variant['depths']}; {len(data.train_labels)} train / {len(data.test_labels)} test images "
          f"(loaded in {time.perf_counter() - t:.1f} s); output {out_dir}", flush=True)

    seeds = [cfg["train.seed"] + i for i in range(args.seeds)]
    total = len(methods) * len(seeds)
    runs, interrupted = [], False
    try:
        # Seed-major like mek ablate: every method of the first seed before the second.
        for seed in seeds:
            for method in methods:
                tag = f"{method}-s{seed}"
                run_dir = os.path.join(out_dir, tag)
                result_path = os.path.join(run_dir, "result.json")
                position = f"[{len(runs) + 1}/{total}]"
                done = read_json(result_path)
                if done and done.get("steps") == cfg["train.steps"]:
                    done["run_dir"] = run_dir
                    print(f"{position} {tag}: already done, not re-run: {run_line(done, rarest)}", flush=True)
                    runs.append(done)
                    continue
                os.makedirs(run_dir, exist_ok=True)
                log = lambda text, tag=tag: print(f"[{tag}] {text}", flush=True)  # noqa: E731
                result = train_run(cfg, method, seed, data, log, args.device)
                result["run_dir"] = run_dir
                write_atomic(result_path, json.dumps(result, indent=2) + "\n")
                print(f"{position} {tag}: {run_line(result, rarest)}", flush=True)
                runs.append(result)
    except KeyboardInterrupt:
        # A run is minutes long: an interrupted one is trained again from the start next time.
        print("interrupted; finished runs are kept, the same command continues", flush=True)
        interrupted = True

    summaries = summarise(runs, methods, rarest)
    ctx = dict(name=os.path.basename(os.path.normpath(out_dir)), config=args.config or "--set only",
               steps=cfg["train.steps"], seeds=seeds, rarest=rarest, best_metric=cfg["train.best_metric"],
               selection="val" if cfg["data.val_fraction"] > 0 else "test", val_fraction=cfg["data.val_fraction"])
    threads = sorted({r.get("threads") for r in runs if r.get("threads")})
    extra = dict(tool="scripts/reference/train_longtail.py", torch=torch.__version__, threads=threads)
    note = (f"Trained with PyTorch {torch.__version__} by scripts/reference/train_longtail.py "
            f"(threads: {', '.join(map(str, threads)) or '-'}).")
    complete = len(runs) == total
    write_atomic(os.path.join(out_dir, "ablation.json"),
                 json.dumps(ablation_json(summaries, runs, ctx, classes, methods, complete, extra), indent=2) + "\n")
    write_atomic(os.path.join(out_dir, "ablation.md"), format_markdown(summaries, runs, ctx, note))
    print()
    print(format_table(summaries, ctx), end="")
    print(f"{'done' if complete else 'incomplete'}: {len(runs)} run{'s' if len(runs) != 1 else ''}; "
          f"{os.path.join(out_dir, 'ablation.json')}, {os.path.join(out_dir, 'ablation.md')}")
    if interrupted:
        sys.exit(130)


if __name__ == "__main__":
    main()
