# Helpers shared by the `switchyard train` layout tests (train_{dp,ep,pp}_test.sh), which source
# it after tests/e2e/lib.sh with BIN, SRC and MPIRUN set:
#   train_setup                     a temporary TMP (removed on exit), byte-level fortune data in
#                                   TMP/data, and the environment mpirun needs as root
#   run_layout DP EP PP DIR [k=v...]  `switchyard train configs/tiny.yaml` at that layout with
#                                   COMMON's overrides (one rank runs without mpirun)
#   same_losses A.jsonl B.jsonl FIRST [KEYS...]  every logged step >= FIRST of B has A's values of
#                                   KEYS (default loss ce) within 1e-5 relative
# shellcheck shell=bash

train_setup() {
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
  "$BIN" prep --fortunes --out "$TMP/data" --tokenizer byte >/dev/null
  check prep $?
}

run_layout() {
  local dp="$1" ep="$2" pp="$3" dir="$4"
  shift 4
  local np=$((dp * pp))
  if [[ "$np" -eq 1 ]]; then
    "$BIN" train "$SRC/configs/tiny.yaml" run.dir="$dir" "${COMMON[@]}" "$@"
  else
    "$MPIRUN" --oversubscribe --bind-to none -np "$np" "$BIN" train "$SRC/configs/tiny.yaml" \
      run.dir="$dir" parallel.dp="$dp" parallel.ep="$ep" parallel.pp="$pp" "${COMMON[@]}" "$@"
  fi
}

same_losses() {
  python3 - "$@" <<'PY'
import json, sys
a, b = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
first = int(sys.argv[3])
keys = sys.argv[4:] or ["loss", "ce"]
a = {r["step"]: r for r in a}
b = {r["step"]: r for r in b}
steps = [s for s in sorted(b) if s >= first]
assert steps and all(s in a for s in steps), (sorted(a), sorted(b))
worst = max(abs(a[s][k] - b[s][k]) / abs(a[s][k]) for s in steps for k in keys)
print(f"losses: worst relative difference {worst:.3g} over steps {steps[0]}..{steps[-1]}")
sys.exit(0 if worst <= 1e-5 else 1)
PY
}
