#!/usr/bin/python3
"""The torchvision counterpart of scripts/bench/data.ts, on the same files.

Per image: PIL open + convert('RGB'), Resize((112, 112), bicubic), RandomHorizontalFlip(0.5),
RandAugment, ToTensor, Normalize(0.5, 0.5), RandomErasing(p=0.25, value='random'); batched
by DataLoader(batch_size=32, shuffle=True, drop_last=True), torch.set_num_threads(1) in the
workers.

RandAugment comes in two flavours (--ra):
  torchvision  transforms.RandAugment(num_ops=2, magnitude=9, bicubic, fill 128): the closest
               stock equivalent of timm's rand-m9-mstd0.5-inc1 (timm is not installable here).
               It differs in work done: every chosen op is always applied (timm: each with
               p=0.5, so ~1 op per image instead of 2), fixed magnitude, 14 ops + Identity.
  timmlike     a PIL re-implementation of timm's rand-m9-mstd0.5-inc1 (same op set, level
               functions, p=0.5 per op, magnitude N(9, 0.5) clipped to [0, 10], bicubic, fill
               128): the same amount of work as mek's RandAugment.

Run with Debian's python (torch 1.13 + torchvision 0.14 from apt), not the pyenv python3:
  /usr/bin/python3 scripts/bench/torch_data.py [--data DIR] [--batch 32] [--workers 0,1,2]
      [--images 1500] [--warmup 128] [--ra torchvision,timmlike] [--stages 300] [--json]
Each (workers, ra) setting runs in its own interpreter; peak RSS is sampled over the whole
process tree (main + DataLoader workers; shared pages are counted once per process).
"""
import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import threading
import time

import torch
import torchvision
from PIL import Image, ImageEnhance, ImageOps
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode

IMAGE_SIZE = 112
FILL = (128, 128, 128)  # timm: round(255 * mean) with mean 0.5
RA_NOTE = {
    'torchvision': "torchvision RandAugment(num_ops=2, magnitude=9, bicubic, fill 128): closest stock equivalent of timm rand-m9-mstd0.5-inc1 (timm not installable); applies both ops always",
    'timmlike': "PIL re-implementation of timm rand-m9-mstd0.5-inc1 (p=0.5 per op, mstd 0.5, increasing set, bicubic, fill 128)",
}


# ---- timm-like RandAugment (timm.data.auto_augment semantics, on PIL images) --------------

_LEVEL_DENOM = 10.0
_RESAMPLE = Image.BICUBIC


def _negate(v):
    return -v if random.random() > 0.5 else v


def _affine(img, m):
    return img.transform(img.size, Image.AFFINE, m, resample=_RESAMPLE, fillcolor=FILL)


def _solarize_add(img, add, thresh=128):
    lut = [min(255, i + add) if i < thresh else i for i in range(256)]
    return img.point(lut * 3)


def _posterize(img, bits):
    return img if bits >= 8 else ImageOps.posterize(img, bits)


# name -> (level function of magnitude m, op on (img, arg))
TIMM_INC_OPS = {
    'AutoContrast': (lambda m: None, lambda img, a: ImageOps.autocontrast(img)),
    'Equalize': (lambda m: None, lambda img, a: ImageOps.equalize(img)),
    'Invert': (lambda m: None, lambda img, a: ImageOps.invert(img)),
    'Rotate': (lambda m: _negate(m / _LEVEL_DENOM * 30.0), lambda img, a: img.rotate(a, resample=_RESAMPLE, fillcolor=FILL)),
    'PosterizeIncreasing': (lambda m: 4 - int(m / _LEVEL_DENOM * 4), _posterize),
    'SolarizeIncreasing': (lambda m: 256 - int(m / _LEVEL_DENOM * 256), lambda img, a: ImageOps.solarize(img, a)),
    'SolarizeAdd': (lambda m: int(m / _LEVEL_DENOM * 110), _solarize_add),
    'ColorIncreasing': (lambda m: max(0.1, 1.0 + _negate(m / _LEVEL_DENOM * 0.9)), lambda img, a: ImageEnhance.Color(img).enhance(a)),
    'ContrastIncreasing': (lambda m: max(0.1, 1.0 + _negate(m / _LEVEL_DENOM * 0.9)), lambda img, a: ImageEnhance.Contrast(img).enhance(a)),
    'BrightnessIncreasing': (lambda m: max(0.1, 1.0 + _negate(m / _LEVEL_DENOM * 0.9)), lambda img, a: ImageEnhance.Brightness(img).enhance(a)),
    'SharpnessIncreasing': (lambda m: max(0.1, 1.0 + _negate(m / _LEVEL_DENOM * 0.9)), lambda img, a: ImageEnhance.Sharpness(img).enhance(a)),
    'ShearX': (lambda m: _negate(m / _LEVEL_DENOM * 0.3), lambda img, a: _affine(img, (1, a, 0, 0, 1, 0))),
    'ShearY': (lambda m: _negate(m / _LEVEL_DENOM * 0.3), lambda img, a: _affine(img, (1, 0, 0, a, 1, 0))),
    'TranslateXRel': (lambda m: _negate(m / _LEVEL_DENOM * 0.45), lambda img, a: _affine(img, (1, 0, a * img.size[0], 0, 1, 0))),
    'TranslateYRel': (lambda m: _negate(m / _LEVEL_DENOM * 0.45), lambda img, a: _affine(img, (1, 0, 0, 0, 1, a * img.size[1]))),
}


