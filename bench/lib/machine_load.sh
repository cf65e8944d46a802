# How busy the machine is, for the benchmark scripts (sourced): a benchmark waits for a quiet
# machine and reports how much CPU other processes took during each run.
#   cpu_busy_pct                 busy share of all CPUs over 3 s, in percent (/proc/stat)
#   wait_quiet WHAT              waits (up to WAIT_QUIET seconds; 0 = not at all) until under 10%
#   busy_jiffies                 all CPUs' busy time so far, in clock ticks
#   others_pct B0 B1 TIME_FILE   % of all CPUs (CPUS, default every CPU) that processes other than
#                                the one GNU time measured (TIME_FILE, `time -v`) used between
#                                busy_jiffies readings B0 and B1
# shellcheck shell=bash

cpu_busy_pct() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  sleep 3
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  echo "$a $b" | awk '{d = $4 - $2; printf "%d\n", (d > 0 ? 100 * ($3 - $1) / d : 0)}'
}

wait_quiet() {
  (( ${WAIT_QUIET:-0} > 0 )) || return 0
  local start=$SECONDS busy
  while busy=$(cpu_busy_pct); (( busy >= 10 )); do
    if (( SECONDS - start >= WAIT_QUIET )); then
      echo "   (not quiet after ${WAIT_QUIET}s, ${busy}% busy: running $1 anyway)" >&2; return 0
    fi
  done
  echo "   (quiet: ${busy}% busy, waited $((SECONDS - start))s)" >&2
}

busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }

# GNU nproc honours OMP_NUM_THREADS, hence env -u. Under mpirun the local ranks are mpirun's
# children, so GNU time's user + system time covers them.
others_pct() {
  local cpus="${CPUS:-$(env -u OMP_NUM_THREADS nproc)}"
  awk -F': ' -v b0="$1" -v b1="$2" -v hz="$(getconf CLK_TCK)" -v n="$cpus" '
    /User time/ {u = $2} /System time/ {s = $2}
    /Elapsed/ {k = split($2, p, ":"); e = k == 3 ? p[1] * 3600 + p[2] * 60 + p[3] : p[1] * 60 + p[2]}
    END {o = (b1 - b0) / hz - u - s; printf "%.0f\n", (o > 0 ? 100 * o / (n * e) : 0)}' "$3"
}
