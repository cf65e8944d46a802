#!/usr/bin/env bash
# End to end: train configs/tiny.yaml briefly, export it as a Hugging Face Mixtral directory, and
# check what a user sees: eval of the export prints the same JSON line as eval of the checkpoint,
# generate from the export matches generate from the checkpoint, re-exporting an export is byte
# identical, sharding, a dense/MoE model (with its warning), training from an export
# (model.init_from), the PyTorch reference check when /usr/bin/python3 has torch, and exit codes.
#   usage: export_test.sh PATH/TO/switchyard SOURCE_DIR
set -uo pipefail
BIN="$1"
SRC="$2"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
setup_fortunes "$BIN"

train() {  # train RUN_DIR [overrides...]
  local dir="$1"
  shift
  "$BIN" train "$SRC/configs/tiny.yaml" run.dir="$dir" data.train="$TMP/data/train.bin" \
    data.val= train.steps=20 "$@"
}
VAL="$TMP/data/val.bin"

train "$TMP/run" >"$TMP/train.txt" 2>&1
check "train tiny (exit 0)" $?

"$BIN" export "$TMP/run" "$TMP/exp" --check-logits >"$TMP/export.txt" 2>"$TMP/export_err.txt"
check "export a run directory (exit 0)" $?
for f in config.json generation_config.json model.safetensors switchyard_tokenizer.json \
  switchyard_check.safetensors; do
  [[ -f "$TMP/exp/$f" ]]
  check "export holds $f" $?
done
[[ ! -e "$TMP/exp.tmp" && ! -s "$TMP/export_err.txt" ]]
check "no temporary left, no warning for a Mixtral-compatible model" $?
python3 - "$TMP/exp/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["architectures"] == ["MixtralForCausalLM"] and c["model_type"] == "mixtral", c
assert (c["vocab_size"], c["hidden_size"], c["num_hidden_layers"]) == (260, 32, 2), c
assert (c["num_local_experts"], c["num_experts_per_tok"], c["eos_token_id"]) == (4, 2, 256), c
assert c["torch_dtype"] == "float32" and c["switchyard"]["step"] == 20, c
PY
check "config.json: Mixtral keys, eos = end-of-text, the step" $?

"$BIN" eval --checkpoint "$TMP/run" --data "$VAL" --windows 64 >"$TMP/eval_run.json" 2>&1 &&
  "$BIN" eval --checkpoint "$TMP/exp" --data "$VAL" --windows 64 >"$TMP/eval_exp.json" 2>&1 &&
  cmp -s "$TMP/eval_run.json" "$TMP/eval_exp.json"
rc=$?  # before the command substitution below, which would reset $?
check "eval of the export prints the checkpoint's JSON line ($(cat "$TMP/eval_exp.json"))" $rc

gen() {
  "$BIN" generate --checkpoint "$1" --prompt "Der " --max-new-tokens 24 --seed 5 2>/dev/null
}
gen "$TMP/run" >"$TMP/gen_run.txt" && gen "$TMP/exp" >"$TMP/gen_exp.txt" &&
  grep -q "^Der " "$TMP/gen_exp.txt" && cmp -s "$TMP/gen_run.txt" "$TMP/gen_exp.txt"
check "generate from the export works and matches the checkpoint" $?

"$BIN" export "$TMP/exp" "$TMP/exp2" --check-logits >/dev/null 2>&1 &&
  diff -r "$TMP/exp" "$TMP/exp2" >/dev/null
check "export of the export is byte identical" $?

"$BIN" export "$TMP/run" "$TMP/sharded" --max-shard-size 100KB >/dev/null 2>&1
python3 - "$TMP/sharded" <<'PY'
import json, os, sys
d = sys.argv[1]
files = sorted(os.listdir(d))
shards = [f for f in files if f.startswith("model-")]
assert "model.safetensors" not in files and len(shards) > 1, files
assert shards[0] == f"model-00001-of-{len(shards):05d}.safetensors", shards
index = json.load(open(os.path.join(d, "model.safetensors.index.json")))
assert set(index["weight_map"].values()) == set(shards), index
assert index["metadata"]["total_size"] == sum(os.path.getsize(os.path.join(d, s)) for s in shards) \
    - sum(8 + int.from_bytes(open(os.path.join(d, s), "rb").read(8), "little") for s in shards)
PY
check "--max-shard-size: shards and model.safetensors.index.json" $?
"$BIN" eval --checkpoint "$TMP/sharded" --data "$VAL" --windows 64 >"$TMP/eval_sh.json" 2>&1 &&
  cmp -s "$TMP/eval_run.json" "$TMP/eval_sh.json"