def timm_op(name, img, magnitude=9.0, mstd=0.5):
    """AugmentOp.__call__ without the probability draw: noisy magnitude, level, op."""
    m = max(0.0, min(random.gauss(magnitude, mstd) if mstd > 0 else magnitude, _LEVEL_DENOM))
    level, fn = TIMM_INC_OPS[name]
    return fn(img, level(m))


class TimmLikeRandAugment:
    """rand-m9-mstd0.5-inc1: 2 ops drawn with replacement, each applied with p=0.5."""

    def __init__(self, num_ops=2, magnitude=9.0, mstd=0.5, prob=0.5):
        self.names = list(TIMM_INC_OPS)
        self.num_ops, self.magnitude, self.mstd, self.prob = num_ops, magnitude, mstd, prob

    def __call__(self, img):
        for name in [random.choice(self.names) for _ in range(self.num_ops)]:
            if self.prob < 1 and random.random() > self.prob:
                continue
            img = timm_op(name, img, self.magnitude, self.mstd)
        return img


def rand_augment(kind):
    if kind == 'torchvision':
        return T.RandAugment(num_ops=2, magnitude=9, interpolation=InterpolationMode.BICUBIC, fill=list(FILL))
    if kind == 'timmlike':
        return TimmLikeRandAugment()
    raise SystemExit(f'unknown --ra {kind}')


def train_transform(kind):
    return T.Compose([
        T.Resize((IMAGE_SIZE, IMAGE_SIZE), interpolation=InterpolationMode.BICUBIC),
        T.RandomHorizontalFlip(0.5),
        rand_augment(kind),
        T.ToTensor(),
        T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
        T.RandomErasing(p=0.25, value='random'),
    ])


# ---- dataset (the RAF-DB layout written by `mek data synth`) -------------------------------

def train_samples(root):
    out = []
    with open(os.path.join(root, 'list_patition_label.txt')) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 2 or not parts[0].startswith('train_'):
                continue
            stem = os.path.splitext(parts[0])[0]
            out.append((os.path.join(root, 'Image', 'aligned', f'{stem}_aligned.jpg'), int(parts[1]) - 1))
    if not out:
        raise SystemExit(f'no train images listed in {root}/list_patition_label.txt')
    return out


class FaceDataset(Dataset):
    """The train list repeated `repeat` times (as the reference repeats it), so one DataLoader
    iterator covers warm-up + timed images without restarting its workers."""

    def __init__(self, samples, transform, repeat):
        self.samples, self.transform, self.repeat = samples, transform, repeat

    def __len__(self):
        return len(self.samples) * self.repeat

    def __getitem__(self, i):
        path, label = self.samples[i % len(self.samples)]
        with open(path, 'rb') as f:
            img = Image.open(f).convert('RGB')
        return self.transform(img), label


def _worker_init(_):
    torch.set_num_threads(1)


# ---- peak RSS over the process tree --------------------------------------------------------

def _rss_kib(pid):
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid):
    out = []
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/children') as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


