#!/usr/bin/env bash
# End-to-end checks of the switchyard binary's command line: help, version, exit codes.
#   usage: cli_test.sh PATH/TO/switchyard
set -uo pipefail
BIN="$1"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

expect help 0 "usage: switchyard" -- "$BIN" --help
expect version 0 "^switchyard [0-9]+\.[0-9]+\.[0-9]+" -- "$BIN" --version
expect info 0 "openmp threads: [0-9]+" -- "$BIN" info
expect info_help 0 "usage: switchyard info" -- "$BIN" info --help
expect no_command 2 "usage: switchyard" -- "$BIN"
expect unknown_command 2 "unknown command 'frobnicate'" -- "$BIN" frobnicate
expect unknown_option 2 "unknown option '--bogus'" -- "$BIN" info --bogus

summary
