"""Golden values for the long-tail keys of issue 12 from the PyTorch reference (swin_mek.py), in
float64: logit adjustment (loss.logit_adjust) on plain and RBL targets, RBL's shares
(loss.rbl_shares balance / neutral), deferred re-weighting (loss.drw_step with the
class-balanced weights of loss.drw_beta) and all of them with the focal factor; each case the
classification loss and its gradient with respect to the logits. Also the class-balanced
weights themselves for several beta.

Run with Debian's PyTorch:  /usr/bin/python3 scripts/reference/make_longtail_losses.py
Writes test/fixtures/longtail_losses.json (deterministic, seed 2048).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swin_mek as sm  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "longtail_losses.json")
# The ratio-50 Fashion-MNIST training counts less a 10% hold-out (configs/fmnist-lt.yaml)
COUNTS = [5400, 3496, 2264, 1465, 949, 614, 398, 257, 167, 108]
EPS = 0.3


def main():
    g = torch.Generator().manual_seed(2048)
    K = len(COUNTS)
    logits = (torch.randn(12, K, generator=g) * 2.0).float().double()
    labels = torch.tensor([0, 9, 8, 3, 5, 1, 7, 2, 4, 6, 9, 0])
    logits[0, 0] += 5.0  # confidently right
    logits[1, 0] += 5.0  # a rare sample confidently taken for the largest class
    n = torch.tensor(COUNTS, dtype=torch.float64)
    prior = n / n.sum()
    log_prior = prior.log()
    w = sm.balance_weights(COUNTS, 10.0)
    checks = []
    for beta in (0.0, 0.9, 0.999, 0.9999):
        cb = sm.class_balanced_weights(COUNTS, beta)
        assert abs(cb.sum().item() - K) < 1e-9, "class-balanced weights must sum to K"
        checks.append(dict(beta=beta, weights=cb.tolist()))
    assert max(abs(x - 1) for x in checks[0]["weights"]) < 1e-12, "beta 0 gives all ones"
    drw = sm.class_balanced_weights(COUNTS, 0.9999)

    # (name, rbl, shares, tau, gamma, drw)
    specs = [
        ("ce, tau 0", False, "balance", 0.0, 0.0, False),
        ("ce, tau 0.5", False, "balance", 0.5, 0.0, False),
        ("ce, tau 1", False, "balance", 1.0, 0.0, False),
        ("ce, tau 1.5", False, "balance", 1.5, 0.0, False),
        ("rbl balance, tau 1 (the naive composition)", True, "balance", 1.0, 0.0, False),
        ("rbl neutral, tau 1", True, "neutral", 1.0, 0.0, False),
        ("rbl neutral, tau 0.5", True, "neutral", 0.5, 0.0, False),
        ("rbl neutral, tau 0 (plain label smoothing)", True, "neutral", 0.0, 0.0, False),
        ("ce + drw", False, "balance", 0.0, 0.0, True),
        ("rbl + drw", True, "balance", 0.0, 0.0, True),
        ("ce, tau 1 + drw", False, "balance", 1.0, 0.0, True),
        ("rbl neutral, tau 1, focal 2, drw", True, "neutral", 1.0, 2.0, True),
    ]
    cases = []
    for name, rbl, shares_mode, tau, gamma, use_drw in specs:
        x = logits.clone().requires_grad_(True)
        shares = sm.rbl_share_weights(w, prior, tau, shares_mode)
        loss = sm.classification_loss(x, labels, w, EPS, rbl=rbl, gamma=gamma, log_prior=log_prior, tau=tau,
                                      sample_weights=drw if use_drw else None, shares=shares)
        loss.backward()
        if tau == 0 and gamma == 0 and not use_drw and shares_mode == "balance":
            plain = sm.rbl_loss(logits, labels, w, EPS) if rbl else sm.ce_loss(logits, labels)
            assert abs(plain.item() - loss.item()) < 1e-12, "all off must be the plain loss"
        cases.append(dict(name=name, rbl=rbl, rbl_shares=shares_mode, tau=tau, gamma=gamma, drw=use_drw,
                          loss=loss.item(), grad=x.grad.flatten().tolist()))
        print(f"{name:45} loss {loss.item():.8f}")
    fixture = dict(
        # the test's bounds: |a - b| on the class-balanced weights, the prior and each gradient
        # element; on the loss relative to max(1, |loss|)
        tolerance=dict(class_balanced=1e-12, prior=1e-15, loss=1e-5, grad=1e-5),
        note="scripts/reference/make_longtail_losses.py: swin_mek.classification_loss in float64",
        counts=COUNTS, eps=EPS, drw_beta=0.9999, labels=labels.tolist(), logits=logits.flatten().tolist(),
        shape=list(logits.shape), prior=prior.tolist(), class_balanced=checks, cases=cases)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