class RssSampler(threading.Thread):
    def __init__(self, interval=0.02):
        super().__init__(daemon=True)
        self.interval, self.peak, self.stop = interval, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            pids, todo = [], [os.getpid()]
            while todo:
                p = todo.pop()
                pids.append(p)
                todo += _children(p)
            self.peak = max(self.peak, sum(_rss_kib(p) for p in pids))
            self.stop.wait(self.interval)


# ---- one throughput run --------------------------------------------------------------------

def run_one(args, workers, ra):
    samples = train_samples(args.data)
    batches = math.ceil(args.images / args.batch)
    warm = math.ceil(args.warmup / args.batch)
    need = (batches + warm + 2) * args.batch
    ds = FaceDataset(samples, train_transform(ra), repeat=max(1, math.ceil(need / len(samples))))
    torch.manual_seed(2048)
    random.seed(2048)
    sampler = RssSampler()
    sampler.start()
    t0 = time.perf_counter()
    loader = DataLoader(ds, batch_size=args.batch, shuffle=True, drop_last=True, num_workers=workers,
                        worker_init_fn=_worker_init if workers > 0 else None)
    it = iter(loader)
    for _ in range(warm):
        next(it)
    start = time.perf_counter()
    cpu0 = _cpu_seconds()
    n = 0
    for _ in range(batches):
        x, y = next(it)
        assert x.shape == (args.batch, 3, IMAGE_SIZE, IMAGE_SIZE) and x.dtype == torch.float32
        n += x.shape[0]
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu0
    del it
    sampler.stop.set()
    sampler.join()
    return {
        'workers': workers,
        'ra': ra,
        'batch': args.batch,
        'images': n,
        'seconds': seconds,
        'imagesPerSec': n / seconds,
        'cpuMsPerImage': cpu * 1000 / n,
        'peakRssMiB': sampler.peak / 1024,
        'mainMaxRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'warmupSeconds': start - t0,
        'mainThreads': torch.get_num_threads(),
    }


