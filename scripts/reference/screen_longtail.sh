#!/usr/bin/env bash
# The screen of long-tail recipes behind issue 12 ("rare classes actually recognised"): every
# candidate composition of MEK's terms with logit adjustment, DRW and post-hoc adjustment,
# trained by the PyTorch reference (train_longtail.py) on long-tailed Fashion-MNIST (3 seeds,
# data.val_fraction 0.1, best checkpoint by validation mean-class accuracy) and on the demo's
# synthetic faces (seeds 1, 2, 2048, each with its own data set, as `mek train` writes it).
# Runs are independent processes, JOBS at a time; each writes its own ablation folder under OUT.
#
#   bash scripts/reference/screen_longtail.sh OUT [DEVICE] [JOBS]
#
# Needs dataset/fmnist-lt-r50 (mek data longtail) and dataset/synth-demo-s{1,2,2048}
# (mek data synth --out dataset/synth-demo-sS --seed S --size 1400 --image-size 100 --difficulty 0.1).
# Measured on a GPU machine lent for one call (RESULTS.md, "Long-tail remedies"); on a CPU
# with DEVICE cpu it takes hours. ONLY=REGEX runs the matching entries; STEPS=N shortens every run
# (a smoke test of the plan); ROUND=1 or 2 runs one round of the plan.
set -uo pipefail
out=${1:?output folder}
device=${2:-cuda}
jobs=${3:-16}
py=${PYTHON:-python3}
here=$(dirname "$0")
mkdir -p "$out"

fm="--config configs/fmnist-lt.yaml --seeds 3 --set data.val_fraction=0.1 --set train.best_metric=mean_class_accuracy"
la="--set loss.logit_adjust=1"
plan1() {
  # Round 1. name | arguments of train_longtail.py (besides --out and --device)
  echo "fm-ce|$fm --methods ce"
  echo "fm-la|$fm --methods la"
  echo "fm-mek|$fm --methods mek"
  echo "fm-mekla|$fm --methods config $la --set loss.rbl_shares=adjusted"
  echo "fm-mekla-l01|$fm --methods config $la --set loss.lambda=0.01 --set loss.rbl_shares=adjusted"
  echo "fm-racla|$fm --methods config $la --set loss.rbl=false"
  echo "fm-rblla|$fm --methods config $la --set loss.rac=false --set loss.rbl_shares=adjusted"
  echo "fm-cedrw|$fm --methods config --set loss.rbl=false --set loss.rac=false --set loss.drw_step=640"
  echo "fm-mekla-naive|$fm --methods config $la --set loss.rbl_shares=balance"
  for s in 1 2 2048; do
    d="--config configs/demo.yaml --seeds 1 --set train.seed=$s --set data.root=dataset/synth-demo-s$s --set data.label_file=dataset/synth-demo-s$s/list_patition_label.txt"
    echo "demo-mek-s$s|$d --methods mek"
    echo "demo-la-s$s|$d --methods la"
    echo "demo-mekla-s$s|$d --methods config $la --set loss.rbl_shares=adjusted"
    echo "demo-mekla-l01-s$s|$d --methods config $la --set loss.lambda=0.01 --set loss.rbl_shares=adjusted"
    echo "demo-mek-val-s$s|$d --methods mek --set data.val_fraction=0.1 --set train.best_metric=mean_class_accuracy"
    echo "demo-mekla-val-s$s|$d --methods config $la --set data.val_fraction=0.1 --set train.best_metric=mean_class_accuracy --set loss.rbl_shares=adjusted"
    echo "demo-la-val-s$s|$d --methods la --set data.val_fraction=0.1 --set train.best_metric=mean_class_accuracy"
    echo "demo-ce-s$s|$d --methods ce"
    echo "demo-rblla-s$s|$d --methods config $la --set loss.rac=false --set loss.rbl_shares=adjusted"
    echo "demo-mekdrw-s$s|$d --methods config --set loss.drw_step=320"
    echo "demo-mekla-naive-s$s|$d --methods config $la --set loss.rbl_shares=balance"
    echo "demo-racla-s$s|$d --methods config $la --set loss.rbl=false"
  done
  echo "fm-rbl|$fm --methods rbl"
  echo "fm-rac|$fm --methods rac"
  echo "fm-racla-l01|$fm --methods config $la --set loss.rbl=false --set loss.lambda=0.01"
  echo "fm-mekdrw|$fm --methods config --set loss.drw_step=640"
  echo "fm-ladrw|$fm --methods config $la --set loss.rbl=false --set loss.rac=false --set loss.drw_step=640"
  echo "fm-cebal|$fm --methods config --set loss.rbl=false --set loss.rac=false --set data.sampler=balanced"
  echo "fm-mekla-p05|$fm --methods config $la --set loss.balance_power=0.5 --set loss.rbl_shares=adjusted"
  echo "fm-mekla-ws|$fm --methods config $la --set loss.warm_start_steps=400 --set loss.rbl_shares=adjusted"
  echo "fm-mekla-eps01|$fm --methods config $la --set loss.eps=0.1 --set loss.rbl_shares=adjusted"
  echo "fm-rblla-naive|$fm --methods config $la --set loss.rac=false --set loss.rbl_shares=balance"
  echo "fm-la-l15|$fm --methods config --set loss.rbl=false --set loss.rac=false --set loss.logit_adjust=1.5"
  echo "fm-mekla-l001|$fm --methods config $la --set loss.lambda=0.001 --set loss.rbl_shares=adjusted"
}

