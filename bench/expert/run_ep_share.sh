#!/usr/bin/env bash
# Expert parallelism: the all-to-all share of the training step, next to the raw MPI_Alltoallv
# bandwidth of the same ranks, in one invocation.
#
#   bench/expert/run_ep_share.sh [--steps S] [--repeats R] [--config YAML] [--micro-batch M]
#                                [--set KEY=VALUE]... [--keep DIR] [--wait-quiet SECONDS]
#
# Defaults: configs/bench-small.yaml, S = 8 steps, R = 1, M = train.global_batch_size / 2 (one
# micro-batch per rank and step, like bench-small's one micro-batch on one rank). Each repeat runs,
# under `mpirun -np 2` with OMP_NUM_THREADS=1 per rank (2 ranks on 2 cores):
#   1. alltoallv_bandwidth --json: raw Communicator::all_to_all_v (MPI_Alltoallv) bandwidth,
#      1 KiB to 16 MiB per peer (bench/expert/alltoallv_bandwidth.cpp);
#   2. switchyard train at parallel.dp=2 parallel.ep=2: each rank holds half the experts and the
#      TokenDispatcher exchanges the routed tokens (metrics.jsonl: all_to_all_bytes, all_to_all_ms,
#      the dp group's busiest rank, forward + backward);
#   3. the same at parallel.dp=2 parallel.ep=1 (every rank holds every expert; no exchange).
# The first 2 steps of each run are warm-up; the others give the medians. It prints two tables,
# one row per repeat and, with R > 1, the median and range over repeats:
#   Time   the ep=2 step, the time in the exchanges (all_to_all_ms: the busiest rank's, including
#          the wait for its peers) and its share of the step (median of the per-step ratios), the
#          load imbalance between the ep ranks (the busiest rank's expert rows / the mean, from
#          tokens_per_expert summed over layers), the ep=1 step and how much CPU other processes
#          used during the two training runs (% of all CPUs; near 0 = a clean run);
#   Bytes  the bytes sent per step, the mean message per peer (bytes / the exchanges per step /
#          (ep - 1); 4 exchanges per MoE layer and micro-batch: dispatch and combine, forward and
#          backward), the effective bandwidth (bytes / all_to_all_ms), the raw bandwidth at that
#          message size (linear in log2 of the size between the two nearest measured sizes), the
#          fraction of it the exchanges reach and how long the bytes take at the raw bandwidth;
# then the raw bandwidth table (per size, the median over repeats).
#
# --set KEY=VALUE (repeatable) adds a config override to both training runs (e.g.
# moe.capacity_factor=1.0). --keep DIR keeps the run directories (less the checkpoints), logs and
# JSON there. --wait-quiet T: before each run, wait (at most T seconds) until the CPUs are idle
# (< 10% busy over 3 s), for a machine shared with other jobs.
#
# Needs: build/release/switchyard and build/release/bench/alltoallv_bandwidth (built here if
# missing; SY_BIN and SY_A2A_BIN override them), Open MPI's mpirun, GNU time (/usr/bin/time),
# python3 (json and statistics only; SY_PYTHON, default /usr/bin/python3).
# Prepares data/fortunes-sp8192 if the config names it and it is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

STEPS=8
REPEATS=1
CONFIG=configs/bench-small.yaml
MICRO=""
SETS=()
KEEP=""
WAIT_QUIET=0
WARMUP=2
NP=2
# SY_BIN and SY_A2A_BIN are relative to the caller's directory, the defaults to the repository.
BIN=$(realpath -m -- "${SY_BIN:-$ROOT/build/release/switchyard}")
A2A_BIN=$(realpath -m -- "${SY_A2A_BIN:-$ROOT/build/release/bench/alltoallv_bandwidth}")
PY=${SY_PYTHON:-/usr/bin/python3}
GNU_TIME=/usr/bin/time
# The machine's CPUs (plain nproc counts OMP_NUM_THREADS, which is 1 below).
CPUS=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)

