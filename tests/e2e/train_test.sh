#!/usr/bin/env bash
# End to end: prepare the fortune corpus, train configs/tiny.yaml, and check what a user sees:
# the loss falls, metrics.jsonl and the run directory follow the contract, two runs with the same
# seed give identical losses, and bad input gets the documented exit codes.
#   usage: train_test.sh PATH/TO/switchyard SOURCE_DIR
set -uo pipefail
BIN="$1"
SRC="$2"
pid=""
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2016  # $pid is expanded at exit
setup_fortunes "$BIN" '[[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null'

train() {  # train RUN_DIR [overrides...]
  local dir="$1"
  shift
  "$BIN" train "$SRC/configs/tiny.yaml" run.dir="$dir" data.train="$TMP/data/train.bin" \
    data.val="$TMP/data/val.bin" train.steps=30 "$@"
}

train "$TMP/run1" >"$TMP/out1.txt" 2>&1
check "train tiny (exit 0)" $?
grep -q "step 30/30" "$TMP/out1.txt"
check "log line for the last step" $?
[[ -f "$TMP/run1/config.resolved.yaml" && -f "$TMP/run1/logs/rank0.log" ]]
check "run directory: config.resolved.yaml and logs/rank0.log" $?

python3 - "$TMP/run1/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["step"] for r in rows] == list(range(1, 31)), "steps 1..30"
need = {"step", "tokens", "loss", "ce", "aux", "z", "lr", "grad_norm", "tokens_per_s", "step_ms"}
assert need <= set(rows[0]), f"missing fields: {need - set(rows[0])}"
assert rows[-1]["tokens"] == 30 * 8 * 32, rows[-1]["tokens"]
first = sum(r["ce"] for r in rows[:3]) / 3
last = sum(r["ce"] for r in rows[-3:]) / 3
assert last < first - 0.5, f"loss did not fall enough: {first:.3f} -> {last:.3f}"
print(f"ce {first:.3f} -> {last:.3f}")
PY
check "metrics.jsonl fields, token count, falling loss" $?

train "$TMP/run2" >/dev/null 2>&1
python3 - "$TMP/run1/metrics.jsonl" "$TMP/run2/metrics.jsonl" <<'PY'
import json, sys
a, b = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
keys = ["loss", "ce", "aux", "z", "lr", "grad_norm"]
assert [[r[k] for k in keys] for r in a] == [[r[k] for k in keys] for r in b], "runs differ"
PY
check "same seed, identical losses and grad norms" $?

# Resume: B runs to 20 with checkpoints at 10 and 20; dropping step 20 makes `resume=auto` pick
# step 10, and the continued run must equal A step for step and in its final weights.
train "$TMP/runA" train.steps=20 checkpoint.every=10 moe.router=noisy_topk >/dev/null 2>&1
train "$TMP/runB" train.steps=20 checkpoint.every=10 moe.router=noisy_topk >/dev/null 2>&1
rm -rf "$TMP/runB/checkpoints/step_00000020"
train "$TMP/runB" train.steps=20 checkpoint.every=10 moe.router=noisy_topk >"$TMP/resume.txt" 2>&1
grep -q "resumed from .*step_00000010" "$TMP/resume.txt"
check "resume=auto picks the newest complete checkpoint" $?
python3 - "$TMP/runA/metrics.jsonl" "$TMP/runB/metrics.jsonl" <<'PY'
import json, sys
a, b = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
keys = ["step", "loss", "ce", "aux", "z", "lr", "grad_norm"]
assert len(a) == len(b) == 20, (len(a), len(b))
assert [[r[k] for k in keys] for r in a] == [[r[k] for k in keys] for r in b], "resumed run differs"
PY
check "resumed run: metrics truncated and bit-identical to the straight run" $?
params() { "$BIN" inspect "$1" | grep "^/params\|^/optim" | awk '{print $1, $5}'; }
[[ -n "$(params "$TMP/runA")" && "$(params "$TMP/runA")" == "$(params "$TMP/runB")" ]]
check "resumed run: final weights and moments identical (checksums)" $?

"$BIN" eval --checkpoint "$TMP/runA" --data "$TMP/data/val.bin" --windows 8 >"$TMP/eval.json" 2>&1
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['windows']==8 and r['seq_len']==32 and r['tokens']==256 and 0<r['mean_ce']<7, r" "$TMP/eval.json"
check "eval prints one JSON line" $?
"$BIN" generate --checkpoint "$TMP/runA" --prompt "Der " --max-new-tokens 20 --seed 3 >"$TMP/gen1.txt" 2>/dev/null &&
  "$BIN" generate --checkpoint "$TMP/runA" --prompt "Der " --max-new-tokens 20 --seed 3 >"$TMP/gen2.txt" 2>/dev/null &&
  grep -q "^Der " "$TMP/gen1.txt" && cmp -s "$TMP/gen1.txt" "$TMP/gen2.txt"
check "generate continues the prompt, seeded" $?

# Preemption: SIGTERM once training is under way -> checkpoint, exit 75; a rerun resumes.
"$BIN" train "$SRC/configs/tiny.yaml" run.dir="$TMP/runP" data.train="$TMP/data/train.bin" \
  data.val= train.steps=100000 log.every=1 >"$TMP/preempt.txt" 2>&1 &
pid=$!  # the binary itself, so the signal reaches it
for _ in $(seq 1 600); do
  [[ -f "$TMP/runP/metrics.jsonl" && $(wc -l <"$TMP/runP/metrics.jsonl") -ge 3 ]] && break
  sleep 0.1
done
kill -TERM "$pid"
wait "$pid"
code=$?
[[ "$code" -eq 75 && -f "$TMP/runP/checkpoints/latest" ]]
check "SIGTERM saves a checkpoint and exits 75 (got $code)" $?

expect_exit() {  # expect_exit NAME CODE CMD...
  local name="$1" want="$2"
  shift 2
  "$@" >"$TMP/err.txt" 2>&1
  local code=$? ok=1
  [[ "$code" -eq "$want" ]] && ok=0
  local said
  said="$(head -c 160 "$TMP/err.txt" | tr '\n' ' ')"
  check "$name (exit $want, got $code: $said)" "$ok"
}
expect_exit "unknown key" 2 train "$TMP/r3" model.hidden_sise=32
expect_exit "cross-field violation" 2 train "$TMP/r3" model.num_kv_heads=3
expect_exit "missing data file" 2 train "$TMP/r3" data.train="$TMP/nope.bin"
head -c 4096 /dev/urandom >"$TMP/garbage.bin"
expect_exit "malformed shard" 3 train "$TMP/r3" data.train="$TMP/garbage.bin"
expect_exit "diverging run" 4 train "$TMP/r3" optim.lr=1e12 data.val=
expect_exit "eval of a missing checkpoint" 2 "$BIN" eval --checkpoint "$TMP/none" --data "$TMP/data/val.bin"
expect_exit "eval without --data" 2 "$BIN" eval --checkpoint "$TMP/runA"
expect_exit "generate with a bad option" 2 "$BIN" generate --checkpoint "$TMP/runA" --top-p 2
expect_exit "resume from a corrupt checkpoint" 3 train "$TMP/r4" checkpoint.resume="$TMP/garbage.bin"

summary
