#!/usr/bin/env bash
# Switchyard quick start: train a small Mixtral-style MoE on Debian's fortune collections in seven
# languages (about four minutes on two CPU cores), then sample from it.
#
#   launch/quickstart.sh                       everything: corpus, tokenizer, training, sample
#   launch/quickstart.sh train.steps=100 ...   extra key=value overrides for the training run
#
# Steps: install the fortune packages if missing; build if needed; prepare SentencePiece
# (BPE, 4096 tokens) shards in data/fortunes-sp4096 (once); train configs/small.yaml into
# runs/small (resuming if it was interrupted); print a generated sample.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[quickstart] %s\n' "$*"; }
BIN=build/release/switchyard
DATA=data/fortunes-sp4096

FORTUNES=(fortunes fortunes-de fortunes-it fortunes-es fortunes-ru fortunes-pl fortunes-cs)
missing=()
for p in "${FORTUNES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
  log "installing the fortune corpora: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ ! -x "$BIN" ]]; then
  log "building (launch/setup.sh)"
  launch/setup.sh
fi

if [[ ! -f "$DATA/train.bin" ]]; then
  log "preparing $DATA: SentencePiece BPE, 4096 tokens (about 20 s)"
  "$BIN" prep --fortunes --out "$DATA" --tokenizer sentencepiece --vocab-size 4096
fi

log "training configs/small.yaml (metrics: runs/small/metrics.jsonl)"
"$BIN" train configs/small.yaml "$@"

log "a sample from the trained model:"
"$BIN" generate --checkpoint runs/small --max-new-tokens 120 --temperature 0.8 --seed 7
