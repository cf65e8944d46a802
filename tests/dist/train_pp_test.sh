#!/usr/bin/env bash
# Pipeline parallelism end to end: (dp, ep, pp) = (1, 1, 2) under both schedules, (2, 1, 2),
# (2, 2, 2) and (4, 2, 2) (8 ranks, oversubscribed) train the same 10 steps as one rank: losses
# within 1e-5 relative, final weights close, evaluation through the stages; an explicit
# stage split, a stage with no MoE layer; a (2, 2, 2) checkpoint resumes at 1 rank on the same
# loss curve; more stages than layers is a config error; --dry-run prints the stages and the
# expected bubble; metrics.jsonl records the measured one; parallel.debug_comm finds nothing wrong.
#   usage: train_pp_test.sh PATH/TO/switchyard SOURCE_DIR MPIRUN
set -uo pipefail
BIN="$1"
SRC="$2"
MPIRUN="$3"
source "$SRC/tests/e2e/lib.sh"
source "$SRC/tests/dist/train_lib.sh"
train_setup

# configs/tiny.yaml has 2 layers; 4 layers here (layer 0 dense, 1..3 MoE) give the stages room.
# 8 micro-batches of 2 sequences per step: dp = 1, 2, 4 all split them evenly.
COMMON=(data.train="$TMP/data/train.bin" data.val="$TMP/data/val.bin" train.eval_windows=4
        model.num_layers=4 moe.first_layer=1 train.steps=10 train.global_batch_size=16
        train.micro_batch_size=2 checkpoint.every=5 checkpoint.keep_last=5 moe.router=noisy_topk)
run() { run_layout "$@"; }  # run DP EP PP RUN_DIR [overrides...]
has_bubble() {  # has_bubble metrics.jsonl: every line records a bubble fraction in [0, 1)
  python3 - "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = rows and all(0 <= r.get("pipeline_bubble", -1) < 1 and r.get("peak_rss_mib", 0) > 0 for r in rows)
print("pipeline_bubble:", [round(r.get("pipeline_bubble", -1), 3) for r in rows][:4], "...")
sys.exit(0 if ok else 1)
PY
}
val_ce() { grep -o "val ce [0-9.]*" "$1" | tail -1; }

run 1 1 1 "$TMP/ref" >"$TMP/ref.log" 2>&1
check "1 rank (reference)" $?
"$BIN" export "$TMP/ref" "$TMP/ref.export" >/dev/null 2>&1
# (2, 2, 2) runs with parallel.debug_comm: every call checked across ranks, every step verified.
for layout in "1 1 2 1f1b false" "1 1 2 gpipe false" "2 1 2 1f1b false" "2 2 2 1f1b true" \
              "4 2 2 1f1b false"; do
  read -r dp ep pp schedule debug <<<"$layout"
  name="dp${dp}ep${ep}pp${pp}${schedule}"
  run "$dp" "$ep" "$pp" "$TMP/$name" parallel.pipeline_schedule="$schedule" \
    parallel.debug_comm="$debug" >"$TMP/$name.log" 2>&1
  check "$name trains (exit 0)" $?
  same_losses "$TMP/ref/metrics.jsonl" "$TMP/$name/metrics.jsonl" 1 loss ce aux z
  check "$name losses equal the 1-rank run within 1e-5" $?
  has_bubble "$TMP/$name/metrics.jsonl"
  check "$name records the measured bubble and peak memory" $?
  [[ "$(val_ce "$TMP/$name.log")" == "$(val_ce "$TMP/ref.log")" ]]
  check "$name evaluates through the stages ($(val_ce "$TMP/$name.log"))" $?
  "$BIN" export "$TMP/$name" "$TMP/$name.export" >/dev/null 2>&1
  check "$name checkpoint exports" $?
  python3 "$SRC/tests/dist/compare_exports.py" "$TMP/ref.export" "$TMP/$name.export" 5e-4
  check "$name final weights equal the 1-rank run within 5e-4" $?
done

# An explicit split: stage 0 = layer 0 alone (dense, no MoE layer), stage 1 = three MoE layers.
run 1 1 2 "$TMP/split" parallel.stage_layers=1,3 >"$TMP/split.log" 2>&1
check "stage_layers=1,3 trains" $?
grep -q "pipeline stage 0: layers \[0, 1)" "$TMP/split/logs/rank0.log" &&
  grep -q "pipeline stage 1: layers \[1, 4)" "$TMP/split/logs/rank1.log"
check "stage_layers=1,3 puts layer 0 alone on stage 0" $?
same_losses "$TMP/ref/metrics.jsonl" "$TMP/split/metrics.jsonl" 1
check "stage_layers=1,3 losses equal the 1-rank run" $?

# Fine-tuning from an export under (2, 2, 2), with stage 0 holding only the dense layer 0: every
# rank loads its part of the Hugging Face weights, and the losses follow the 1-rank run's.
run 1 1 1 "$TMP/ft1" model.init_from="$TMP/ref.export" train.steps=3 >"$TMP/ft1.log" 2>&1
check "1 rank starts from the export" $?
run 2 2 2 "$TMP/ft222" model.init_from="$TMP/ref.export" train.steps=3 \
  parallel.stage_layers=1,3 >"$TMP/ft222.log" 2>&1
check "(2, 2, 2) starts from the export" $?
same_losses "$TMP/ft1/metrics.jsonl" "$TMP/ft222/metrics.jsonl" 1
check "(2, 2, 2) from the export: the 1-rank losses" $?

# Resume the (2, 2, 2) checkpoint of step 5 at 1 rank.
mkdir -p "$TMP/resume/checkpoints"
cp -r "$TMP/dp2ep2pp21f1b/checkpoints/step_00000005" "$TMP/resume/checkpoints/"
run 1 1 1 "$TMP/resume" >"$TMP/resume.log" 2>&1
grep -q "resumed from .*step_00000005" "$TMP/resume.log"
check "(2, 2, 2) checkpoint resumes at 1 rank" $?
same_losses "$TMP/ref/metrics.jsonl" "$TMP/resume/metrics.jsonl" 6
check "resumed at 1 rank: steps 6..10 on the 1-rank loss curve" $?

expect "parallel.pp=5 with 4 layers is a config error (exit 2)" 2 "parallel.pp" -- \
  "$BIN" train "$SRC/configs/tiny.yaml" run.dir="$TMP/bad" "${COMMON[@]}" parallel.pp=5 --dry-run
expect "parallel.stage_layers that do not add up is a config error (exit 2)" 2 "stage_layers" -- \
  "$BIN" train "$SRC/configs/tiny.yaml" run.dir="$TMP/bad" "${COMMON[@]}" parallel.pp=2 \
  parallel.stage_layers=1,2 --dry-run
expect "--dry-run prints the stages and the expected bubble" 0 "expected bubble 11.1%" -- \
  "$MPIRUN" --oversubscribe --bind-to none -np 2 "$BIN" train "$SRC/configs/tiny.yaml" \
  parallel.pp=2 "${COMMON[@]}" --dry-run

summary
