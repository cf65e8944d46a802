#!/usr/bin/env bash
# End to end: prepare the fortune corpus, train configs/tiny.yaml, and check what a user sees:
# the loss falls, metrics.jsonl and the run directory follow the contract, two runs with the same
# seed give identical losses, and bad input gets the documented exit codes.
#   usage: train_test.sh PATH/TO/switchyard SOURCE_DIR
set -uo pipefail
BIN="$1"
SRC="$2"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
failures=0
passed=0
check() {  # check NAME CONDITION-EXIT-CODE
  if [[ "$2" -eq 0 ]]; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failures=$((failures + 1)); fi
}

"$BIN" prep --fortunes --out "$TMP/data" --tokenizer byte >/dev/null
check prep $?

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

expect_exit() {  # expect_exit NAME CODE CMD...
  local name="$1" want="$2"
  shift 2
  "$@" >"$TMP/err.txt" 2>&1
  local code=$?
  [[ "$code" -eq "$want" ]]
  check "$name (exit $want, got $code: $(head -c 160 "$TMP/err.txt" | tr '\n' ' '))" $?
}
expect_exit "unknown key" 2 train "$TMP/r3" model.hidden_sise=32
expect_exit "cross-field violation" 2 train "$TMP/r3" model.num_kv_heads=3
expect_exit "missing data file" 2 train "$TMP/r3" data.train="$TMP/nope.bin"
head -c 4096 /dev/urandom >"$TMP/garbage.bin"
expect_exit "malformed shard" 3 train "$TMP/r3" data.train="$TMP/garbage.bin"
expect_exit "diverging run" 4 train "$TMP/r3" optim.lr=1e12 data.val=

echo "${passed} passed, ${failures} failed"
[[ "$failures" -eq 0 ]]
