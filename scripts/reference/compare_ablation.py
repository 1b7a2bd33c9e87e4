"""Sets two ablation tables side by side, per method and metric, with the difference of the means
and whether it lies within the combined seed spread. Both tables are mek's: `mek ablate` writes
one of runs it trained, `mek ablate --table` one of runs train_longtail.py trained in the folders
of `mek ablate --plan-only`.

    /usr/bin/python3 scripts/reference/compare_ablation.py \
        checkpoints/fmnist-lt-ablation checkpoints/fmnist-lt-torch [--per-class] [--markdown]

Each argument is an ablation folder or its ablation.json; the first is column A (mek), the
second column B (PyTorch). Their base configs (config.yaml beside each table) should be the
same recipe: every key that differs, other than where the runs go, is printed as a warning.
The test: |mean_A - mean_B| <= 2 * sqrt(sd_A^2/n_A + sd_B^2/n_B)
(two standard errors of the difference, sample standard deviations over seeds; post-hoc rows only
where both tables have a validation split). With a single
seed on either side there is no spread to compare against, and only the difference is printed.
It is a rough screen, not a test at a fixed error rate: with 3 seeds a side the standard
deviations are themselves uncertain, and 8 methods x 7 metrics give 56 comparisons, so a few
misses by chance are expected even when the implementations agree.
"""
import argparse
import json
import math
import os
import sys

import yaml

# Base-config keys that only name or place an ablation's runs.
PLACE_KEYS = {"train.name", "train.out_dir"}

# summary keys of ablation.json, in print order
METRICS = [
    ("accuracy", "accuracy"),
    ("mean_class_accuracy", "mean-class"),
    ("rarest_accuracy", "rarest-3"),
    ("posthoc_accuracy", "post-hoc acc."),
    ("posthoc_mean_class_accuracy", "post-hoc mean-class"),
    ("best_accuracy", "best acc."),
    ("best_mean_class_accuracy", "best mean-class"),
]


def load(path):
    file = os.path.join(path, "ablation.json") if os.path.isdir(path) else path
    try:
        with open(file, encoding="utf8") as f:
            return file, json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"{file}: cannot read ({e})")


def base_config(table_file):
    """The ablation's base config.yaml (beside its ablation.json) as {"section.key": value}."""
    try:
        with open(os.path.join(os.path.dirname(table_file), "config.yaml"), encoding="utf8") as f:
            doc = yaml.safe_load(f)
    except OSError:
        return None
    return {f"{section}.{key}": value for section, values in doc.items() for key, value in values.items()}


def trained_by(table):
    """Who trained the table's runs, from the first run's wall.json: train_longtail.py records
    itself and its torch version there, mek only the time."""
    runs = table.get("runs") or []
    try:
        with open(os.path.join(runs[0]["run_dir"], "wall.json"), encoding="utf8") as f:
            wall = json.load(f)
    except (IndexError, OSError, ValueError):
        return "trainer unknown"
    if "torch" in wall:
        return f"trained by {wall.get('trained_by')}, torch {wall['torch']}, {wall.get('device')}"
    return "trained by mek"


def stat(values):
    n = len(values)
    if n == 0:
        return None
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return dict(mean=mean, std=std, n=n)


def fmt(s):
    """"85.21 ± 0.43 (3)" in percent; the mean alone for one seed."""
    if not s:
        return "-"
    spread = "" if s["std"] is None else f" ± {100 * s['std']:.2f}"
    return f"{100 * s['mean']:.2f}{spread} ({s['n']})"


def compare(a, b):
    """(difference B - A, bound, verdict) of two stats; bound and verdict None without a spread."""
    if not a or not b:
        return None, None, "-"
    diff = b["mean"] - a["mean"]
    if a["std"] is None or b["std"] is None:
        return diff, None, "n/a (one seed)"
    bound = 2 * math.sqrt(a["std"] ** 2 / a["n"] + b["std"] ** 2 / b["n"])
    return diff, bound, "yes" if abs(diff) <= bound else "NO"


