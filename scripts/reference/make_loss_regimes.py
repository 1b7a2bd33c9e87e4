"""Golden values for the loss keys added for the long-tailed regimes from the PyTorch reference
(swin_mek.py, train_longtail.py), in float64: loss.focal_gamma (classification_loss and its
gradient with respect to the logits, RBL and plain targets, several gamma values) and
loss.balance_power (the balance weights of the long-tailed Fashion-MNIST counts and the RBL
loss with them).

Run with Debian's PyTorch:  /usr/bin/python3 scripts/reference/make_loss_regimes.py
Writes test/fixtures/loss_regimes.json (deterministic, seed 2048).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swin_mek as sm  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "loss_regimes.json")
RAFDB_COUNTS = [1290, 281, 717, 4772, 1982, 705, 2524]


def main():
    g = torch.Generator().manual_seed(2048)
    # float32-representable inputs, computed in float64; some samples confidently right, some
    # confidently wrong, so (1 - p_true)^gamma spans (0, 1)
    logits = (torch.randn(8, 7, generator=g) * 2.5).float().double()
    labels = torch.tensor([0, 1, 2, 3, 4, 5, 6, 3])
    logits[3, 3] += 6.0  # nearly certain and right
    logits[7, 0] += 6.0  # nearly certain and wrong
    n = sum(RAFDB_COUNTS)
    w = torch.tensor([n / (10 * c) for c in RAFDB_COUNTS], dtype=torch.float64)
    cases = []
    for rbl in (True, False):
        for gamma in (0.0, 0.5, 1.0, 2.0, 5.0):
            x = logits.clone().requires_grad_(True)
            loss = sm.classification_loss(x, labels, w, 0.3, rbl=rbl, gamma=gamma)
            loss.backward()
            if gamma == 0.0:
                plain = sm.rbl_loss(logits, labels, w, 0.3) if rbl else sm.ce_loss(logits, labels)
                assert abs(plain.item() - loss.item()) < 1e-12, "gamma 0 must be the plain loss"
            cases.append(dict(rbl=rbl, gamma=gamma, loss=loss.item(), grad=x.grad.flatten().tolist()))
            print(f"rbl {rbl!s:5} gamma {gamma}: loss {loss.item():.8f}")
    # loss.balance_power: w_c = (N / (10 n_c))^power on the ratio-50 Fashion-MNIST counts
    lt_counts = [6000, 3884, 2515, 1628, 1054, 682, 442, 286, 185, 120]  # dataset/fmnist-lt-r50
    lt_labels = torch.tensor([0, 9, 8, 3, 5, 1, 7, 2])
    lt_logits = (torch.randn(8, 10, generator=g) * 2.0).float().double()
    balance = []
    for power in (1.0, 0.5, 0.0):
        wp = sm.balance_weights(lt_counts, 10.0) ** power
        loss = sm.classification_loss(lt_logits, lt_labels, wp, 0.3, rbl=True)
        balance.append(dict(power=power, weights=wp.tolist(), rbl_loss=loss.item()))
        print(f"balance power {power}: weights {[round(x, 4) for x in wp.tolist()]}, RBL loss {loss.item():.8f}")
    fixture = dict(
        # the test's bounds: |a - b| on each gradient element and the RBL loss of each power, on
        # the loss relative to max(1, |loss|), on the balance weights relative to max(1, w)
        tolerance=dict(loss=1e-5, grad=1e-5, balance_weights=1e-12, rbl_loss=1e-5),
        note="scripts/reference/make_loss_regimes.py: swin_mek.classification_loss in float64",
        eps=0.3, class_weights=w.tolist(), labels=labels.tolist(), logits=logits.flatten().tolist(),
        shape=list(logits.shape), cases=cases,
        balance_counts=lt_counts, balance_labels=lt_labels.tolist(), balance_logits=lt_logits.flatten().tolist(),
        balance=balance)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
