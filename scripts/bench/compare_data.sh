#!/usr/bin/env bash
# Runs the mek data-pipeline benchmark (scripts/bench/data.ts) and its torchvision counterpart
# (scripts/bench/torch_data.py) on the same synthetic dataset and prints them side by side,
# as Markdown tables, with the ratio mek / torchvision.
#
#   bash scripts/bench/compare_data.sh [--size 2000] [--images 1500] [--warmup 128]
#                                      [--workers 0,1,2] [--batch 32] [--stages 300] [--repeat 1]
#
# --repeat N runs the two benchmarks N times, alternating, and reports per setting the best
# images/s (and the median in brackets) and per stage the lowest time: on a shared machine the
# best run is the one least disturbed by other work.
# Environment: MAX_LOAD (default 1.5): waits (up to WAIT_TRIES x 30 s, default 10) for the
# 1-minute load average to fall below it before starting, and reports the load before and
# after; PYTHON (default /usr/bin/python3, Debian's, which has torch + torchvision).
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZE=2000 IMAGES=1500 WARMUP=128 WORKERS=0,1,2 BATCH=32 STAGES=300 REPEAT=1
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE=$2; shift 2 ;;
    --images) IMAGES=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --stages) STAGES=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
PYTHON=${PYTHON:-/usr/bin/python3}
MAX_LOAD=${MAX_LOAD:-1.5}
WAIT_TRIES=${WAIT_TRIES:-10}
DATA=/tmp/mek-bench-data-$SIZE
OUT=$(mktemp -d /tmp/mek-compare-data.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

load1() { cut -d' ' -f1 /proc/loadavg; }
for ((i = 0; i < WAIT_TRIES; i++)); do
  if awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN { exit !(l < m) }'; then break; fi
  echo "load average $(load1) >= $MAX_LOAD; waiting 30 s ($((i + 1))/$WAIT_TRIES)" >&2
  sleep 30
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')

LOADS=()
for ((r = 1; r <= REPEAT; r++)); do
  echo "round $r/$REPEAT: mek (node) ..." >&2
  node bin/run-ts.js scripts/bench/data.ts --json --size "$SIZE" --images "$IMAGES" --warmup "$WARMUP" \
    --workers "$WORKERS" --batch "$BATCH" --stages "$STAGES" --data "$DATA" >"$OUT/mek.$r.json"
  echo "round $r/$REPEAT: torchvision (python) ..." >&2
  "$PYTHON" scripts/bench/torch_data.py --json --data "$DATA" --images "$IMAGES" --warmup "$WARMUP" \
    --workers "$WORKERS" --batch "$BATCH" --stages "$STAGES" >"$OUT/torch.$r.json"
  LOADS+=("$(load1)")
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg); 1-min load after each round: ${LOADS[*]}"

CMD="bash scripts/bench/compare_data.sh --size $SIZE --images $IMAGES --warmup $WARMUP --workers $WORKERS --batch $BATCH --stages $STAGES --repeat $REPEAT"
"$PYTHON" - "$OUT" "$REPEAT" "$CMD" "$DATE" "$LOAD_BEFORE" "$LOAD_AFTER" "$STAGES" <<'PY'
import json, os, platform, statistics, sys
out, repeat = sys.argv[1], int(sys.argv[2])
cmd, date, load_before, load_after, stages = sys.argv[3:8]


def merge(runs, keyf):
    # best images/s per setting (median kept beside it), lowest time per stage
    first = runs[0]
    res = []
    for r in first['results']:
        same = [x for run in runs for x in run['results'] if keyf(x) == keyf(r)]
        best = dict(max(same, key=lambda x: x['imagesPerSec']))
        best['median'] = statistics.median(x['imagesPerSec'] for x in same)
        best['peakRssMiB'] = max(x['peakRssMiB'] for x in same)
        res.append(best)
    merged = dict(first, results=res)
    if first.get('stages'):
        st = {}
        for part in first['stages']:
            rows = []
            for row in first['stages'][part]:
                same = [x for run in runs for x in run['stages'][part] if x.get('key') == row.get('key')]
                rows.append(min(same, key=lambda x: x['usPerImage'] if x['usPerImage'] == x['usPerImage'] else float('inf')))
            st[part] = rows
        merged['stages'] = st
    return merged


mek = merge([json.load(open(f'{out}/mek.{i}.json')) for i in range(1, repeat + 1)], lambda x: x['workers'])
tv = merge([json.load(open(f'{out}/torch.{i}.json')) for i in range(1, repeat + 1)], lambda x: (x['ra'], x['workers']))
cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
mem = int(next(l.split()[1] for l in open('/proc/meminfo') if l.startswith('MemTotal'))) / 2**20
print(f'Command: `{cmd}`  ')
print(f'Date: {date}; machine: {os.cpu_count()} cores ({cpu}), {mem:.1f} GiB, no GPU; '
      f'load average (1/5/15 min) before {load_before}, after {load_after}  ')
print(f"Data: {mek['dataset']} ({mek['trainImages']} train images, 100x100 JPEG, `mek data synth`); "
      f"node {mek['node']}, sharp; python {platform.python_version()}, torch {tv['torch']}, torchvision {tv['torchvision']}, PIL {tv['pil']}  ")
r0 = mek['results'][0]
print(f"Timed {r0['images']} images after a warm-up, batch {r0['batch']}, {mek['imageSize']} px, mek prefetch {r0['prefetch']}; "
      'each setting in a fresh process.' + (f' Best of {repeat} alternating rounds (median in brackets); ratios of the best.' if repeat > 1 else '') + '\n')
