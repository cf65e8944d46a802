#!/usr/bin/env bash
# Data parallelism end to end: dp = 2 and 4 (mpirun, oversubscribed) train the same 10 steps as one
# rank with the same global batch: losses within 1e-5 relative and final weights close; a
# checkpoint saved at dp = 2 resumes at dp = 1 and dp = 4 on the same loss curve; a world size
# that does not match the config exits 5 on every rank; --dry-run prints every rank's place.
#   usage: train_dp_test.sh PATH/TO/switchyard SOURCE_DIR MPIRUN
set -uo pipefail
BIN="$1"
SRC="$2"
MPIRUN="$3"
source "$SRC/tests/e2e/lib.sh"
source "$SRC/tests/dist/train_lib.sh"
train_setup

# 4 micro-batches of 4 sequences per step: dp = 1, 2, 4 all split them evenly.
COMMON=(data.train="$TMP/data/train.bin" data.val= train.steps=10 train.global_batch_size=16
        checkpoint.every=5 checkpoint.keep_last=5 moe.router=noisy_topk)
run() {  # run NP RUN_DIR [overrides...]: dp = NP
  local np="$1" dir="$2"
  shift 2
  run_layout "$np" 1 1 "$dir" "$@"
}

run 1 "$TMP/dp1" >/dev/null 2>&1
check "1 rank (reference)" $?
"$BIN" export "$TMP/dp1" "$TMP/dp1.export" >/dev/null 2>&1
for np in 2 4; do
  run "$np" "$TMP/dp$np" >"$TMP/dp$np.log" 2>&1
  check "dp=$np trains (exit 0)" $?
  same_losses "$TMP/dp1/metrics.jsonl" "$TMP/dp$np/metrics.jsonl" 1
  check "dp=$np losses equal the 1-rank run within 1e-5" $?
  "$BIN" export "$TMP/dp$np" "$TMP/dp$np.export" >/dev/null 2>&1
  python3 "$SRC/tests/dist/compare_exports.py" "$TMP/dp1.export" "$TMP/dp$np.export" 1e-4
  check "dp=$np final weights equal the 1-rank run within 1e-4" $?
  [[ -f "$TMP/dp$np/logs/rank$((np - 1)).log" ]]
  check "dp=$np: every rank writes logs/rank{r}.log" $?
done

# Resume a dp=2 checkpoint (step 5) at another layout.
for np in 1 4; do
  mkdir -p "$TMP/resume$np/checkpoints"
  cp -r "$TMP/dp2/checkpoints/step_00000005" "$TMP/resume$np/checkpoints/"
  run "$np" "$TMP/resume$np" >"$TMP/resume$np.log" 2>&1
  grep -q "resumed from .*step_00000005" "$TMP/resume$np.log"
  check "dp=2 checkpoint resumes at dp=$np" $?
  same_losses "$TMP/dp1/metrics.jsonl" "$TMP/resume$np/metrics.jsonl" 6
  check "resumed at dp=$np: steps 6..10 on the 1-rank loss curve" $?
done

expect "world size 2 with parallel.dp=1 fails fast" 5 "does not match|world size" -- \
  "$MPIRUN" --oversubscribe --bind-to none -np 2 "$BIN" train "$SRC/configs/tiny.yaml" \
  run.dir="$TMP/bad" "${COMMON[@]}"
expect "--dry-run prints every rank's coordinates" 0 "rank 1 host .*dp 1/2" -- \
  "$MPIRUN" --oversubscribe --bind-to none -np 2 "$BIN" train "$SRC/configs/tiny.yaml" \
  parallel.dp=2 "${COMMON[@]}" --dry-run

summary
