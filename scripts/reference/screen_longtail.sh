#!/usr/bin/env bash
# The screen of long-tail recipes behind issue 12 ("rare classes actually recognised"): candidate
# compositions of MEK's terms with logit adjustment, DRW and post-hoc adjustment, trained by the
# PyTorch reference on long-tailed Fashion-MNIST (3 seeds, data.val_fraction 0.1, best
# checkpoint by validation mean-class accuracy) and on the demo's synthetic faces (seeds 1, 2,
# 2048, each with its own data set, as `mek train` writes it). Each entry is an ablation folder
# OUT/<entry> in three phases:
#   plan   mek ablate --plan-only (every run's resolved config; a recipe without a method name
#          is --as-given with --set)                                                 needs node
#   train  train_longtail.py on the folder, JOBS entries at a time                   needs torch
#   table  mek ablate --table: the entry's ablation.md / ablation.json               needs node
#
#   bash scripts/reference/screen_longtail.sh OUT [DEVICE] [JOBS]
#
# PHASE=plan|train|table runs one phase (plan here, carry OUT to a GPU machine, train there, the
# tables here); ONLY=REGEX runs the matching entries; ROUND=1 or 2 one round of the plan;
# STEPS=N shortens every run (a smoke test; entries with loss.drw_step beyond N are refused).
# Needs dataset/fmnist-lt-r50 (mek data longtail) and dataset/synth-demo-s{1,2,2048}
# (mek data synth --out dataset/synth-demo-sS --seed S --size 1400 --image-size 100 --difficulty 0.1).
# Measured on a GPU machine lent for one call (RESULTS.md, "Long-tail remedies"); on a CPU
# with DEVICE cpu it takes hours.
#
# Round 1 also screened RBL with "adjusted" shares (w * prior^tau; entries fm-mekla, -l01, -l001,
# -p05, -ws, -eps01, fm-rblla, demo-mekla, -l01, -val, demo-rblla): they collapsed, so mek never
# offered the setting, and as mek now resolves every recipe they are no longer in this plan.
# RESULTS.md keeps their numbers; the script that trained them is in this file's git history.
set -uo pipefail
out=${1:?output folder}
device=${2:-cuda}
jobs=${3:-16}
py=${PYTHON:-python3}
here=$(dirname "$0")
mek="node $here/../../bin/mek.js"
mkdir -p "$out"

fm="--config configs/fmnist-lt.yaml --seeds 3 --set data.val_fraction=0.1 --set train.best_metric=mean_class_accuracy"
la="--set loss.logit_adjust=1"
demo() {
  local s=$1
  echo "--config configs/demo.yaml --seeds 1 --set train.seed=$s --set data.root=dataset/synth-demo-s$s --set data.label_file=dataset/synth-demo-s$s/list_patition_label.txt"
}

plan1() {
  # Round 1. name | arguments of mek ablate (besides --plan-only, --name and the output folder)
  echo "fm-ce|$fm --methods ce"
  echo "fm-la|$fm --methods la"
  echo "fm-mek|$fm --methods mek"
  echo "fm-racla|$fm --as-given $la --set loss.rbl=false"
  echo "fm-cedrw|$fm --as-given --set loss.rbl=false --set loss.rac=false --set loss.drw_step=640"
  echo "fm-mekla-naive|$fm --as-given $la --set loss.rbl_shares=balance"
  for s in 1 2 2048; do
    d=$(demo $s)
    echo "demo-mek-s$s|$d --methods mek"
    echo "demo-la-s$s|$d --methods la"
    echo "demo-mek-val-s$s|$d --methods mek --set data.val_fraction=0.1 --set train.best_metric=mean_class_accuracy"
    echo "demo-la-val-s$s|$d --methods la --set data.val_fraction=0.1 --set train.best_metric=mean_class_accuracy"
    echo "demo-ce-s$s|$d --methods ce"
    echo "demo-mekdrw-s$s|$d --as-given --set loss.drw_step=320"
    echo "demo-mekla-naive-s$s|$d --as-given $la --set loss.rbl_shares=balance"
    echo "demo-racla-s$s|$d --as-given $la --set loss.rbl=false"
  done
  echo "fm-rbl|$fm --methods rbl"
  echo "fm-rac|$fm --methods rac"
  echo "fm-racla-l01|$fm --as-given $la --set loss.rbl=false --set loss.lambda=0.01"
  echo "fm-mekdrw|$fm --as-given --set loss.drw_step=640"
  echo "fm-ladrw|$fm --as-given $la --set loss.rbl=false --set loss.rac=false --set loss.drw_step=640"
  echo "fm-cebal|$fm --as-given --set loss.rbl=false --set loss.rac=false --set data.sampler=balanced"
  echo "fm-rblla-naive|$fm --as-given $la --set loss.rac=false --set loss.rbl_shares=balance"
  echo "fm-la-l15|$fm --as-given --set loss.rbl=false --set loss.rac=false --set loss.logit_adjust=1.5"
}

