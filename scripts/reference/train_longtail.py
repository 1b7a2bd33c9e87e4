"""PyTorch side of `mek ablate`: trains the run folders that `mek ablate --plan-only` writes, with
swin_mek.py's model and losses, and writes in each the files mek's own runs leave there
(metrics.jsonl, summary.json, wall.json), so `mek ablate --table` makes the table of these runs
with the same code as of mek's. mek resolves every config key and the model (config.yaml and
architecture.json of each run folder); this script only maps them onto PyTorch.

    node bin/mek.js ablate --config configs/fmnist-lt.yaml --seeds 3 --plan-only --name fmnist-lt-torch
    /usr/bin/python3 scripts/reference/train_longtail.py checkpoints/fmnist-lt-torch
    node bin/mek.js ablate --table checkpoints/fmnist-lt-torch

Agreement with mek is statistical (within the seed spread): the data order, the flips and the
initial weights come from torch's generators, not from mek's. See scripts/reference/README.md
("Long-tailed ablation in PyTorch") for what matches exactly.
"""
import argparse
import json
import math
import os
import re
import sys
import time

import numpy as np

# OpenMP threads that spin while waiting (libgomp's default) collapse when a core is shared: with
# a second process on one of two cores, 2 threads measured 3.0 s/step instead of 0.13. Passive
# waiting costs nothing measurable on idle cores. Read when torch loads libgomp, so set it first.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import yaml  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swin_mek as sm  # noqa: E402

# ---------------------------------------------------------------- mek's run folder

# The files of src/ablate/plan.ts, src/ablate/run-folder.ts and src/train/run.ts.
CONFIG_FILE = "config.yaml"
ARCHITECTURE_FILE = "architecture.json"
PLAN_FILE = "plan.json"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
WALL_FILE = "wall.json"
MEK_CHECKPOINT = "last.json"

# The config keys this script trains by (augment.erasing_mode too: check_supported allows no
# erasing, so the mode cannot matter). Every key of a run's config.yaml must be here or in one
# of the two sets below: a key mek gains later is refused until it is implemented here (or shown
# not to change the recipe), since training without it would compare something else.
IMPLEMENTED_KEYS = {
    "model.init",
    "data.format", "data.root", "data.label_file", "data.train_split", "data.test_split", "data.classes",
    "data.sampler", "data.val_fraction", "data.repeat_to", "data.drop_last", "data.eval_interpolation",
    "augment.interpolation", "augment.hflip", "augment.randaugment", "augment.erasing", "augment.erasing_mode",
    "augment.mean", "augment.std",
    "loss.rbl", "loss.eps", "loss.rac", "loss.lambda", "loss.balance_normaliser", "loss.balance_power",
    "loss.focal_gamma", "loss.warm_start_steps", "loss.logit_adjust", "loss.rbl_shares", "loss.drw_step",
    "loss.drw_beta", "loss.lambda_warmup_steps", "loss.rac_normalize", "loss.rac_classes", "loss.rac_weights",
    "optim.lr", "optim.lr_batch", "optim.weight_decay", "optim.betas", "optim.eps", "optim.clip_norm",
    "schedule.warmup_steps", "schedule.warmup_lr", "schedule.min_lr",
    "train.steps", "train.batch_size", "train.seed", "train.eval_every", "train.log_every", "train.best_metric",
    "eval.batch_size",
}
# The architecture keys: mek resolves them into architecture.json, which is what is built.
MODEL_KEYS = {
    "model.variant", "model.img_size", "model.patch_size", "model.embed_dim", "model.depths",
    "model.num_heads", "model.window_size", "model.mlp_ratio", "model.qkv_bias", "model.patch_norm",
    "model.drop_path_rate",
}
# Keys that in mek only change speed, memory, logging, file handling or where the run goes (or,
# for micro_batch, split a batch into chunks whose gradients sum to the same result).
IGNORED_KEYS = {
    "data.workers", "data.prefetch", "data.cache_mb", "data.on_bad_image", "data.max_image_pixels",
    "data.max_skip_fraction", "data.synth_size", "data.synth_difficulty", "data.train_list",
    "data.test_list", "model.init_optional", "train.micro_batch", "train.recompute", "train.threads",
    "train.out_dir", "train.name", "train.log_head_projection",
}

