#!/bin/sh
# chkpt --compress (docs/BUDGETS.md): image size, dump and restore time with
# and without it, to a file on tmpfs and through a slow sink (a pipe read at
# BENCH_SINK_MBPS MB/s, default 10: a serial line, a thin link, slow flash),
# for a program whose memory is what a heap holds (memsum: BENCH_RANDOM_MIB
# of random words, default 16, and BENCH_MIXED_MIB, default 48, of text,
# small structs and zeros). Figures are printed, never asserted; every
# restored program verifies its memory.
#
#   sh tests/bench/compress.sh [BUILD_DIR]     (make bench runs it)
set -u
B=${1:-build}
[ -z "${BENCH_REAPED:-}" ] && BENCH_REAPED=1 exec "$B/e2e/reaper" /bin/sh "$0" "$@"
RANDOM_MIB=${BENCH_RANDOM_MIB:-16} MIXED_MIB=${BENCH_MIXED_MIB:-48} SINK=${BENCH_SINK_MBPS:-10}
T=$(mktemp -d /dev/shm/chkpt-bench-z.XXXXXX 2>/dev/null || mktemp -d /tmp/chkpt-bench-z.XXXXXX)
TPID=
trap 'kill -9 $TPID 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$B/bench"
cc -O2 -o "$B/bench/slowread" tests/bench/slowread.c || exit 1

now_ns() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
count() { _c=$(grep -c "$2" "$1" 2>/dev/null); echo "${_c:-0}"; }
wait_log() { i=0; while [ "$(count "$1" "$2")" -lt "${3:-1}" ]; do i=$((i + 1)); [ $i -gt 1200 ] && return 1; sleep 0.05; done; }

MEMSUM_MIXED=$MIXED_MIB "$B/e2e/memsum" "$RANDOM_MIB" "$T/log" </dev/null >/dev/null 2>&1 &
TPID=$!
wait_log "$T/log" "^ready" || { echo "compress: memsum did not start"; exit 1; }
echo "compress_workload random_mib $RANDOM_MIB mixed_mib $MIXED_MIB (+ memsum's sparse, heap, file pages)"

# The program keeps running (chkpt's default), so every variant saves the same memory.
for v in plain lz4; do
  opt=; [ $v = lz4 ] && opt=--compress
  t0=$(now_ns)
  "$B/chkpt" $opt -o "$T/$v.img" "$TPID" || exit 1
  t1=$(now_ns)
  eval "size_$v=$(stat -c %s "$T/$v.img") file_ms_$v=$(ms "$t0" "$t1")"
  t0=$(now_ns)
  "$B/chkpt" $opt -o - "$TPID" | "$B/bench/slowread" "$SINK" 2>/dev/null || exit 1
  t1=$(now_ns)
  eval "sink_ms_$v=$(ms "$t0" "$t1")"
done
kill -9 "$TPID"
wait "$TPID" 2>/dev/null
echo "compress_image_mib $(mib "$size_lz4") plain $(mib "$size_plain") ratio $(ratio "$size_lz4" "$size_plain")"
echo "compress_dump_tmpfs_ms $file_ms_lz4 plain $file_ms_plain ratio $(ratio "$file_ms_lz4" "$file_ms_plain")"
echo "compress_dump_sink_${SINK}mbps_ms $sink_ms_lz4 plain $sink_ms_plain ratio $(ratio "$sink_ms_lz4" "$sink_ms_plain")"

n=0
for v in plain lz4; do
  sleep 0.5
  t0=$(now_ns)
  TPID=$("$B/rstrt" -d "$T/$v.img") || exit 1
  t1=$(now_ns)
  eval "rest_ms_$v=$(ms "$t0" "$t1")"
  n=$((n + 1))
  kill -USR2 "$TPID"
  wait_log "$T/log" "^verify" "$n" || { echo "compress: restored memsum ($v) did not verify"; exit 1; }
  [ "$(grep -c 'verify ok' "$T/log")" = "$n" ] || { echo "compress: $v: $(grep verify "$T/log" | tail -n 1)"; exit 1; }
  i=0; while [ -d "/proc/$TPID" ] && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
done
echo "compress_restore_tmpfs_ms $rest_ms_lz4 plain $rest_ms_plain ratio $(ratio "$rest_ms_lz4" "$rest_ms_plain")"
echo "compress_restored_verify ok"
