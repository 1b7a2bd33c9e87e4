"""PyTorch side of `mek bench`: the same full MEK train step and inference for the same
models and batch sizes, on this machine's CPU (Debian's python3-torch).

    /usr/bin/python3 scripts/bench/torch_bench.py [--models demo,swin_t] [--threads 2] [--json]

The step is the one mek times (src/bench/step.ts): the batch and its horizontal mirror as one
batch of 2B, re-balanced smooth labels (eps 0.3) + 0.1 x attention consistency, backward,
clip_grad_norm_(5), AdamW; inference is eval mode under no_grad. Install OpenBLAS
(`apt-get install libopenblas0-pthread`) first: without it Debian's torch calls the reference
BLAS, an unfairly weak peer; the script prints a large matmul's GFLOP/s to show which it got.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
import swin_mek as sm  # noqa: E402

# The variants of src/model/variants.ts (snake_case keys of swin_mek.build).
VARIANTS = {
    "demo": dict(img_size=56, patch_size=4, in_chans=3, embed_dim=32, depths=[2, 2], num_heads=[2, 4],
                 window_size=7, mlp_ratio=4.0, qkv_bias=True, patch_norm=True, embedding_size=32,
                 drop_path_rate=0.05, num_classes=7),
    "swin_t": dict(img_size=112, patch_size=2, in_chans=3, embed_dim=96, depths=[2, 2, 6, 2],
                   num_heads=[3, 6, 12, 24], window_size=7, mlp_ratio=4.0, qkv_bias=True,
                   patch_norm=True, embedding_size=512, drop_path_rate=0.1, num_classes=7),
}
DEFAULT_BATCH = {"demo": 32, "swin_t": 8}
DEFAULT_INFER = {"demo": 64, "swin_t": 32}
RAFDB_COUNTS = [1290, 281, 717, 4772, 1982, 705, 2524]


def matmul_gflops(n=1024, repeats=3):
    a, b = torch.rand(n, n), torch.rand(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def bench_model(name, batch, infer_batch, steps, warmup):
    v = VARIANTS[name]
    torch.manual_seed(2048)
    model = sm.build(v).train()
    w = sm.balance_weights(RAFDB_COUNTS).float()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    x = torch.rand(batch, 3, v["img_size"], v["img_size"]) * 2 - 1
    labels = torch.arange(batch) % v["num_classes"]

    def step():
        t = time.perf_counter()
        logits, cams = model(torch.cat([x, x.flip(-1)]))
        rbl = sm.rbl_loss(logits[:batch], labels, w, 0.3)
        rac = sm.rac_loss(cams[:batch], cams[batch:], w)
        loss = rbl + 0.1 * rac
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        float(loss)
        return time.perf_counter() - t

    for _ in range(warmup):
        step()
    times = [step() for _ in range(steps)]
    model.eval()
    xi = torch.rand(infer_batch, 3, v["img_size"], v["img_size"]) * 2 - 1
    with torch.no_grad():
        model(xi[:2])
        t = time.perf_counter()
        model(xi)
        infer = time.perf_counter() - t
    mean = sum(times) / len(times)
    return {
        "name": name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "batch": batch,
        "inferBatch": infer_batch,
        "train": {"secondsPerStep": times, "samplesPerSecond": batch / mean},
        "inference": {"seconds": infer, "imagesPerSecond": infer_batch / infer},
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="demo,swin_t")
    p.add_argument("--batch", type=int, default=0, help="train batch (default: 32 demo, 8 swin_t)")
    p.add_argument("--infer-batch", type=int, default=0)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "matmulGflops": matmul_gflops(), "models": []}
    say = (lambda s: print(s, file=sys.stderr)) if a.json else print
    say(f"torch {out['torch']}, {out['threads']} threads; matmul 1024^3: {out['matmulGflops']:.1f} GFLOP/s")
    for name in a.models.split(","):
        r = bench_model(name, a.batch or DEFAULT_BATCH[name], a.infer_batch or DEFAULT_INFER[name], a.steps, a.warmup)
        out["models"].append(r)
        say(f"{name}: {r['parameters']:,} parameters; train batch {r['batch']}: {r['train']['samplesPerSecond']:.2f} samples/s "
            f"({', '.join(f'{s:.2f}' for s in r['train']['secondsPerStep'])} s); inference batch {r['inferBatch']}: "
            f"{r['inference']['imagesPerSecond']:.2f} images/s; peak RSS {r['peakRssMiB']:.0f} MiB")
    if a.json:
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
