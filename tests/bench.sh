#!/bin/sh
# make bench: the budgets of docs/BUDGETS.md, each printed as a measurement, the
# limit measured or fixed for this run, and their ratio. Timings are reported,
# never asserted.
set -u
B=${B:-build}
# Under a child subreaper that passes on only fds 0-2 (tests/e2e/targets/reaper.c):
# a target must not inherit a pipe of whoever ran make (chkpt would refuse it),
# and restored processes are reaped at once.
[ -z "${BENCH_REAPED:-}" ] && BENCH_REAPED=1 exec "$B/e2e/reaper" /bin/sh "$0" "$@"
T=$(mktemp -d /tmp/chkpt-bench.XXXXXX)
trap 'kill -9 $TPID 2>/dev/null; rm -rf "$T"' EXIT
TPID=
mkdir -p "$B/bench"
cc -O2 -o "$B/bench/maxrss" tests/bench/maxrss.c
cc -O2 -o "$B/bench/memcpy_rate" tests/bench/memcpy_rate.c

now_ns() { date +%s%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# tree_pss PID: proportional memory (Pss, KiB; smaps_rollup) of PID and its
# descendants: pages shared copy-on-write count once among their holders.
tree_pids() { echo "$1"; for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree_pids "$c"; done; }
tree_pss() {
  for p in $(tree_pids "$1"); do cat "/proc/$p/smaps_rollup" 2>/dev/null; done | awk '$1 == "Pss:" { s += $2 } END { print s + 0 }'
}
wait_log() { i=0; while ! grep -q "$2" "$1" 2>/dev/null; do i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.05; done; }

size=$(stat -c %s "$B/chkpt")
echo "binary_size_bytes $size limit 262144 ratio $(ratio "$size" 262144)"
# libchkpt (docs/API.md): the archive, and what it adds to a minimal static
# program (tests/bench/api_minimal.c, stripped).
echo "libchkpt_a_bytes $(stat -c %s "$B/libchkpt.a") (musl), $(stat -c %s "$B/glibc/libchkpt.a") (glibc)"
echo "libchkpt_program_bytes $(stat -c %s "$B/bench/api_minimal") without_lib $(stat -c %s "$B/bench/api_minimal.nolib")"

memcpy=$("$B/bench/memcpy_rate" 256 | awk '{print $2}')
echo "memcpy_mbps $memcpy (yardstick, this run)"

# bench_set LABEL VERIFIERS [VAR=VALUE...]: checkpoint (--kill) and restore
# (-d) the 256 MiB checksum program started with the given environment, as
# one process, a tree or a multi-threaded process; VERIFIERS processes must
# each log "verify ok" afterwards. Prints LABEL_dump_mbps and LABEL_restore_mbps.
bench_set() {
  label=$1 verifiers=$2
  shift 2
  rm -f "$T/log" "$T/img"
  env "$@" "$B/e2e/memsum" 256 "$T/log" </dev/null >/dev/null 2>&1 &
  TPID=$!
  wait_log "$T/log" "^ready" || { echo "bench: memsum ($label) did not start"; exit 1; }
  sleep 0.5  # children and threads are up
  pss0=$(tree_pss "$TPID")
  t0=$(now_ns)
  "$B/bench/maxrss" "$B/chkpt" --kill -o "$T/img" "$TPID" 2>"$T/rss" || { cat "$T/rss"; exit 1; }
  t1=$(now_ns)
  wait "$TPID" 2>/dev/null
  rss=$(awk '/maxrss_kib/ {print $2}' "$T/rss")
  img=$(stat -c %s "$T/img")
  echo "${label}_image_mib $(awk -v b="$img" 'BEGIN { printf "%.1f", b / 1048576 }')"
  dump=$(awk -v b="$img" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", b / 1048576 / (ns / 1e9) }')
  echo "${label}_dump_mbps $dump memcpy_mbps $memcpy ratio $(ratio "$dump" "$memcpy")"
  sleep 2.5  # killed children are orphans: let init reap them, so their PIDs are free
  t0=$(now_ns)
  TPID=$("$B/rstrt" -d "$T/img") || exit 1
  t1=$(now_ns)
  rest=$(awk -v b="$img" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", b / 1048576 / (ns / 1e9) }')
  echo "${label}_restore_mbps $rest memcpy_mbps $memcpy ratio $(ratio "$rest" "$memcpy")"
  pss1=$(tree_pss "$TPID")  # copy-on-write sharing rebuilt: the same as before
  echo "${label}_restored_pss_kib $pss1 original $pss0 ratio $(ratio "$pss1" "$pss0")"
  kill -USR2 "$TPID"
  i=0
  while [ "$(grep -c 'verify' "$T/log")" -lt "$verifiers" ]; do
    i=$((i + 1))
    [ $i -gt 600 ] && { echo "bench: restored memsum ($label) did not verify"; exit 1; }
    sleep 0.05
  done
  [ "$(grep -c 'verify ok' "$T/log")" = "$verifiers" ] || { echo "bench: $label: $(grep verify "$T/log")"; exit 1; }
  echo "${label}_restored_verify ok"
}

# one process at 1, 64, 256 (and with BENCH_1G=1, 1024) MiB and a tiny one,
# beside CRIU when it works here and the physical limits, with peak RSS
sh tests/bench/sizes.sh "$B" || exit 1
bench_set tree4 4 MEMSUM_FORKS=3
bench_set threads8 1 MEMSUM_THREADS=7
sh tests/bench/compress.sh "$B"  # chkpt --compress: size, to tmpfs and to a 10 MB/s sink
sh tests/migrate/bench.sh "$B"  # migration downtime and rate vs TCP, two namespaces