def context_warnings(fa, a, fb, b):
    """What makes the two tables not comparable at all (a different recipe or dataset)."""
    out = []
    ca, cb = base_config(fa), base_config(fb)
    if ca is not None and cb is not None:
        for key in sorted((set(ca) | set(cb)) - PLACE_KEYS):
            if ca.get(key) != cb.get(key):
                out.append(f"{key} differs: {ca.get(key)!r} vs {cb.get(key)!r}")
    else:
        out.append("no config.yaml beside one of the tables: only the tables' own fields compared")
        for key in ("steps", "classes", "best_metric", "selection", "val_fraction"):
            if a.get(key) != b.get(key):
                out.append(f"{key} differs: {a.get(key)!r} vs {b.get(key)!r}")
    ra = [(r["index"], r["train"]) for r in a.get("rarest_classes", [])]
    rb = [(r["index"], r["train"]) for r in b.get("rarest_classes", [])]
    if ra != rb:
        out.append(f"rarest classes differ (another training split?): {ra} vs {rb}")
    for name, f, d in (("A", fa, a), ("B", fb, b)):
        if not d.get("complete", False):
            out.append(f"{name} ({f}) is incomplete: not every method x seed has finished")
    return out


def per_class_rows(a, b, method):
    """Mean recall per class over seeds, A vs B, for one method (from the per-run records)."""
    classes = a.get("classes") or b.get("classes") or []
    rows = []
    for k, name in enumerate(classes):
        vals = lambda d: [r["final"]["per_class"][k] for r in d.get("runs", [])  # noqa: E731
                          if r["method"] == method and r["final"]["per_class"][k] is not None]
        sa, sb = stat(vals(a)), stat(vals(b))
        diff, bound, verdict = compare(sa, sb)
        rows.append([f"  {name}", fmt(sa), fmt(sb), pct(diff, sign=True), pct(bound), verdict])
    return rows


def pct(v, sign=False):
    if v is None:
        return "-"
    return f"{100 * v:+.2f}" if sign else f"{100 * v:.2f}"


def render(rows, headers, markdown):
    if markdown:
        line = lambda r: "| " + " | ".join(r) + " |"  # noqa: E731
        return "\n".join([line(headers), line(["---"] + ["---:"] * (len(headers) - 1))] + [line(r) for r in rows])
    widths = [max(len(r[c]) for r in [headers] + rows) for c in range(len(headers))]
    line = lambda r: "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])  # noqa: E731
                               for i, c in enumerate(r)).rstrip()
    return "\n".join([line(headers), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", help="ablation folder (or its ablation.json) of mek ablate: column A")
    ap.add_argument("b", help="ablation folder (or its ablation.json) of mek ablate --table on the runs "
                              "train_longtail.py trained: column B")
    ap.add_argument("--per-class", action="store_true", help="also compare each class's final recall")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables (for an issue)")
    args = ap.parse_args()
    fa, a = load(args.a)
    fb, b = load(args.b)

    print(f"A: {fa} ({a.get('name')}, {a.get('steps')} steps, seeds {a.get('seeds')}; {trained_by(a)})")
    print(f"B: {fb} ({b.get('name')}, {b.get('steps')} steps, seeds {b.get('seeds')}; {trained_by(b)})")
    for w in context_warnings(fa, a, fb, b):
        print(f"warning: {w}")
    print("Accuracies in %, mean ± sample std over seeds (n seeds); diff = B - A; "
          "within: |diff| <= 2 sqrt(sdA^2/nA + sdB^2/nB) (the bound column).")

    sa = {s["method"]: s for s in a.get("summary", [])}
    sb = {s["method"]: s for s in b.get("summary", [])}
    methods = [m for m in sa if m in sb] + [m for m in sb if m not in sa]
    missing = [m for m in sa if m not in sb]
    headers = ["method / metric", "A (mek)", "B (torch)", "diff", "bound", "within"]
    rows, outside, tested = [], 0, 0
    for method in methods:
        rows.append([method, "", "", "", "", ""])
        for key, label in METRICS:
            x, y = (sa.get(method) or {}).get(key), (sb.get(method) or {}).get(key)
            diff, bound, verdict = compare(x, y)
            if bound is not None:
                tested += 1
                outside += verdict == "NO"
            rows.append([f"  {label}", fmt(x), fmt(y), pct(diff, sign=True), pct(bound), verdict])
        if args.per_class:
            rows.append(["  final recall per class", "", "", "", "", ""])
            rows += per_class_rows(a, b, method)
    print()
    print(render(rows, headers, args.markdown))
    print()
    if missing:
        print(f"methods only in A: {', '.join(missing)}")
    if tested:
        print(f"{tested - outside} of {tested} comparisons within the combined seed spread"
              + (f"; {outside} outside (marked NO)" if outside else ""))
    else:
        print("no comparison has a seed spread on both sides (one seed each): differences only")


if __name__ == "__main__":
    sys.exit(main())