# architecture.json (src/model/variants.ts SwinVariant) -> swin_mek.build's keys.
ARCHITECTURE_FIELDS = {
    "imgSize": "img_size", "patchSize": "patch_size", "inChans": "in_chans", "embedDim": "embed_dim",
    "depths": "depths", "numHeads": "num_heads", "windowSize": "window_size", "mlpRatio": "mlp_ratio",
    "qkvBias": "qkv_bias", "patchNorm": "patch_norm", "dropPathRate": "drop_path_rate",
    "numClasses": "num_classes", "embeddingSize": "embedding_size",
}

# The post-hoc adjustment grid (src/eval/adjust.ts): tau from 0 to 2 in steps of 0.25.
TAU_GRID = [i * 0.25 for i in range(9)]


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML reads YAML 1.1; mek writes YAML 1.2. Where they differ on what a config holds, this
    loader reads as mek does: 1e-8 (no dot) is a number, not a string, and only true/false are
    booleans (a class named No stays a string)."""


Yaml12Loader.add_implicit_resolver(  # copies the inherited table first, so SafeLoader is untouched
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))
for _first, _resolvers in Yaml12Loader.yaml_implicit_resolvers.items():
    _resolvers[:] = [(tag, rx) for tag, rx in _resolvers if tag != "tag:yaml.org,2002:bool"]
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def read_json(path):
    try:
        with open(path, encoding="utf8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_atomic(path, text):
    """Write then rename, so a reader (mek ablate --table) never sees half a file."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf8") as f:
        f.write(text)
    os.replace(tmp, path)


def read_run_config(run_dir):
    """The run's config.yaml as {"section.key": value}, refused when it has a key this script
    does not know or a setting it does not reproduce."""
    with open(os.path.join(run_dir, CONFIG_FILE), encoding="utf8") as f:
        doc = yaml.load(f, Loader=Yaml12Loader)
    cfg = {f"{section}.{key}": value for section, values in doc.items() for key, value in values.items()}
    unknown = sorted(set(cfg) - IMPLEMENTED_KEYS - MODEL_KEYS - IGNORED_KEYS)
    missing = sorted(IMPLEMENTED_KEYS - set(cfg))
    if unknown or missing:
        raise SystemExit(f"{run_dir}/{CONFIG_FILE}: keys this script does not know: {', '.join(unknown) or '-'}; "
                         f"keys it needs that are absent: {', '.join(missing) or '-'} (see IMPLEMENTED_KEYS)")
    check_supported(cfg, run_dir)
    return cfg


def check_supported(cfg, where):
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
    if cfg["loss.rbl_shares"] not in ("balance", "neutral"):
        problems.append(f"loss.rbl_shares {cfg['loss.rbl_shares']}")
    if cfg["train.best_metric"] not in ("accuracy", "mean_class_accuracy"):
        problems.append(f"train.best_metric {cfg['train.best_metric']}")
    if problems:
        raise SystemExit(f"{where}: not supported by this reference: " + "; ".join(problems))


def read_architecture(run_dir):
    """The model mek builds for the run (architecture.json), in swin_mek.build's keys."""
    path = os.path.join(run_dir, ARCHITECTURE_FILE)
    arch = read_json(path)
    if arch is None or set(arch) != set(ARCHITECTURE_FIELDS):
        raise SystemExit(f"{path}: missing, or not the fields {', '.join(ARCHITECTURE_FIELDS)} "
                         "(written by mek ablate --plan-only)")
    variant = {ARCHITECTURE_FIELDS[k]: v for k, v in arch.items()}
    variant["mlp_ratio"] = float(variant["mlp_ratio"])
    variant["drop_path_rate"] = float(variant["drop_path_rate"])
    return variant


