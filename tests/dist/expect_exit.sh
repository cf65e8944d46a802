#!/usr/bin/env bash
# Runs a command and succeeds only when it exits with the expected code.
#   expect_exit.sh CODE COMMAND [ARGS...]
expected=$1
shift
"$@"
rc=$?
if [[ $rc -ne $expected ]]; then
  echo "expect_exit: '$*' exited with $rc, expected $expected" >&2
  exit 1
fi
echo "expect_exit: exited with $rc as expected"