check "eval of the sharded export matches" $?

# A dense/MoE mix with every non-Mixtral option: exported with a warning, and still exact.
train "$TMP/rund" train.steps=5 model.num_layers=3 moe.first_layer=1 moe.every=2 \
  moe.normalize_topk=false moe.router=noisy_topk >/dev/null 2>&1
"$BIN" export "$TMP/rund" "$TMP/expd" --check-logits >/dev/null 2>"$TMP/warn.txt"
check "export a dense/MoE model (exit 0)" $?
grep -q "will not load unchanged as MixtralForCausalLM" "$TMP/warn.txt" &&
  grep -q "dense" "$TMP/warn.txt" &&
  grep -q "normalize_topk" "$TMP/warn.txt" && grep -q "noisy_topk" "$TMP/warn.txt"
check "the export warns why it is not plain Mixtral" $?
"$BIN" eval --checkpoint "$TMP/rund" --data "$VAL" --windows 32 >"$TMP/e1.json" 2>&1 &&
  "$BIN" eval --checkpoint "$TMP/expd" --data "$VAL" --windows 32 >"$TMP/e2.json" 2>&1 &&
  cmp -s "$TMP/e1.json" "$TMP/e2.json"
check "eval of the dense/MoE export matches its checkpoint" $?

# The PyTorch reference model on the exported files (informational when torch is missing).
if /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then
  for d in exp expd; do
    /usr/bin/python3 "$SRC/tests/reference/check_export.py" "$TMP/$d" >"$TMP/ref.txt" 2>&1
    rc=$?
    check "check_export.py $d: $(head -1 "$TMP/ref.txt")" $rc
  done
else
  echo "skipped: torch not installed (check_export.py needs /usr/bin/python3 with torch)"
fi

# Training from an export: the first step starts from the exported weights, so its loss is far
# below a fresh model's (about ln 260 = 5.56).
train "$TMP/scratch" train.steps=3 >/dev/null 2>&1
train "$TMP/init" train.steps=3 model.init_from="$TMP/exp" >"$TMP/init.txt" 2>&1
check "train with model.init_from=EXPORT (exit 0)" $?
python3 - "$TMP/scratch/metrics.jsonl" "$TMP/init/metrics.jsonl" "$TMP/eval_exp.json" <<'PY'
import json, sys
scratch, init = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
exported = json.load(open(sys.argv[3]))["mean_ce"]
a, b = scratch[0]["ce"], init[0]["ce"]
print(f"step-1 ce: scratch {a:.3f}, from the export {b:.3f}, the export's eval ce {exported:.3f}")
assert b < a - 0.3 and abs(b - exported) < 0.5, "model.init_from did not load the export"
PY
check "model.init_from: the first step starts from the exported weights" $?

expect "export into a non-empty directory" 2 "not empty" -- "$BIN" export "$TMP/run" "$TMP/exp"
expect "export --force replaces it" 0 "^exported" -- "$BIN" export "$TMP/run" "$TMP/exp" --force
expect "export with a bad option" 2 "--dtype" -- "$BIN" export "$TMP/run" "$TMP/x" --dtype int8
expect "export of a missing source" 2 "does not exist" -- "$BIN" export "$TMP/none" "$TMP/x"
head -c 4096 /dev/urandom >"$TMP/garbage.h5"
expect "export of a corrupt checkpoint" 3 "garbage.h5" -- "$BIN" export "$TMP/garbage.h5" "$TMP/x"
[[ ! -e "$TMP/x" && ! -e "$TMP/x.tmp" ]]
check "a failed export leaves no directory" $?
cp -r "$TMP/exp" "$TMP/broken"
head -c 1000 "$TMP/exp/model.safetensors" >"$TMP/broken/model.safetensors"
expect "eval of a truncated export" 3 "broken/model.safetensors" -- \
  "$BIN" eval --checkpoint "$TMP/broken" --data "$VAL"
cp "$TMP/exp/model.safetensors" "$TMP/broken/"
sed -i 's/"hidden_size": 32/"hidden_size": "32"/' "$TMP/broken/config.json"
expect "generate from an export with a bad config.json" 3 "config.json: key \"hidden_size\"" -- \
  "$BIN" generate --checkpoint "$TMP/broken"
expect "init_from a bad export" 3 "config.json: key \"hidden_size\"" -- \
  train "$TMP/r5" model.init_from="$TMP/broken"
expect "init_from another architecture" 2 "model.init_from" -- \
  train "$TMP/r6" model.init_from="$TMP/exp" model.hidden_size=64

summary