def run_folders(paths):
    """Run folders in training order: an ablation folder gives its planned runs in plan.json's
    order (seed-major, as mek ablate trains them); a run folder is itself."""
    out = []
    for path in paths:
        plan = read_json(os.path.join(path, PLAN_FILE))
        if plan is not None:
            out += [os.path.join(path, f"{m}-s{s}") for s in plan["seeds"] for m in plan["methods"]]
        elif os.path.exists(os.path.join(path, ARCHITECTURE_FILE)):
            out.append(path)
        else:
            raise SystemExit(f"{path}: neither an ablation folder ({PLAN_FILE}) nor a planned run folder "
                             f"({ARCHITECTURE_FILE}); write them with mek ablate --plan-only")
    return list(dict.fromkeys(os.path.normpath(p) for p in out))


def completed(run_dir, steps):
    """As mek's completedSummary: summary.json says the run finished all its steps."""
    s = read_json(os.path.join(run_dir, SUMMARY_FILE))
    return s is not None and not s.get("interrupted") and s.get("step", 0) >= steps


def by_class(metrics, classes):
    """Metrics in mek's record: per-class recalls keyed by class name."""
    return dict(accuracy=metrics["accuracy"], mean_class_accuracy=metrics["mean_class_accuracy"],
                per_class=dict(zip(classes, metrics["per_class"])))


class MetricsLog:
    """metrics.jsonl, written as mek's run writes it: one event a line, appended as it happens.
    Runs here are not resumable, so a new attempt starts the file afresh."""

    def __init__(self, run_dir):
        self.path = os.path.join(run_dir, METRICS_FILE)
        open(self.path, "w", encoding="utf8").close()

    def __call__(self, event):
        with open(self.path, "a", encoding="utf8") as f:
            f.write(json.dumps(event) + "\n")


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


# The keys that decide what Dataset holds: runs that agree on them share one in memory.
DATA_KEYS = ("data.root", "data.label_file", "data.train_split", "data.test_split", "data.classes",
             "augment.interpolation", "data.eval_interpolation", "augment.mean", "augment.std")


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


def training_prior(counts, sampler):
    """The class distribution the model is trained on (src/data/prior.ts): the training split's
    class frequencies, or uniform when the balanced sampler draws classes uniformly. Float64."""
    n = torch.tensor(counts, dtype=torch.float64)
    return torch.full_like(n, 1 / len(counts)) if sampler == "balanced" else n / n.sum()


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

class RunSetup:
    """What stays fixed through a run: the model, its optimizer and schedule, the sampler and the
    loss's class weights, built in the order that fixes the random streams. The global generator
    draws the initial weights and, during training, the drop-path masks; a second generator
    draws the data order and the flips, so changing one does not move the other."""

    def __init__(self, cfg, variant, data, device):
        seed, steps, B = cfg["train.seed"], cfg["train.steps"], cfg["train.batch_size"]
        data.split(cfg["data.val_fraction"], seed)
        torch.manual_seed(seed)
        self.model = sm.build(variant)
        init_like_mek(self.model)
        self.model.to(device).train()
        self.data_gen = torch.Generator().manual_seed(seed)
        self.sampler = TrainSampler(data.train_labels, B, cfg["data.sampler"], cfg["data.repeat_to"],
                                    cfg["data.drop_last"], self.data_gen)
        w = balance_weights(data.train_counts, cfg["loss.balance_normaliser"], cfg["loss.balance_power"])
        prior = training_prior(data.train_counts, cfg["data.sampler"])
        self.log_prior = prior.log().to(torch.float32)
        shares = sm.rbl_share_weights(w.double(), prior, cfg["loss.logit_adjust"], cfg["loss.rbl_shares"])
        shares = shares.to(torch.float32)
        drw = sm.class_balanced_weights(data.train_counts, cfg["loss.drw_beta"]).to(torch.float32)
        rac_w = sm.rac_class_weights(w, cfg["loss.rac_weights"])
        self.w, self.rac_w, self.shares, self.log_prior_d, self.drw = (
            t.to(device) for t in (w, rac_w, shares, self.log_prior, drw))
        # Every parameter in one group, as the reference: weight decay on all of them. The unused
        # encoder.norm and encoder.feature get no gradient, and AdamW skips them (as mek's, which
        # does not hold them in its trainable list).
        self.params = list(self.model.parameters())
        self.opt = torch.optim.AdamW(self.params, lr=0.0, betas=tuple(cfg["optim.betas"]), eps=cfg["optim.eps"],
                                     weight_decay=cfg["optim.weight_decay"])
        scale = B / cfg["optim.lr_batch"] if cfg["optim.lr_batch"] > 0 else 1.0
        self.schedule = dict(base_lr=cfg["optim.lr"] * scale, warmup_lr_init=cfg["schedule.warmup_lr"] * scale,
                             lr_min=cfg["schedule.min_lr"] * scale, warmup_t=cfg["schedule.warmup_steps"],
                             t_initial=steps)


