# Helpers shared by the end-to-end scripts, which source this file first:
#   source "$(dirname "$0")/lib.sh"
# Each check prints "ok   NAME" or "FAIL NAME[: why]" and is counted; a script ends with `summary`.
# shellcheck shell=bash

passed=0
failures=0

ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

check() {  # check NAME STATUS: passes when STATUS (a condition's exit code, e.g. $?) is 0
  if [[ "$2" -eq 0 ]]; then ok "$1"; else fail "$1"; fi
}

expect() {  # expect NAME WANT_CODE PATTERN -- CMD...: CMD exits WANT_CODE, its output matches
  local name="$1" want="$2" pattern="$3"
  shift 4
  local out code
  out="$("$@" 2>&1)"
  code=$?
  if [[ "$code" -ne "$want" ]]; then
    fail "${name}: exit code ${code}, expected ${want}; output: ${out}"
  elif ! grep -qE -- "$pattern" <<<"$out"; then
    fail "${name}: output does not match /${pattern}/: ${out}"
  else
    ok "$name"
  fi
}

setup_fortunes() {  # setup_fortunes BIN [ON_EXIT]: sets TMP to a fresh folder, removed at exit
  # (after running the command ON_EXIT, when given), and prepares the byte-level fortunes in
  # $TMP/data (train.bin, val.bin), a check named "prep"
  TMP="$(mktemp -d)"
  # shellcheck disable=SC2064  # expand ON_EXIT now; TMP is expanded at exit
  trap "${2:+$2; }"'rm -rf "$TMP"' EXIT
  "$1" prep --fortunes --out "$TMP/data" --tokenizer byte >/dev/null
  check prep $?
}

summary() {  # prints "N passed, M failed"; succeeds when nothing failed (a script's last command)
  echo "${passed} passed, ${failures} failed"
  [[ "$failures" -eq 0 ]]
}