def _cpu_seconds():
    """CPU time of this process and its live children (DataLoader workers), from /proc."""
    tick = os.sysconf('SC_CLK_TCK')
    total, todo = 0, [os.getpid()]
    while todo:
        p = todo.pop()
        try:
            with open(f'/proc/{p}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        except OSError:
            pass
        todo += _children(p)
    return total


# ---- per-stage timings ---------------------------------------------------------------------

def stage_timings(args):
    samples = train_samples(args.data)[: args.stages]
    paths = [p for p, _ in samples]
    rows = []

    def timed(key, name, fn, note=None):
        for i in range(min(20, len(paths))):
            fn(i)
        t = time.perf_counter()
        out = [fn(i) for i in range(len(paths))]
        rows.append({'key': key, 'stage': name, 'usPerImage': (time.perf_counter() - t) * 1e6 / len(paths), 'note': note})
        return out

    random.seed(1)
    torch.manual_seed(1)
    timed('read', 'read file (page cache)', lambda i: open(paths[i], 'rb').read())
    opened = timed('decode', 'PIL open + convert RGB (decode)', lambda i: Image.open(paths[i]).convert('RGB'))
    resize = T.Resize((IMAGE_SIZE, IMAGE_SIZE), interpolation=InterpolationMode.BICUBIC)
    resized = timed('resize', 'Resize 100->112 bicubic', lambda i: resize(opened[i]))
    flip = T.RandomHorizontalFlip(0.5)
    flipped = timed('hflip', 'RandomHorizontalFlip', lambda i: flip(resized[i]))
    tv_ra, tl_ra = rand_augment('torchvision'), rand_augment('timmlike')
    augmented = timed('ra_torchvision', 'RandAugment (torchvision, 2 ops always)', lambda i: tv_ra(flipped[i]))
    timed('ra_timmlike', 'RandAugment (timm-like, ~1 op per image)', lambda i: tl_ra(flipped[i]))
    to_tensor = T.ToTensor()
    tensors = timed('totensor', 'ToTensor', lambda i: to_tensor(augmented[i]))
    norm = T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    normed = timed('normalize', 'Normalize', lambda i: norm(tensors[i]))
    erase = T.RandomErasing(p=0.25, value='random')
    timed('erasing', 'RandomErasing p=0.25 random', lambda i: erase(normed[i]))
    b = args.batch

    def collate(i):
        if i % b == 0:
            torch.stack(normed[i: i + b] if i + b <= len(normed) else normed[:b])
    timed('collate', f'collate (torch.stack of {b}, per image)', collate)
    full = train_transform('timmlike')
    timed('transform_from_file', 'whole per-image transform from file (timm-like RA)', lambda i: full(Image.open(paths[i]).convert('RGB')))

    ops = []
    for name in TIMM_INC_OPS:
        for i in range(min(20, len(paths))):
            timm_op(name, resized[i])
        t = time.perf_counter()
        for i in range(len(paths)):
            timm_op(name, resized[i])
        ops.append({'key': name, 'stage': name, 'usPerImage': (time.perf_counter() - t) * 1e6 / len(paths)})
    return {'rows': rows, 'ops': ops}


# ---- driver --------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='')
    ap.add_argument('--size', type=int, default=2000, help='only names the default --data folder')
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--workers', default='0,1,2')
    ap.add_argument('--images', type=int, default=1500)
    ap.add_argument('--warmup', type=int, default=128)
    ap.add_argument('--ra', default='torchvision,timmlike')
    ap.add_argument('--stages', type=int, default=300)
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.data = args.data or f'/tmp/mek-bench-data-{args.size}'
    if not os.path.exists(os.path.join(args.data, 'list_patition_label.txt')):
        raise SystemExit(f'{args.data}: no dataset; run scripts/bench/data.ts first (it generates it)')

    if args.child:
        print(json.dumps(run_one(args, int(args.workers), args.ra)))
        return

    log = (lambda s: None) if args.json else print
    n_train = len(train_samples(args.data))
    log(f'dataset: {args.data} ({n_train} train images)')
    log(f'python {sys.version.split()[0]} ({sys.executable}), torch {torch.__version__}, torchvision {torchvision.__version__}, '
        f'PIL {Image.__version__}, {os.cpu_count()} cores, main-process torch threads {torch.get_num_threads()}, '
        f'load average {" ".join(f"{x:.2f}" for x in os.getloadavg())}')
    log(f'pipeline: PIL open+RGB, Resize((112,112), bicubic), RandomHorizontalFlip, RandAugment, ToTensor, Normalize(0.5,0.5), '
        f'RandomErasing(p=0.25, value=random); DataLoader(batch_size={args.batch}, shuffle=True), set_num_threads(1) in workers; '
        f'warm-up {args.warmup} images, timed {math.ceil(args.images / args.batch) * args.batch}')
    ras = [r.strip() for r in args.ra.split(',') if r.strip()]
    for ra in ras:
        log(f'RandAugment {ra}: {RA_NOTE[ra]}')
    results = []
    for ra in ras:
        for w in [int(x) for x in args.workers.split(',')]:
            cmd = [sys.executable, os.path.abspath(__file__), '--child', '--workers', str(w), '--ra', ra, '--data', args.data,
                   '--batch', str(args.batch), '--images', str(args.images), '--warmup', str(args.warmup)]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                raise SystemExit(f'child workers={w} ra={ra} failed:\n{p.stderr}')
            r = json.loads(p.stdout.strip().splitlines()[-1])
            results.append(r)
            log(f"{ra:>11} workers {w}: {r['imagesPerSec']:.1f} images/s ({r['images']} images in {r['seconds']:.2f} s; "
                f"{r['cpuMsPerImage']:.2f} CPU-ms/image; peak RSS {r['peakRssMiB']:.0f} MiB over the process tree; "
                f"warm-up {r['warmupSeconds']:.2f} s)")
    stages = None
    if args.stages > 0:
        stages = stage_timings(args)
        log(f'\nper-stage cost, one image at a time in one process ({args.stages} images, us/image):')
        for s in stages['rows']:
            log(f"  {s['stage']:<60} {s['usPerImage']:8.1f}")
        log(f'timm-like RandAugment ops on {IMAGE_SIZE} px (us per call):')
        for s in stages['ops']:
            log(f"  {s['stage']:<24} {s['usPerImage']:8.1f}")
    if args.json:
        print(json.dumps({'tool': 'torchvision', 'dataset': args.data, 'trainImages': n_train, 'cores': os.cpu_count(),
                          'torch': torch.__version__, 'torchvision': torchvision.__version__, 'pil': Image.__version__,
                          'raNotes': RA_NOTE, 'results': results, 'stages': stages}))


if __name__ == '__main__':
    main()