def train_step(cfg, setup, data, step, device):
    """One optimizer step (src/train/step.ts); returns (lr, batch size, total, cls, rac, grad norm)."""
    lr = sm.cosine_lr(step, **setup.schedule)
    for group in setup.opt.param_groups:
        group["lr"] = lr
    idx = setup.sampler.next()
    imgs, y = data.train_images[idx], data.train_labels[idx]
    if cfg["augment.hflip"] > 0:
        # RandomHorizontalFlip per sample (u < p), on the 8-bit image before normalising
        flip = torch.rand(len(idx), generator=setup.data_gen) < cfg["augment.hflip"]
        imgs = torch.where(flip.view(-1, 1, 1, 1), imgs.flip(2), imgs)
    x = data.normalise(imgs)
    y = y.to(device)
    b = x.shape[0]
    # A warm start: plain cross-entropy (no focal factor, no mirror, no adjustment, no
    # re-weighting) before warm_start_steps.
    method_now = step >= cfg["loss.warm_start_steps"]
    rbl_now, rac_now = cfg["loss.rbl"] and method_now, cfg["loss.rac"] and method_now
    drw_step = cfg["loss.drw_step"]
    drw_now = method_now and drw_step > 0 and step >= drw_step
    if rac_now:
        # The batch and its mirror as one batch of 2B; the mirror is of the augmented image, and
        # drop path draws its own masks for each half.
        logits, cams = setup.model(torch.cat([x, x.flip(-1)]))
        logits, cams, cams_of_flipped = logits[:b], cams[:b], cams[b:]
    else:
        logits, _ = setup.model(x)
    cls = sm.classification_loss(
        logits, y, setup.w, cfg["loss.eps"], rbl=rbl_now, gamma=cfg["loss.focal_gamma"] if method_now else 0.0,
        log_prior=setup.log_prior_d, tau=cfg["loss.logit_adjust"] if method_now else 0.0,
        sample_weights=setup.drw if drw_now else None, shares=setup.shares)
    rac = None
    if rac_now:
        mask = sm.true_pred_mask(logits, y) if cfg["loss.rac_classes"] == "true_pred" else None
        rac = sm.rac_variant_loss(cams, cams_of_flipped, setup.rac_w, cfg["loss.rac_normalize"], mask)
    lam = sm.lambda_at(step, cfg["loss.lambda"], cfg["loss.lambda_warmup_steps"], cfg["loss.warm_start_steps"])
    total = cls + lam * rac if rac_now else cls
    setup.opt.zero_grad(set_to_none=True)
    total.backward()
    live = [p for p in setup.params if p.grad is not None]
    if cfg["optim.clip_norm"] > 0:
        grad_norm = float(torch.nn.utils.clip_grad_norm_(live, cfg["optim.clip_norm"]))
    else:
        grad_norm = float(torch.norm(torch.stack([p.grad.norm() for p in live])))
    setup.opt.step()
    return lr, b, float(total), float(cls), float(rac) if rac is not None else None, grad_norm