plan2() {
  # Round 2, after round 1 showed RBL's shares collapsing under logit adjustment and the
  # balanced sampler ahead: RBL as neutral label smoothing under the adjustment, RAC weights and
  # lambda under it, and MEK's terms with the balanced sampler.
  local n="--set loss.rbl_shares=neutral" bal="--set data.sampler=balanced"
  echo "fm-lals|$fm --as-given $la $n --set loss.rac=false"
  echo "fm-lals-rac|$fm --as-given $la $n"
  echo "fm-lals-rac001|$fm --as-given $la $n --set loss.lambda=0.01"
  echo "fm-lals-rac003|$fm --as-given $la $n --set loss.lambda=0.03"
  echo "fm-racla-l003|$fm --as-given $la --set loss.rbl=false --set loss.lambda=0.03"
  echo "fm-racla-p0|$fm --as-given $la --set loss.rbl=false --set loss.balance_power=0"
  echo "fm-mekbal|$fm --as-given $bal"
  echo "fm-racbal|$fm --as-given $bal --set loss.rbl=false"
  echo "fm-rblbal|$fm --as-given $bal --set loss.rac=false"
  echo "fm-mekbal-neutral|$fm --as-given $bal $n"
  echo "fm-racbal-l001|$fm --as-given $bal --set loss.rbl=false --set loss.lambda=0.01"
  # The recipe of round 1's fm-cebal, whose post-hoc tau was then chosen with the counts prior.
  echo "fm-cebal2|$fm --as-given $bal --set loss.rbl=false --set loss.rac=false"
  for s in 1 2 2048; do
    d=$(demo $s)
    echo "demo-lals-s$s|$d --as-given $la $n --set loss.rac=false"
    echo "demo-lals-rac-s$s|$d --as-given $la $n"
    echo "demo-lals-rac001-s$s|$d --as-given $la $n --set loss.lambda=0.01"
    echo "demo-cebal-s$s|$d --as-given $bal --set loss.rbl=false --set loss.rac=false"
    echo "demo-mekbal-s$s|$d --as-given $bal"
    echo "demo-racbal-s$s|$d --as-given $bal --set loss.rbl=false"
    echo "demo-racla-p0-s$s|$d --as-given $la --set loss.rbl=false --set loss.balance_power=0"
    echo "demo-racla-l001-s$s|$d --as-given $la --set loss.rbl=false --set loss.lambda=0.01"
  done
}

plan() {
  case "${ROUND:-all}" in
    1) plan1 ;;
    2) plan2 ;;
    *) plan1; plan2 ;;
  esac
}

# One entry through the phases asked for; its output goes to OUT/<entry>.log.
run_one() {
  local name=${1%%|*} args=${1#*|} phase=${PHASE:-all} rc=0
  {
    if [[ $phase == all || $phase == plan ]]; then
      # shellcheck disable=SC2086
      $mek ablate --plan-only --name "$name" $args --set "train.out_dir=$out" ${STEPS:+--set train.steps=$STEPS} || rc=$?
    fi
    if [[ $rc == 0 && ($phase == all || $phase == train) ]]; then
      $py "$here/train_longtail.py" "$out/$name" --device "$device" || rc=$?
    fi
    if [[ $rc == 0 && ($phase == all || $phase == table) ]]; then
      $mek ablate --table "$out/$name" || rc=$?
    fi
  } >>"$out/$name.log" 2>&1
  echo "$name rc $rc $(tail -n 1 "$out/$name.log")"
}
export -f run_one
export out device py here mek STEPS PHASE
plan | grep -E -- "${ONLY:-.}" | tr '\n' '\0' | xargs -0 -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}
