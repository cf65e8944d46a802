#!/usr/bin/env bash
# Expert parallelism end to end: (dp, ep) = (2, 2), (4, 4) and (4, 2) (two replicas of each expert
# shard) train the same 10 steps as one rank: losses within 1e-5 relative, final weights close,
# the all-to-all traffic in metrics.jsonl; a checkpoint saved at (4, 4) resumes at (1, 1) and
# (2, 2) on the same loss curve and exports like any other; an ep that does not divide the experts
# is a config error (exit 2); --dry-run shows the per-rank share of the parameters.
#   usage: train_ep_test.sh PATH/TO/switchyard SOURCE_DIR MPIRUN
set -uo pipefail
BIN="$1"
SRC="$2"
MPIRUN="$3"
source "$SRC/tests/e2e/lib.sh"
source "$SRC/tests/dist/train_lib.sh"
train_setup

# 4 micro-batches of 4 sequences per step; configs/tiny.yaml has 4 experts, top-2, 2 MoE layers.
COMMON=(data.train="$TMP/data/train.bin" data.val="$TMP/data/val.bin" train.eval_windows=4
        train.steps=10 train.global_batch_size=16 checkpoint.every=5 checkpoint.keep_last=5
        moe.router=noisy_topk)
run() {  # run DP EP RUN_DIR [overrides...]
  local dp="$1" ep="$2" dir="$3"
  shift 3
  run_layout "$dp" "$ep" 1 "$dir" "$@"
}
has_traffic() {  # has_traffic metrics.jsonl: every line reports a positive all-to-all volume
  python3 - "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = rows and all(r.get("all_to_all_bytes", 0) > 0 and r.get("all_to_all_ms", -1) >= 0 for r in rows)
print("all_to_all_bytes per step:", [r.get("all_to_all_bytes") for r in rows][:3], "...")
sys.exit(0 if ok else 1)
PY
}

run 1 1 "$TMP/ep1" >"$TMP/ep1.log" 2>&1
check "1 rank (reference)" $?
"$BIN" export "$TMP/ep1" "$TMP/ep1.export" >/dev/null 2>&1
for layout in "2 2" "4 4" "4 2"; do
  read -r dp ep <<<"$layout"
  name="dp${dp}ep${ep}"
  run "$dp" "$ep" "$TMP/$name" >"$TMP/$name.log" 2>&1
  check "$name trains (exit 0)" $?
  same_losses "$TMP/ep1/metrics.jsonl" "$TMP/$name/metrics.jsonl" 1 loss ce aux
  check "$name losses equal the 1-rank run within 1e-5" $?
  has_traffic "$TMP/$name/metrics.jsonl"
  check "$name reports all-to-all bytes and time" $?
  "$BIN" export "$TMP/$name" "$TMP/$name.export" >/dev/null 2>&1
  check "$name checkpoint exports" $?
  # AdamW divides by sqrt(v): for weights with tiny gradients (rare tokens' embedding rows) it
  # turns float32 reduction-order noise into visible weight differences after 10 steps.
  python3 "$SRC/tests/dist/compare_exports.py" "$TMP/ep1.export" "$TMP/$name.export" 5e-4
  check "$name final weights (every expert) equal the 1-rank run within 5e-4" $?
  grep -q "val ce" "$TMP/$name.log"
  check "$name evaluates with sharded experts" $?
done

# Resume the (4, 4) checkpoint of step 5 at (1, 1) and (2, 2).
for layout in "1 1" "2 2"; do
  read -r dp ep <<<"$layout"
  dir="$TMP/resume$dp$ep"
  mkdir -p "$dir/checkpoints"
  cp -r "$TMP/dp4ep4/checkpoints/step_00000005" "$dir/checkpoints/"
  run "$dp" "$ep" "$dir" >"$dir.log" 2>&1
  grep -q "resumed from .*step_00000005" "$dir.log"
  check "(4, 4) checkpoint resumes at ($dp, $ep)" $?
  same_losses "$TMP/ep1/metrics.jsonl" "$dir/metrics.jsonl" 6
  check "resumed at ($dp, $ep): steps 6..10 on the 1-rank loss curve" $?
done

expect "parallel.ep=3 does not divide 4 experts (exit 2)" 2 "num_experts" -- \
  "$MPIRUN" --oversubscribe --bind-to none -np 3 "$BIN" train "$SRC/configs/tiny.yaml" \
  run.dir="$TMP/bad" parallel.dp=3 parallel.ep=3 "${COMMON[@]}" train.global_batch_size=12
expect "--dry-run shows each rank's ep coordinate and share of parameters" 0 \
  "rank 1 host .*ep 1/2.*|held per rank" -- \
  "$MPIRUN" --oversubscribe --bind-to none -np 2 "$BIN" train "$SRC/configs/tiny.yaml" \
  parallel.dp=2 parallel.ep=2 "${COMMON[@]}" --dry-run

summary