def train_run(cfg, variant, data, log, record, device="cpu"):
    """One run: train.steps steps, evaluated every train.eval_every steps and at the last on the
    validation split (data.val_fraction > 0) or the test split, the events recorded as mek's
    metrics.jsonl holds them. With a validation split the best state by train.best_metric
    (picked on it) is evaluated once on the test split at the end, and the post-hoc tau is chosen
    on the validation split. Returns (summary.json's content, timings)."""
    classes, steps = cfg["data.classes"], cfg["train.steps"]
    K = len(classes)
    setup = RunSetup(cfg, variant, data, device)
    use_val = cfg["data.val_fraction"] > 0
    split = "val" if use_val else "test"
    eval_images, eval_labels = (data.val_images, data.val_labels) if use_val else (data.test_images, data.test_labels)
    best, best_state, last = None, None, None
    step_times, logged, samples, eval_seconds = [], 0, 0, 0.0
    start = time.perf_counter()
    for step in range(steps):
        t0 = time.perf_counter()
        lr, b, loss, cls, rac, grad_norm = train_step(cfg, setup, data, step, device)
        if not math.isfinite(loss):
            raise SystemExit(f"{cfg['train.name']}: loss is {loss} at step {step + 1} (lr {lr:.2e})")
        step_times.append(time.perf_counter() - t0)
        samples += b
        done = step + 1
        if done % cfg["train.log_every"] == 0 or done == steps:
            recent = step_times[logged:]
            record(dict(event="train", step=done, epoch=setup.sampler.epoch, loss=loss, loss_cls=cls, loss_rac=rac,
                        grad_norm=grad_norm, lr=lr, samples_per_s=samples / sum(recent)))
            logged, samples = done, 0
            log(f"step {done}/{steps}  loss {loss:.4f}  lr {lr:.2e}  {sum(recent) / len(recent):.3f} s/step")
        if (cfg["train.eval_every"] > 0 and done % cfg["train.eval_every"] == 0) or done == steps:
            t1 = time.perf_counter()
            ev = metrics_of(logits_of(setup.model, data, eval_images, cfg["eval.batch_size"]), eval_labels, K, done)
            eval_seconds += time.perf_counter() - t1
            record(dict(event="eval", step=done, split=split, **by_class(ev, classes)))
            last = ev
            if best is None or ev[cfg["train.best_metric"]] > best[cfg["train.best_metric"]]:
                best = ev
                if use_val:
                    best_state = {k: v.detach().clone() for k, v in setup.model.state_dict().items()}
            log(f"step {done}: {split} accuracy {100 * ev['accuracy']:.2f}%  mean-class "
                f"{100 * ev['mean_class_accuracy']:.2f}%  ({time.perf_counter() - t1:.1f} s)")
    test, posthoc = None, None
    if use_val:
        setup.model.load_state_dict(best_state)
        test, posthoc = test_with_best(cfg, setup, data, best["step"], log, record)
    summary = dict(step=steps, interrupted=False,
                   best=dict(step=best["step"], metrics=by_class(best, classes)),
                   last=dict(step=last["step"], metrics=by_class(last, classes)),
                   selection=split, test=test, posthoc=posthoc)
    timing = dict(wall_s=time.perf_counter() - start, eval_s=eval_seconds, step_times=step_times)
    return summary, timing


def test_with_best(cfg, setup, data, best_step, log, record):
    """The end of a run with a validation split (src/train/run.ts testWithBest): the best state
    once on the test split, the post-hoc tau from the validation split. Returns summary.json's
    `test` and `posthoc`."""
    classes, batch = cfg["data.classes"], cfg["eval.batch_size"]
    K = len(classes)
    test_logits = logits_of(setup.model, data, data.test_images, batch)
    final = metrics_of(test_logits, data.test_labels, K, best_step)
    val_logits = logits_of(setup.model, data, data.val_images, batch)
    sweep, chosen = sweep_adjust(val_logits, data.val_labels, K, best_step, setup.log_prior)
    adjusted = metrics_of(test_logits, data.test_labels, K, best_step, setup.log_prior, chosen)
    test = dict(step=best_step, **by_class(final, classes))
    at_chosen = next(m for m in sweep if m["tau"] == chosen)
    posthoc = dict(tau=chosen, val_mean_class_accuracy=at_chosen["mean_class_accuracy"],
                   val_mean_class_accuracy_raw=sweep[0]["mean_class_accuracy"],
                   test=dict(step=best_step, **by_class(adjusted, classes)))
    record(dict(event="test", **test, checkpoint="best", selection="val"))
    record(dict(event="posthoc", step=best_step, tau=chosen, test=posthoc["test"],
                val_sweep=[dict(tau=m["tau"], accuracy=m["accuracy"], mean_class_accuracy=m["mean_class_accuracy"])
                           for m in sweep]))
    log(f"test (best on val, step {best_step}): accuracy {100 * final['accuracy']:.2f}%  mean-class "
        f"{100 * final['mean_class_accuracy']:.2f}%; post-hoc tau {chosen}: accuracy "
        f"{100 * adjusted['accuracy']:.2f}%  mean-class {100 * adjusted['mean_class_accuracy']:.2f}%")
    return test, posthoc


