"""Golden values for the consistency variants of issue 18 from the PyTorch reference
(swin_mek.py), in float64: loss.rac_normalize (none / per_class), loss.rac_classes (all /
true_pred) and loss.rac_weights (balance / mean1 / bounded / uniform), every combination, with
RBL as the classification term; and loss.lambda_warmup_steps at several steps, with and without
a warm start. Each case: the total (cls + lambda_t * rac), both terms, and the gradient of the
total with respect to the clean logits and to the CAMs of both views (the inputs mekLoss takes).

Run with Debian's PyTorch:  /usr/bin/python3 scripts/reference/make_rac_variants.py
Writes test/fixtures/rac_variants.json (deterministic, seed 2048).
"""
import base64
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swin_mek as sm  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "rac_variants.json")
RAFDB_COUNTS = [1290, 281, 717, 4772, 1982, 705, 2524]
EPS, LAMBDA = 0.3, 0.1
B, G = 6, 4


def enc(t):
    """Tensor -> {"shape", "b64"} (little-endian float32, C order), as make_fixtures.py."""
    a = t.detach().cpu().to(torch.float64).numpy()
    return {"shape": list(a.shape), "b64": base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()}


def inputs(g):
    """float32-representable logits, labels and CAMs of both views. Each class's maps have their own
    offset and scale (0.05 to 5), so normalising over the wrong axis, or not at all, shows; the
    mirrored view is the flipped clean view plus noise, as in training, where the two are close."""
    K = len(RAFDB_COUNTS)
    logits = (torch.randn(B, K, generator=g) * 2.0).float().double()
    labels = torch.tensor([1, 3, 2, 6, 1, 5])
    logits[0, 1] += 6.0  # predicted = true
    logits[3, 6] += 6.0  # predicted = true
    logits[1, 1] += 6.0  # a Happiness face taken for Fear
    scale = torch.tensor([0.05, 0.3, 1.0, 5.0, 0.5, 2.0, 0.1], dtype=torch.float64).view(1, K, 1, 1)
    offset = torch.randn(1, K, 1, 1, generator=g, dtype=torch.float64) * 3
    cams = (offset + scale * torch.randn(B, K, G, G, generator=g, dtype=torch.float64)).float().double()
    noise = 0.5 * scale * torch.randn(B, K, G, G, generator=g, dtype=torch.float64)
    cams_f = (cams.flip(-1) + noise + 0.2 * offset).float().double()
    return logits, labels, cams, cams_f


def case(name, logits, labels, cams, cams_f, w, *, normalize="none", classes="all", weights="balance",
         warmup=0, warm_start=0, step=0):
    x, c, cf = (t.clone().requires_grad_(True) for t in (logits, cams, cams_f))
    method = step >= warm_start
    cls = sm.classification_loss(x, labels, w, EPS, rbl=method)
    mask = sm.true_pred_mask(x, labels) if classes == "true_pred" else None
    rac = sm.rac_variant_loss(c, cf, sm.rac_class_weights(w, weights), normalize, mask) if method else None
    lam = sm.lambda_at(step, LAMBDA, warmup, warm_start)
    total = cls + lam * rac if method else cls
    total.backward()
    if normalize == "none" and classes == "all" and weights == "balance" and method:
        paper = cls + lam * sm.rac_loss(cams, cams_f, w)
        assert abs(paper.item() - total.item()) < 1e-12, "the defaults must be the paper's RAC"
    zeros = torch.zeros_like(cams)
    print(f"{name:55} total {total.item():.8f}  rac {rac.item() if rac is not None else float('nan'):.8f}")
    return dict(name=name, rac_normalize=normalize, rac_classes=classes, rac_weights=weights,
                lambda_warmup_steps=warmup, warm_start_steps=warm_start, step=step, lambda_t=lam,
                loss=total.item(), cls=cls.item(), rac=rac.item() if rac is not None else None,
                grad_logits=x.grad.flatten().tolist(),
                grad_cams=enc(c.grad if c.grad is not None else zeros),
                grad_cams_flipped=enc(cf.grad if cf.grad is not None else zeros))


def main():
    g = torch.Generator().manual_seed(2048)
    logits, labels, cams, cams_f = inputs(g)
    w = sm.balance_weights(RAFDB_COUNTS, 10.0)
    data = (logits, labels, cams, cams_f, w)
    cases = []
    for normalize in ("none", "per_class"):
        for classes in ("all", "true_pred"):
            for weights in ("balance", "mean1", "bounded", "uniform"):
                cases.append(case(f"{normalize}, {classes}, {weights}", *data,
                                  normalize=normalize, classes=classes, weights=weights))
    for warm_start, step in ((0, 0), (0, 25), (0, 100), (0, 250), (10, 5), (10, 60), (10, 110)):
        cases.append(case(f"warm-up 100 after a warm start of {warm_start}, step {step}", *data,
                          warmup=100, warm_start=warm_start, step=step))
    cases.append(case("per_class, true_pred, mean1, warm-up 100, step 40", *data, normalize="per_class",
                      classes="true_pred", weights="mean1", warmup=100, step=40))
    pred = logits.argmax(-1).tolist()
    assert any(p == y for p, y in zip(pred, labels.tolist())) and any(p != y for p, y in zip(pred, labels.tolist()))
    fixture = dict(
        # the test's bounds: each total / term relative to max(1, |value|); each gradient element
        # |a - b| / max(1, |b|) (float32 against float64)
        tolerance=dict(loss=1e-5, grad=1e-5),
        note="scripts/reference/make_rac_variants.py: swin_mek.classification_loss + rac_variant_loss in float64",
        counts=RAFDB_COUNTS, eps=EPS, **{"lambda": LAMBDA}, map_eps=sm.MAP_STANDARDISE_EPS,
        labels=labels.tolist(), logits=enc(logits), cams=enc(cams), cams_flipped=enc(cams_f), cases=cases)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
