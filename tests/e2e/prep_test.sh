#!/usr/bin/env bash
# End-to-end checks of `switchyard prep`: the fortune corpus with the byte tokenizer (outputs and
# header words), and the exit codes for a missing input (3) and a bad option (2).
#   usage: prep_test.sh PATH/TO/switchyard
set -uo pipefail
BIN="$1"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

# int32 header word N of a shard, little-endian.
word() { od -A n -t d4 -j $(($2 * 4)) -N 4 "$1" | tr -d ' '; }

expect help 0 "usage: switchyard prep" -- "$BIN" prep --help
expect missing_input 3 "/nonexistent" -- "$BIN" prep --input /nonexistent --out "$TMP/x"
expect bad_option 2 "unknown option '--bogus'" -- "$BIN" prep --bogus --out "$TMP/x"
expect bad_number 2 "--vocab-size" -- "$BIN" prep --input /dev/null --out "$TMP/x" \
  --vocab-size lots

if [[ -d /usr/share/games/fortunes ]]; then
  OUT="$TMP/fortunes"
  if out="$("$BIN" prep --fortunes --out "$OUT" --tokenizer byte 2>&1)"; then
    ok "prep_fortunes"
    echo "$out"
    for f in train.bin val.bin documents.tsv prep.json; do
      [[ -s "$OUT/$f" ]] && ok "exists_$f" || fail "missing or empty: $OUT/$f"
    done
    for shard in train.bin val.bin; do
      magic="$(word "$OUT/$shard" 0)" version="$(word "$OUT/$shard" 1)"
      count="$(word "$OUT/$shard" 2)" marker="$(word "$OUT/$shard" 8)"
      vocab="$(word "$OUT/$shard" 9)" eot="$(word "$OUT/$shard" 10)"
      size="$(stat -c %s "$OUT/$shard")"
      if [[ "$magic" == 20240520 && "$version" == 1 && "$marker" == 1398359089 &&
            "$vocab" == 260 && "$eot" == 256 && "$count" -gt 0 &&
            "$size" == $((1024 + 2 * count)) ]]; then
        ok "header_$shard"
      else
        fail "header_$shard: magic $magic version $version count $count marker $marker" \
             "vocab $vocab eot $eot size $size"
      fi
    done
    rows="$(($(wc -l <"$OUT/documents.tsv") - 1))"
    langs="$(cut -f3 "$OUT/documents.tsv" | tail -n +2 | sort -u | tr '\n' ' ')"
    if [[ "$rows" -gt 1000 && "$langs" == *en* && "$langs" == *de* && "$langs" == *ru* ]]; then
      ok "documents_tsv ($rows documents; languages: $langs)"
    else
      fail "documents_tsv: $rows rows, languages: $langs"
    fi
    grep -q '"tokenizer": "byte"' "$OUT/prep.json" && ok "prep_json" || fail "prep_json"
  else
    fail "prep_fortunes: $out"
  fi
else
  echo "skip prep_fortunes: /usr/share/games/fortunes is not installed"
fi

summary