# ---------------------------------------------------------------- the command

def train_folder(run_dir, datasets, device):
    """Trains one planned run folder and writes its metrics.jsonl, summary.json and wall.json;
    returns a line for the log, or None when the folder is not this script's to train."""
    cfg = read_run_config(run_dir)
    variant = read_architecture(run_dir)
    tag = os.path.basename(run_dir)
    if os.path.exists(os.path.join(run_dir, MEK_CHECKPOINT)):
        return f"{tag}: holds mek's {MEK_CHECKPOINT} (mek ablate is training it); left to mek"
    key = tuple(json.dumps(cfg[k]) for k in DATA_KEYS) + (variant["img_size"],)
    if key not in datasets:
        t = time.perf_counter()
        datasets[key] = Dataset(cfg, variant["img_size"]).to(device)
        print(f"{len(datasets[key].all_train[1])} train / {len(datasets[key].test_labels)} test images "
              f"loaded in {time.perf_counter() - t:.1f} s", flush=True)
    for stale in (SUMMARY_FILE, WALL_FILE):
        if os.path.exists(os.path.join(run_dir, stale)):
            os.remove(os.path.join(run_dir, stale))
    log = lambda text: print(f"[{tag}] {text}", flush=True)  # noqa: E731
    summary, timing = train_run(cfg, variant, datasets[key], log, MetricsLog(run_dir), device)
    times = timing.pop("step_times")
    # The first steps pay for allocation and thread start-up; the median is the steady rate.
    steady = sorted(times[min(2, len(times) - 1):])
    seed = cfg["train.seed"]
    wall = dict(method=tag[:-len(f"-s{seed}")] if tag.endswith(f"-s{seed}") else tag, seed=seed, **timing,
                s_per_step_mean=sum(times) / len(times), s_per_step_median=steady[len(steady) // 2],
                trained_by="scripts/reference/train_longtail.py", torch=torch.__version__,
                threads=torch.get_num_threads(), device=str(device))
    write_atomic(os.path.join(run_dir, WALL_FILE), json.dumps(wall, indent=2) + "\n")
    write_atomic(os.path.join(run_dir, SUMMARY_FILE), json.dumps(summary, indent=2) + "\n")
    final = summary["test"] or summary["last"]["metrics"]
    return (f"{tag}: accuracy {100 * final['accuracy']:.2f}%  mean-class {100 * final['mean_class_accuracy']:.2f}% "
            f"in {round(wall['wall_s'])} s ({wall['s_per_step_median']:.3f} s/step, {wall['threads']} thread"
            f"{'s' if wall['threads'] != 1 else ''})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="+", metavar="FOLDER",
                    help="an ablation folder of mek ablate --plan-only (all its runs) or one of its run folders")
    ap.add_argument("--device", default="cpu", help="torch device (cpu, cuda); the data and the model go there")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: two runs side by side)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    if args.device.startswith("cuda"):
        # float32 as on the CPU: no TensorFloat-32 in the patch embedding's convolution or the matmuls
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    runs = run_folders(args.folders)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.device}; {len(runs)} run folder(s)",
          flush=True)
    datasets = {}
    try:
        for i, run_dir in enumerate(runs):
            position = f"[{i + 1}/{len(runs)}]"
            if completed(run_dir, read_run_config(run_dir)["train.steps"]):
                print(f"{position} {os.path.basename(run_dir)}: already done, not re-run; {run_dir}", flush=True)
                continue
            print(f"{position} {train_folder(run_dir, datasets, args.device)}; {run_dir}", flush=True)
    except KeyboardInterrupt:
        # A run is minutes long: an interrupted one is trained again from the start next time.
        print("interrupted; finished runs are kept, the same command continues", flush=True)
        sys.exit(130)
    for folder in sorted({os.path.dirname(r) for r in runs}):
        print(f"the table: node bin/mek.js ablate --table {folder}", flush=True)


if __name__ == "__main__":
    main()
