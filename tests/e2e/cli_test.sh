#!/usr/bin/env bash
# End-to-end checks of the switchyard binary's command line: help, version, exit codes.
#   usage: cli_test.sh PATH/TO/switchyard
set -uo pipefail
BIN="$1"
failures=0

expect() {  # expect NAME WANT_CODE PATTERN -- CMD...
  local name="$1" want="$2" pattern="$3"
  shift 4
  local out code
  out="$("$@" 2>&1)"
  code=$?
  if [[ "$code" -ne "$want" ]]; then
    echo "FAIL ${name}: exit code ${code}, expected ${want}; output: ${out}"
    failures=$((failures + 1))
  elif ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL ${name}: output does not match /${pattern}/: ${out}"
    failures=$((failures + 1))
  else
    echo "ok   ${name}"
  fi
}

expect help 0 "usage: switchyard" -- "$BIN" --help
expect version 0 "^switchyard [0-9]+\.[0-9]+\.[0-9]+" -- "$BIN" --version
expect info 0 "openmp threads: [0-9]+" -- "$BIN" info
expect info_help 0 "usage: switchyard info" -- "$BIN" info --help
expect no_command 2 "usage: switchyard" -- "$BIN"
expect unknown_command 2 "unknown command 'frobnicate'" -- "$BIN" frobnicate
expect unknown_option 2 "unknown option '--bogus'" -- "$BIN" info --bogus

echo "$((7 - failures)) passed, ${failures} failed"
[[ "$failures" -eq 0 ]]