plan2() {
  # Round 2, after round 1 showed RBL's shares collapsing under logit adjustment ("adjusted" too)
  # and the balanced sampler ahead: RBL as neutral label smoothing under the adjustment, RAC
  # weights and lambda under it, and MEK's terms with the balanced sampler.
  local n="--set loss.rbl_shares=neutral" bal="--set data.sampler=balanced"
  echo "fm-lals|$fm --methods config $la $n --set loss.rac=false"
  echo "fm-lals-rac|$fm --methods config $la $n"
  echo "fm-lals-rac001|$fm --methods config $la $n --set loss.lambda=0.01"
  echo "fm-lals-rac003|$fm --methods config $la $n --set loss.lambda=0.03"
  echo "fm-racla-l003|$fm --methods config $la --set loss.rbl=false --set loss.lambda=0.03"
  echo "fm-racla-p0|$fm --methods config $la --set loss.rbl=false --set loss.balance_power=0"
  echo "fm-mekbal|$fm --methods config $bal"
  echo "fm-racbal|$fm --methods config $bal --set loss.rbl=false"
  echo "fm-rblbal|$fm --methods config $bal --set loss.rac=false"
  echo "fm-mekbal-neutral|$fm --methods config $bal $n"
  echo "fm-racbal-l001|$fm --methods config $bal --set loss.rbl=false --set loss.lambda=0.01"
  echo "fm-cebal2|$fm --methods config $bal --set loss.rbl=false --set loss.rac=false"
  for s in 1 2 2048; do
    d="--config configs/demo.yaml --seeds 1 --set train.seed=$s --set data.root=dataset/synth-demo-s$s --set data.label_file=dataset/synth-demo-s$s/list_patition_label.txt"
    echo "demo-lals-s$s|$d --methods config $la $n --set loss.rac=false"
    echo "demo-lals-rac-s$s|$d --methods config $la $n"
    echo "demo-lals-rac001-s$s|$d --methods config $la $n --set loss.lambda=0.01"
    echo "demo-cebal-s$s|$d --methods config $bal --set loss.rbl=false --set loss.rac=false"
    echo "demo-mekbal-s$s|$d --methods config $bal"
    echo "demo-racbal-s$s|$d --methods config $bal --set loss.rbl=false"
    echo "demo-racla-p0-s$s|$d --methods config $la --set loss.rbl=false --set loss.balance_power=0"
    echo "demo-racla-l001-s$s|$d --methods config $la --set loss.rbl=false --set loss.lambda=0.01"
  done
}

plan() {
  case "${ROUND:-all}" in
    1) plan1 ;;
    2) plan2 ;;
    *) plan1; plan2 ;;
  esac
}

run_one() {
  local name=${1%%|*} args=${1#*|}
  # shellcheck disable=SC2086
  $py "$here/train_longtail.py" $args ${STEPS:+--steps $STEPS} --device "$device" --out "$out/$name" >"$out/$name.log" 2>&1
  echo "$name rc $? $(tail -n 1 "$out/$name.log")"
}
export -f run_one
export out device py here STEPS
plan | grep -E -- "${ONLY:-.}" | tr '\n' '\0' | xargs -0 -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}
