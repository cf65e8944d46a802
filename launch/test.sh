#!/usr/bin/env bash
# Switchyard: install what is missing, build, and run every test suite that can run here.
#
#   launch/test.sh                 setup (idempotent) + build + ctest for each runnable label
#   SY_PRESET=asan launch/test.sh  the same under AddressSanitizer + UBSan
#
# Labels: unit (always), dist (needs mpirun), e2e (needs the switchyard binary), gpu (needs a
# CUDA device: nvidia-smi must list one). Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

PRESET="${SY_PRESET:-release}"
BUILD_DIR="build/${PRESET}"

launch/setup.sh

labels=(unit)
command -v mpirun >/dev/null 2>&1 && labels+=(dist)
labels+=(e2e)
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU; then
  labels+=(gpu)
else
  echo "[test] no CUDA device here: the gpu label is not run (its suites are built and linked)"
fi

# Two OpenMP threads on the CI machines; tests are written to be exact at any thread count.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"

regex="^($(IFS='|'; echo "${labels[*]}"))\$"
echo "[test] running ctest labels: ${labels[*]}"
ctest --test-dir "${BUILD_DIR}" --label-regex "${regex}" --output-on-failure \
  --timeout 900 --no-tests=error -j 1