usage() { awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) STEPS=$2; shift 2 ;;
    --repeats) REPEATS=$2; shift 2 ;;
    --config) CONFIG=$(realpath -e -- "$2"); shift 2 ;;
    --micro-batch) MICRO=$2; shift 2 ;;
    --set) SETS+=("$2"); shift 2 ;;
    --keep) KEEP=$(realpath -m -- "$2"); shift 2 ;;
    --wait-quiet) WAIT_QUIET=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "run_ep_share: unknown argument '$1'" >&2; usage 2 >&2 ;;
  esac
done
cd "$ROOT"
if (( STEPS <= WARMUP )); then
  echo "run_ep_share: --steps must be > $WARMUP (the first $WARMUP are warm-up)" >&2; exit 2
fi
[[ -x $PY ]] || PY=python3
"$PY" -c 'import json, statistics' 2>/dev/null \
  || { echo "run_ep_share: needs python3 ($PY)" >&2; exit 2; }
[[ -x $GNU_TIME ]] || { echo "run_ep_share: needs GNU time: apt-get install -y time" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "run_ep_share: needs mpirun (openmpi-bin)" >&2; exit 2; }
if [[ ! -x $BIN || ! -x $A2A_BIN ]]; then
  echo "== building $BIN and $A2A_BIN" >&2
  cmake --preset release >/dev/null
  cmake --build --preset release -j"$CPUS" --target switchyard alltoallv_bandwidth
fi

