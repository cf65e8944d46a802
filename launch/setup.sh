#!/usr/bin/env bash
# Switchyard: set up a fresh Debian 12 machine, then configure and build.
#
#   launch/setup.sh            install system packages (apt-get), configure, build (release)
#   SY_SKIP_APT=1 launch/setup.sh   configure and build only
#   SY_PRESET=debug launch/setup.sh  another CMake preset (release | debug | asan)
#
# Idempotent: packages already present are left alone; the build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

PRESET="${SY_PRESET:-release}"

# Every system package the project needs, by purpose.
PACKAGES=(
  # toolchain and build
  build-essential cmake ninja-build pkg-config git
  # CPU kernels: BLAS (OpenMP flavour, so BLAS calls nest inside our parallel regions) and OpenMP
  libopenblas-openmp-dev libomp-dev
  # tests and micro-benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev time
  # multi-process runtime, checkpoints, configs, tokenizer
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev zlib1g-dev libyaml-cpp-dev libsentencepiece-dev
  sentencepiece
  # the default multilingual corpus: fortune collections in seven languages
  fortunes fortunes-de fortunes-it fortunes-es fortunes-ru fortunes-pl fortunes-cs
  # reference scripts and fixture checks
  python3 python3-numpy python3-h5py python3-torch
)

log() { printf '[setup] %s\n' "$*"; }

if [[ "${SY_SKIP_APT:-0}" != "1" ]]; then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    SUDO=""
    [[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
    log "installing ${#missing[@]} Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    log "all ${#PACKAGES[@]} Debian packages already installed"
  fi
fi

log "configuring (cmake --preset ${PRESET})"
cmake --preset "${PRESET}" >/dev/null
log "building build/${PRESET} with $(nproc) jobs"
cmake --build --preset "${PRESET}" -j "$(nproc)"
log "done: binary at build/${PRESET}/switchyard; run launch/test.sh to test"
