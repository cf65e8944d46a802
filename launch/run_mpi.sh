#!/usr/bin/env bash
# Switchyard: `switchyard train` on NP ranks of this machine under Open MPI's mpirun.
#
#   launch/run_mpi.sh NP CONFIG.yaml [key.sub=value ...]
#
# NP must equal parallel.dp x parallel.pp (the trainer checks and exits 5 otherwise). The script
# adds --oversubscribe when NP > nproc, the run-as-root switches only when run as root, and
# --bind-to none with OMP_NUM_THREADS = max(1, nproc / NP) so each rank's OpenMP threads share the
# cores evenly. Environment: SY_BIN (default build/release/switchyard), SY_MPIRUN_ARGS (extra
# mpirun options, split on spaces). The exit code is switchyard's (75: preempted, safe to rerun).
set -euo pipefail

usage() {
  echo "usage: launch/run_mpi.sh NP CONFIG.yaml [key.sub=value ...]" >&2
  exit 2
}
(($# >= 2)) || usage
NP=$1
CONFIG=$2
shift 2
if [[ ! "$NP" =~ ^[1-9][0-9]*$ ]]; then
  echo "run_mpi.sh: NP must be a positive integer, got '$NP'" >&2
  usage
fi

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${SY_BIN:-$ROOT/build/release/switchyard}"
if [[ ! -x "$BIN" ]]; then
  echo "run_mpi.sh: $BIN not found; build first:" \
       "cmake --preset release && cmake --build --preset release" >&2
  exit 1
fi
if ! command -v mpirun >/dev/null 2>&1; then
  echo "run_mpi.sh: mpirun not found (apt-get install openmpi-bin)" >&2
  exit 1
fi

CORES=$(nproc)
THREADS=$((CORES / NP))
((THREADS >= 1)) || THREADS=1
export OMP_NUM_THREADS=$THREADS

ARGS=(--bind-to none -x OMP_NUM_THREADS -np "$NP")
((NP > CORES)) && ARGS=(--oversubscribe "${ARGS[@]}")
if [[ "$(id -u)" -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# shellcheck disable=SC2206  # SY_MPIRUN_ARGS is split on purpose
EXTRA=(${SY_MPIRUN_ARGS:-})

echo "[run_mpi] mpirun ${ARGS[*]} ${EXTRA[*]} $BIN train $CONFIG $* (OMP_NUM_THREADS=$THREADS)" >&2
exec mpirun "${ARGS[@]}" "${EXTRA[@]}" "$BIN" train "$CONFIG" "$@"
