#!/usr/bin/env bash
# End-to-end training throughput: `switchyard train` against the PyTorch eager peer
# (bench/peer/train_step.py), same config, threads, batch and step count, in one run.
#
#   bench/e2e/run_vs_pytorch.sh [--steps S] [--threads N] [--repeats R] [--config YAML]
#                               [--keep DIR] [--wait-quiet SECONDS]
#
# Defaults: configs/bench-small.yaml, S = 10 steps, N = OMP_NUM_THREADS or nproc, R = 1.
# Each repeat runs the C++ trainer, then the peer (both under GNU time -v for peak RSS). The first
# 2 steps of each are warm-up; tokens/s is the median of the per-step values of the other S - 2
# (the C++ values from metrics.jsonl, which time the step itself, not the start-up, the peak-FLOPS
# probe or the checkpoint written at the end). Prints one row per repeat and, with R > 1, the
# median over repeats. --keep DIR keeps the run directories (less the checkpoint), logs and JSON
# there. --wait-quiet T: before each run, wait (at most T seconds) until the CPUs are idle (< 10%
# busy over 3 s), for a machine shared with other jobs. Each row reports how much CPU other
# processes used during each run (% of all CPUs, from /proc/stat minus the run's own user+system
# time): near 0 = a clean run.
#
# Needs: build/release/switchyard (built here if missing), /usr/bin/python3 with python3-torch and
# numpy, GNU time (/usr/bin/time, Debian package `time`). Prepares data/fortunes-sp8192 if missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

STEPS=10
THREADS=${OMP_NUM_THREADS:-$(nproc)}
REPEATS=1
CONFIG=configs/bench-small.yaml
KEEP=""
WAIT_QUIET=0
WARMUP=2
BIN=${SY_BIN:-build/release/switchyard}
PY=${SY_PYTHON:-/usr/bin/python3}
GNU_TIME=/usr/bin/time

usage() { awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) STEPS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --repeats) REPEATS=$2; shift 2 ;;
    --config) CONFIG=$(realpath -e -- "$2"); shift 2 ;;
    --keep) KEEP=$(realpath -m -- "$2"); shift 2 ;;
    --wait-quiet) WAIT_QUIET=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "run_vs_pytorch: unknown argument '$1'" >&2; usage 2 >&2 ;;
  esac
done
cd "$ROOT"
if (( STEPS <= WARMUP )); then
  echo "run_vs_pytorch: --steps must be > $WARMUP (the first $WARMUP are warm-up)" >&2; exit 2
fi

[[ -x $GNU_TIME ]] || { echo "run_vs_pytorch: needs GNU time: apt-get install -y time" >&2; exit 2; }
"$PY" -c 'import torch, numpy' 2>/dev/null || {
  echo "run_vs_pytorch: $PY cannot import torch and numpy (apt-get install -y python3-torch)" >&2
  exit 2
}
if [[ ! -x $BIN ]]; then
  echo "== building $BIN" >&2
  cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)" --target switchyard
fi

# The training shard the config names; bench-small's is the SentencePiece-8192 fortune corpus.
DATA=$(awk '/^data:/{d=1; next} /^[^ ]/{d=0} d && $1=="train:"{print $2}' "$CONFIG")
if [[ ! -f $DATA ]]; then
  if [[ $DATA == data/fortunes-sp8192/train.bin ]]; then
    echo "== preparing data/fortunes-sp8192 (about half a minute)" >&2
    "$BIN" prep --fortunes --out data/fortunes-sp8192 --tokenizer sentencepiece --vocab-size 8192
  else
    echo "run_vs_pytorch: $CONFIG's data.train '$DATA' does not exist" >&2; exit 2
  fi
fi

WORK=${KEEP:-$(mktemp -d -t sy-e2e.XXXXXX)}
mkdir -p "$WORK"
[[ -n $KEEP ]] || trap 'rm -rf "$WORK"' EXIT

export OMP_NUM_THREADS=$THREADS

source "$(dirname "${BASH_SOURCE[0]}")/../lib/machine_load.sh"

max_rss_kib() { awk -F': ' '/Maximum resident set size/{print $2}' "$1"; }

# Samples the trainer's VmRSS every 0.2 s while it runs and prints the largest value seen before
# its first checkpoint directory appears (the training steps' peak, without the final save).
rss_before_checkpoint() {  # PID_OF_TIME RUN_DIR
  local parent=$1 run=$2 child="" best=0 kib
  while kill -0 "$parent" 2>/dev/null; do
    [[ -n $child ]] || child=$(pgrep -P "$parent" | head -1 || true)
    if [[ -n $child && ! -d $run/checkpoints ]]; then
      kib=$(awk '/^VmRSS:/{print $2}' "/proc/$child/status" 2>/dev/null || true)
      [[ -n $kib ]] && (( kib > best )) && best=$kib
    fi
    sleep 0.2
  done
  echo "$best"
}