tvr = {(r['ra'], r['workers']): r for r in tv['results']}
print('| workers | mek img/s | torchvision img/s (stock RandAugment) | mek / tv | tv + timm-like RandAugment img/s | mek / tv timm-like | '
      'CPU-ms/img mek / tv / tv timm-like | peak RSS MiB mek / tv / tv timm-like |')
print('|---|---|---|---|---|---|---|---|')
for r in mek['results']:
    w = r['workers']
    a, b = tvr.get(('torchvision', w)), tvr.get(('timmlike', w))
    f = lambda x, k, d=0: f"{x[k]:.{d}f}" if x else 'n/a'
    ips = lambda x: (f"{x['imagesPerSec']:.0f}" + (f" ({x['median']:.0f})" if repeat > 1 else '')) if x else 'n/a'
    ratio = lambda x: f"{r['imagesPerSec'] / x['imagesPerSec']:.2f}" if x else 'n/a'
    print(f"| {w} | {ips(r)} | {ips(a)} | {ratio(a)} | {ips(b)} | {ratio(b)} | "
          f"{r['cpuMsPerImage']:.2f} / {f(a, 'cpuMsPerImage', 2)} / {f(b, 'cpuMsPerImage', 2)} | "
          f"{r['peakRssMiB']:.0f} / {f(a, 'peakRssMiB')} / {f(b, 'peakRssMiB')} |")
print('\nworkers: mek PreparePool threads (0: in-process) / DataLoader num_workers. tv = torchvision. '
      'Stock RandAugment: ' + tv['raNotes']['torchvision'] + '. timm-like: ' + tv['raNotes']['timmlike'] + '. '
      'Peak RSS: mek, the one process (worker threads included); tv, summed over the main process and its workers.')

if mek.get('stages') and tv.get('stages'):
    m = {s['key']: s['usPerImage'] for s in mek['stages']['rows']}
    t = {s['key']: s['usPerImage'] for s in tv['stages']['rows']}
    par = next((s for s in mek['stages']['rows'] if s['key'] == 'sharp_parallel'), {})
    mek_cpu_note = f"{par.get('cpuUsPerImage', float('nan')):.0f} CPU-µs/image over all threads"
    rows = [
        ('read the file (page cache)', m.get('read'), t.get('read')),
        ('decode + bicubic resize 100->112 (incl. read)', m.get('decode_resize'), t.get('decode', 0) + t.get('resize', 0)),
        ('  decode + resize from bytes in memory (mek: one sharp pipeline)', m.get('sharp_bytes'), t.get('decode', 0) + t.get('resize', 0) - t.get('read', 0)),
        ('  decode only (mek: sharp to raw / tv: PIL open + convert, incl. read)', m.get('sharp_decode_only'), t.get('decode')),
        ('  resize only (mek: the difference of the two rows above / tv: PIL)', m['sharp_bytes'] - m['sharp_decode_only'] if 'sharp_bytes' in m and 'sharp_decode_only' in m else None, t.get('resize')),
        (f"  mek: sharp decode + resize, 32 in flight (wall; {mek_cpu_note})", m.get('sharp_parallel'), None),
        ('horizontal flip p=0.5', m.get('hflip'), t.get('hflip')),
        ('RandAugment, timm semantics (mek / tv timm-like)', m.get('randaugment'), t.get('ra_timmlike')),
        ('  tv stock RandAugment (2 ops always)', None, t.get('ra_torchvision')),
        ('normalise (mek) / ToTensor + Normalize (tv)', m.get('normalize'), t.get('totensor', 0) + t.get('normalize', 0)),
        ('random erasing p=0.25 per-pixel noise', m.get('erasing'), t.get('erasing')),
        ('batching (copy into the batch / torch.stack)', m.get('batch'), t.get('collate')),
        ('flip + RandAugment + normalise + erasing, no decode (mek trainTransform / tv sum, timm-like RA)', m.get('transform'),
         sum(t.get(k, 0) for k in ('hflip', 'ra_timmlike', 'totensor', 'normalize', 'erasing'))),
        ('whole sample from the file (mek prepareSample / tv, timm-like RA)', m.get('prepare'), t.get('transform_from_file')),
    ]
    print(f'\nPer stage, one image at a time on one thread (the first {stages} train images; mek: µs of the main thread, '
          f'sharp work awaited), µs per image:\n')
    print('| stage | mek | torchvision | mek / tv |')
    print('|---|---|---|---|')
    for name, a, b in rows:
        fa = f'{a:.0f}' if a is not None else ''
        fb = f'{b:.0f}' if b is not None else ''
        ratio = f'{a / b:.2f}' if a is not None and b else ''
        print(f'| {name} | {fa} | {fb} | {ratio} |')
    mo = {s['key']: s['usPerImage'] for s in mek['stages']['ops']}
    to = {s['key']: s['usPerImage'] for s in tv['stages']['ops']}
    print('\nRandAugment ops at m ~ N(9, 0.5) on 112 px, µs per call (mek vs the PIL ops timm calls):\n')
    print('| op | mek | PIL | mek / PIL |')
    print('|---|---|---|---|')
    for k in mo:
        b = to.get(k)
        print(f"| {k} | {mo[k]:.0f} | {b:.0f} | {mo[k] / b:.2f} |" if b else f'| {k} | {mo[k]:.0f} | | |')
    print('\nTensor creation per batch (what loader.next() adds to nextHost()):\n')
    for s in mek['stages']['tensors']:
        print(f"* {s['stage']}: {s['usPerImage']:.2f} µs/image ({s.get('note', '')})")
PY