# section.key: its --set override, else its value in the two-level YAML config (the layout of
# configs/*.yaml), else DEFAULT.
config_value() {  # KEY DEFAULT
  local kv
  for kv in ${SETS[@]+"${SETS[@]}"}; do
    [[ $kv == "$1="* ]] && { echo "${kv#*=}"; return; }
  done
  awk -v sec="${1%%.*}" -v key="${1#*.}:" -v def="$2" '
    /^[^ #]/ {s = ($1 == sec ":")} s && $1 == key {v = $2} END {print (v == "" ? def : v)}' \
    "$CONFIG"
}
GLOBAL_BATCH=$(config_value train.global_batch_size 0)
MICRO=${MICRO:-$((GLOBAL_BATCH / NP))}
# The exchanges each rank makes per step: 4 per MoE layer (dispatch and combine, forward and
# backward) and micro-batch. A layer is MoE when l >= first_layer and (l - first_layer) % every
# == 0 (trainer/config/config.h).
MOE_LAYERS=$(awk -v n="$(config_value model.num_layers 0)" \
  -v on="$(config_value moe.enabled true)" -v f="$(config_value moe.first_layer 0)" -v e="$(config_value moe.every 1)" \
  'BEGIN {c = 0; for (l = f; on == "true" && l < n; l += e) ++c; print c}')
EXCHANGES=$((4 * MOE_LAYERS * GLOBAL_BATCH / (MICRO * NP)))
(( EXCHANGES > 0 )) || { echo "run_ep_share: $CONFIG has no MoE layer" >&2; exit 2; }

# The training shard the config names; bench-small's is the SentencePiece-8192 fortune corpus.
DATA=$(config_value data.train "")
if [[ ! -f $DATA ]]; then
  if [[ $DATA == data/fortunes-sp8192/train.bin ]]; then
    echo "== preparing data/fortunes-sp8192 (about half a minute)" >&2
    "$BIN" prep --fortunes --out data/fortunes-sp8192 --tokenizer sentencepiece --vocab-size 8192
  else
    echo "run_ep_share: $CONFIG's data.train '$DATA' does not exist" >&2; exit 2
  fi
fi

WORK=${KEEP:-$(mktemp -d -t sy-ep-share.XXXXXX)}
mkdir -p "$WORK"
[[ -n $KEEP ]] || trap 'rm -rf "$WORK"' EXIT

export OMP_NUM_THREADS=1
if [[ "$(id -u)" -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
MPIRUN=(mpirun --oversubscribe --bind-to none -x OMP_NUM_THREADS -np "$NP")

source "$(dirname "${BASH_SOURCE[0]}")/../lib/machine_load.sh"

train() {  # EP NAME: trains at dp=NP, ep=EP into $WORK/NAME; prints other jobs' CPU %
  local run=$WORK/$2 b0
  rm -rf "$run"
  wait_quiet "the ep=$1 run"
  b0=$(busy_jiffies)
  local args=(run.dir="$run" parallel.dp="$NP" parallel.ep="$1" train.micro_batch_size="$MICRO"
              train.steps="$STEPS" checkpoint.every=0 checkpoint.resume=none log.every=1
              log.progress=off ${SETS[@]+"${SETS[@]}"})
  "$GNU_TIME" -v -o "$run.time" "${MPIRUN[@]}" "$BIN" train "$CONFIG" "${args[@]}" \
      > "$run.log" 2>&1 \
    || { echo "switchyard train (ep=$1) failed:" >&2; tail "$run.log" >&2; exit 1; }
  rm -rf "$run/checkpoints"  # the final save, 0.7 GB for bench-small, not needed here
  others_pct "$b0" "$(busy_jiffies)" "$run.time"
}

echo "== $(date -u +%FT%TZ) | $CONFIG | mpirun -np $NP, OMP_NUM_THREADS=1 per rank" \
     "| micro-batch $MICRO, $EXCHANGES exchanges per rank and step" \
     "| overrides: ${SETS[*]:-none} | steps $STEPS (first" \
     "$WARMUP warm-up) | $CPUS CPUs | OPENBLAS_CORETYPE ${OPENBLAS_CORETYPE:-unset}" \
     "| load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
OTHERS=$WORK/others.tsv
: > "$OTHERS"
for ((r = 1; r <= REPEATS; ++r)); do
  echo "== [$r/$REPEATS] alltoallv_bandwidth" >&2
  wait_quiet "alltoallv_bandwidth"
  "${MPIRUN[@]}" "$A2A_BIN" --json > "$WORK/a2a-$r.txt" 2> "$WORK/a2a-$r.log" \
    || { echo "alltoallv_bandwidth failed:" >&2; tail "$WORK/a2a-$r.log" >&2; exit 1; }
  grep -v '^{' "$WORK/a2a-$r.txt" >&2
  echo "== [$r/$REPEATS] switchyard train, dp=$NP ep=$NP" >&2
  ep_others=$(train "$NP" "ep$NP-$r")
  echo "== [$r/$REPEATS] switchyard train, dp=$NP ep=1" >&2
  dp_others=$(train 1 "ep1-$r")
  printf '%s\t%s\t%s\n' "$r" "$ep_others" "$dp_others" >> "$OTHERS"
done

"$PY" - "$WORK" "$REPEATS" "$WARMUP" "$EXCHANGES" "$NP" "$STEPS" <<'EOF'
import json, math, statistics, sys
work, repeats, warmup, exchanges, ranks, steps = sys.argv[1], *map(int, sys.argv[2:])
med = statistics.median
others = {l.split()[0]: l.split()[1:] for l in open(f"{work}/others.tsv") if l.strip()}


def measured_steps(path):  # the metrics.jsonl rows after the warm-up steps
    return [json.loads(l) for l in open(path) if l.strip()][warmup:]


def bandwidth(r):  # repeat r's alltoallv_bandwidth JSON line
    return json.loads(next(l for l in open(f"{work}/a2a-{r}.txt") if l.startswith("{")))


def raw_gbps(sizes, msg):  # raw GB/s at msg bytes per peer: linear in log2(size) between sizes
    pts = sorted((s["bytes_per_peer"], s["gb_per_s"]) for s in sizes)
    if msg <= pts[0][0]:
        return pts[0][1]
    for (s0, g0), (s1, g1) in zip(pts, pts[1:]):
        if msg <= s1:
            return g0 + math.log2(msg / s0) / math.log2(s1 / s0) * (g1 - g0)
    return pts[-1][1]


def load_imbalance(s):  # expert rows of the busiest ep rank / the mean (contiguous shards)
    per = len(s["tokens_per_expert"]) // ranks
    rows = [sum(s["tokens_per_expert"][q * per:(q + 1) * per]) for q in range(ranks)]
    return max(rows) / (sum(rows) / ranks)


def spread(v):  # median and (min, max) of per-step values
    return med(v), (min(v), max(v))


results = []
for r in range(1, repeats + 1):
    ep = measured_steps(f"{work}/ep{ranks}-{r}/metrics.jsonl")
    dp = measured_steps(f"{work}/ep1-{r}/metrics.jsonl")
    nbytes = med(s["all_to_all_bytes"] for s in ep)
    msg = nbytes / exchanges / (ranks - 1)
    raw = raw_gbps(bandwidth(r)["sizes"], msg)
    eff = med(s["all_to_all_bytes"] / s["all_to_all_ms"] / 1e6 for s in ep)
    step = spread([s["step_ms"] for s in ep])
    dp_step = spread([s["step_ms"] for s in dp])
    results.append({
        "step": step, "a2a": spread([s["all_to_all_ms"] for s in ep]),
        "share": (med(s["all_to_all_ms"] / s["step_ms"] for s in ep), None),
        "load": (med(load_imbalance(s) for s in ep), None), "dp": dp_step,
        "dp_ratio": (dp_step[0] / step[0], None), "mib": (nbytes / 2**20, None),
        "msg": (msg / 1024, None), "eff": (eff, None), "raw": (raw, None),
        "frac": (eff / raw, None), "wire": (nbytes / raw / 1e6, None),
        "others": ", ".join(others.get(str(r), ["?", "?"]))})


def table(title, cols):  # cols: (header, key, format); per repeat, then median and range
    print(f"\n{title}\n")
    print("| run | " + " | ".join(c[0] for c in cols) + " |")
    print("|---|" + "---:|" * len(cols))

    def cell(x, k, fmt):
        if k == "others":
            return x[k]
        value, rng = x[k]
        return format(value, fmt) + (f" ({rng[0]:{fmt}}-{rng[1]:{fmt}})" if rng else "")

    for i, x in enumerate(results, 1):
        print(f"| {i} | " + " | ".join(cell(x, k, f) for _, k, f in cols) + " |")
    if len(results) > 1:
        vals = {k: [x[k][0] for x in results] for _, k, _ in cols if k != "others"}
        print(f"| median of {len(results)} | " + " | ".join(
            format(med(vals[k]), f) if k in vals else "" for _, k, f in cols) + " |")
        print("| range | " + " | ".join(
            f"{min(vals[k]):{f}}-{max(vals[k]):{f}}" if k in vals else "" for _, k, f in cols)
            + " |")


print(f"\n{ranks} ranks at dp={ranks}, 1 thread each; {steps} steps per run, medians of steps "
      f"{warmup + 1}..{steps} with their min-max in brackets; {exchanges} exchanges per rank and "
      "step; MiB = 2^20 bytes, GB/s = 1e9 bytes/s")
table(f"Time: ep={ranks} against ep=1", [
    (f"ep={ranks} step ms", "step", ".0f"), ("all-to-all ms", "a2a", ".0f"),
    ("all-to-all share", "share", ".1%"), ("ep-rank load max/mean", "load", ".2f"),
    ("ep=1 step ms", "dp", ".0f"), (f"ep=1 / ep={ranks}", "dp_ratio", ".2f"),
    ("other jobs' CPU % (ep2, ep1)", "others", "")])
table(f"Bytes: the ep={ranks} exchanges against raw MPI_Alltoallv", [
    ("MiB sent/step", "mib", ".1f"), ("mean msg/peer KiB", "msg", ".0f"),
    ("effective GB/s", "eff", ".3f"), ("raw GB/s at that msg", "raw", ".2f"),
    ("effective / raw", "frac", ".2%"), ("ms at raw GB/s", "wire", ".1f")])

sizes = {}
for r in range(1, repeats + 1):
    for s in bandwidth(r)["sizes"]:
        sizes.setdefault(s["bytes_per_peer"], []).append(s)
print(f"\nRaw Communicator::all_to_all_v (MPI_Alltoallv), {ranks} ranks, a block to self as well;"
      f" per size the median over {repeats} repeat(s) of each one's median\n")
print("| bytes/peer | median us | GB/s per rank |")
print("|---:|---:|---:|")
for b in sorted(sizes):
    v = sizes[b]
    print(f"| {b} | {med(s['median_s'] for s in v) * 1e6:.1f} | "
          f"{med(s['gb_per_s'] for s in v):.2f} |")
EOF
echo "== done $(date -u +%FT%TZ) | load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
