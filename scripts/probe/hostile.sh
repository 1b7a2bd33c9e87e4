#!/usr/bin/env bash
# The hostile-input probe of issue 13, run as a new user would run mek: each case a command that
# once crashed, hung, lost work or ran away with memory. Prints, per case, the exit code (and the
# one wanted), the seconds, the peak RSS and mek's first line on stderr. A case passes when the
# exit code is the wanted one within 120 s; the peak RSS is for the reader to judge.
#
#   bash scripts/probe/hostile.sh [WORK_DIR]     (needs Debian's python3-torch for the .pt inputs)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=${1:-$(mktemp -d /tmp/mek-probe-XXXXXX)}
mkdir -p "$work"
/usr/bin/python3 scripts/probe/make_hostile.py "$work/pt" > /dev/null || exit 1

# A small demo set and a checkpoint to point things at.
node bin/mek.js data synth --out "$work/faces" --seed 3 --size 140 --difficulty 0.1 > /dev/null
demo=(--config "$root/configs/demo.yaml" --set "data.root=$work/faces" --set "data.label_file=$work/faces/list_patition_label.txt"
  --set data.synth_size=0 --set "train.out_dir=$work/runs" --set train.steps=8 --set train.eval_every=4 --set train.log_every=2)
node bin/mek.js train "${demo[@]}" --name base > /dev/null 2>&1
ckpt="$work/runs/base/best.json"
img="$work/faces/Image/aligned/test_0001_aligned.jpg"

# Inputs made from the demo's.
ln -sf /dev/zero "$work/zero.jpg"
mkfifo "$work/fifo.pt" 2>/dev/null
cp -r "$work/runs/base" "$work/zero-weights"
w=$(ls "$work/zero-weights"/best.*.weights.bin); rm "$w"; ln -s /dev/zero "$w"
cp -r "$work/faces" "$work/bad-test"; echo "not a jpeg" > "$work/bad-test/Image/aligned/test_0002_aligned.jpg"
mkdir -p "$work/huge"
node -e "require('sharp')({create:{width:16000,height:16000,channels:3,background:'#808080'}}).png({compressionLevel:9}).toFile('$work/huge/one.png')"
for i in 1 2 3 4 5 6 7 8; do cp "$work/huge/one.png" "$work/huge/$i.png"; echo "$i.png 1" >> "$work/huge/list.txt"; done
printf 'optim:\n  lr: &lr 5.0e-4\nschedule:\n  min_lr: *lr\n' > "$work/alias.yaml"
cp "$img" "$work/-h.jpg"

printf '%-44s %6s %6s %9s  %s\n' case exit/want s "RSS MB" "first line"
probe() {
  local name=$1 want=$2; shift 2
  local out="$work/out.$RANDOM"
  ( cd "$work" && /usr/bin/time -f '%e %M' -o "$out.time" timeout 120 node "$root/bin/mek.js" "$@" > "$out.stdout" 2> "$out.stderr" )
  local code=$?
  read -r secs kb < <(tail -n 1 "$out.time")
  local line; line=$(grep -m1 '^mek:' "$out.stderr" || head -n 1 "$out.stdout")
  local mark=ok; [ "$code" = "$want" ] || mark=FAIL
  printf '%-44s %3s/%-3s %6s %9s  %s %s\n' "$name" "$code" "$want" "$secs" "$((kb / 1024))" "$mark" "${line:0:110}"
}
# defects 1-9
probe "NaN loss, data.workers 1" 1 train "${demo[@]}" --set optim.lr=1e9 --name nan
probe "corrupt test image (last.json kept)" 2 train "${demo[@]}" --set "data.root=$work/bad-test" --set "data.label_file=$work/bad-test/list_patition_label.txt" --name badtest
probe "every training image unreadable, skip" 2 train "${demo[@]}" --set "data.root=$work/nowhere" --set data.on_bad_image=skip --name unreadable
probe "eval, every image unreadable, skip" 2 eval --ckpt "$ckpt" --set "data.root=$work/nowhere" --set data.on_bad_image=skip
probe "--set augment.randaugment=hello" 2 train "${demo[@]}" --set augment.randaugment=hello --name ra
probe ".pt [2^31, 2^31] stride 0" 2 predict --ckpt "$work/pt/expand_2e31x2e31.pt" "$img"
probe ".pt [2^28] stride 0" 2 predict --ckpt "$work/pt/expand_2e28.pt" "$img"
probe ".pt nested list as dict key" 2 predict --ckpt "$work/pt/nested_key.pt" "$img"
probe ".pt deflated 1 GiB record" 2 predict --ckpt "$work/pt/deflate_bomb.pt" "$img"
probe ".pt billion laughs" 2 predict --ckpt "$work/pt/laughs.pt" "$img"
probe "weights file -> /dev/zero" 2 predict --ckpt "$work/zero-weights/best.json" "$img"
probe "checkpoint is a FIFO" 2 predict --ckpt "$work/fifo.pt" "$img"
probe "image -> /dev/zero" 2 predict --ckpt "$ckpt" "$work/zero.jpg"
probe "eval, eight 16000x16000 PNGs" 2 eval --ckpt "$ckpt" --set data.format=list --set "data.root=$work/huge" --set "data.train_list=$work/huge/list.txt" --set "data.test_list=$work/huge/list.txt"
# rough edges
probe "config with a YAML alias" 0 config show --config "$work/alias.yaml"
probe "--set model.depths=[2,2" 2 config show --set 'model.depths=[2,2'
probe "predict -- -h.jpg" 0 predict --ckpt "$ckpt" -- -h.jpg
probe "wasm: a model past the 4 GiB heap" 2 train "${demo[@]}" --set model.embed_dim=2048 --set model.num_heads=[32,64] --name big
probe "mek data check (decodes every image)" 2 data check --config "$root/configs/demo.yaml" --set "data.root=$work/bad-test" --set "data.label_file=$work/bad-test/list_patition_label.txt"
# two runs of one name started together
node bin/mek.js train "${demo[@]}" --name twin > /dev/null 2>&1 & node bin/mek.js train "${demo[@]}" --name twin > /dev/null 2>&1; wait
printf '%-44s %s\n' "two 'train --name twin' at once" "$(ls -d "$work"/runs/twin* | xargs -n1 basename | tr '\n' ' ')"
printf '%-44s %s\n' "NaN run: summary.json" "$(grep -o '"stopped": "[^"]\{0,60\}' "$work"/runs/nan/summary.json 2>/dev/null)"
printf '%-44s %s\n' "corrupt test image: last.json step" "$(grep -o '"step": [0-9]*' "$work"/runs/badtest/last.json 2>/dev/null | head -1)"
printf '%-44s %s\n' "randaugment=hello: run folder made?" "$(ls -d "$work"/runs/ra* 2>/dev/null || echo none)"