median_tps() {  # metrics.jsonl -> "median min max" of tokens_per_s after the warm-up steps
  "$PY" - "$1" "$WARMUP" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
v = [r["tokens_per_s"] for r in rows[int(sys.argv[2]):]]
print(statistics.median(v), min(v), max(v))
EOF
}

echo "== $(date -u +%FT%TZ) | $CONFIG | steps $STEPS (first $WARMUP warm-up) | threads $THREADS" \
     "| $(env -u OMP_NUM_THREADS nproc) CPUs | OPENBLAS_CORETYPE ${OPENBLAS_CORETYPE:-unset (auto-detect)}" \
     "| load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
RESULTS=$WORK/results.tsv
: > "$RESULTS"
for ((r = 1; r <= REPEATS; ++r)); do
  run=$WORK/cpp-$r
  rm -rf "$run"
  echo "== [$r/$REPEATS] switchyard train" >&2
  wait_quiet "switchyard train"
  b0=$(busy_jiffies)
  "$GNU_TIME" -v -o "$WORK/cpp-$r.time" "$BIN" train "$CONFIG" run.dir="$run" \
      train.steps="$STEPS" checkpoint.every=0 checkpoint.resume=none log.every=1 \
      log.progress=off > "$WORK/cpp-$r.log" 2>&1 &
  timepid=$!
  train_rss=$(rss_before_checkpoint "$timepid" "$run")
  wait "$timepid" || { echo "switchyard train failed:" >&2; tail "$WORK/cpp-$r.log" >&2; exit 1; }
  cpp_others=$(others_pct "$b0" "$(busy_jiffies)" "$WORK/cpp-$r.time")
  read -r cpp_tps cpp_min cpp_max < <(median_tps "$run/metrics.jsonl")
  cpp_rss=$(max_rss_kib "$WORK/cpp-$r.time")
  rm -rf "$run/checkpoints"  # 0.7 GB per run for bench-small, not needed here

  echo "== [$r/$REPEATS] PyTorch eager peer" >&2
  wait_quiet "the peer"
  b0=$(busy_jiffies)
  "$GNU_TIME" -v -o "$WORK/peer-$r.time" "$PY" bench/peer/train_step.py "$CONFIG" \
      train.steps="$STEPS" --threads "$THREADS" --warmup "$WARMUP" \
      > "$WORK/peer-$r.json" 2> "$WORK/peer-$r.log" \
      || { echo "peer failed:" >&2; tail "$WORK/peer-$r.log" >&2; exit 1; }
  peer_others=$(others_pct "$b0" "$(busy_jiffies)" "$WORK/peer-$r.time")
  read -r peer_tps peer_min peer_max torch_version < <("$PY" -c '
import json, sys; j = json.load(open(sys.argv[1]))
print(j["tokens_per_s"], j["tokens_per_s_min"], j["tokens_per_s_max"], j["torch_version"])' \
      "$WORK/peer-$r.json")
  peer_rss=$(max_rss_kib "$WORK/peer-$r.time")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$cpp_tps" "$cpp_min" \
      "$cpp_max" "$peer_tps" "$peer_min" "$peer_max" "$cpp_rss" "$train_rss" "$peer_rss" \
      "$torch_version" "$cpp_others" "$peer_others" >> "$RESULTS"
done

"$PY" - "$RESULTS" "$THREADS" "$STEPS" "$WARMUP" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
threads, steps, warmup = sys.argv[2:5]
mib = lambda kib: f"{int(kib) / 1024:.0f} MiB"
print(f"\nthreads {threads} | {steps} steps per run, median tokens/s of steps {int(warmup) + 1}..{steps}"
      f" (min-max in brackets) | torch {rows[0][10]}\n")
head = ("run", "switchyard tok/s", "pytorch tok/s", "ratio", "sy peak RSS",
        "sy RSS before ckpt", "torch peak RSS", "other jobs' CPU % (sy, torch)")
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for r in rows:
    c, p = float(r[1]), float(r[4])
    print(f"| {r[0]} | {c:.0f} ({float(r[2]):.0f}-{float(r[3]):.0f}) | "
          f"{p:.0f} ({float(r[5]):.0f}-{float(r[6]):.0f}) | {c / p:.2f}x | {mib(r[7])} | "
          f"{mib(r[8])} | {mib(r[9])} | {r[11]}, {r[12]} |")
if len(rows) > 1:
    c = [float(r[1]) for r in rows]
    p = [float(r[4]) for r in rows]
    ratio = [a / b for a, b in zip(c, p)]
    print(f"| median of {len(rows)} | {statistics.median(c):.0f} ({min(c):.0f}-{max(c):.0f}) | "
          f"{statistics.median(p):.0f} ({min(p):.0f}-{max(p):.0f}) | "
          f"{statistics.median(ratio):.2f}x ({min(ratio):.2f}-{max(ratio):.2f}) | "
          f"{mib(statistics.median(int(r[7]) for r in rows))} | "
          f"{mib(statistics.median(int(r[8]) for r in rows))} | "
          f"{mib(statistics.median(int(r[9]) for r in rows))} | |")
EOF
echo "== done $(date -u +%FT%TZ) | load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
