#!/bin/sh
# make bench, migration part (called by tests/bench.sh): between the two
# simulated hosts of tests/migrate/lib.sh, in the same run,
#  - raw TCP throughput A -> B (256 MiB, nettool blast/sink), the yardstick;
#  - one core's HMAC-SHA256 rate over 64 KiB frames (what every image byte
#    costs on each side);
#  - the same program sent through a plain pipe, `chkpt --kill -o - | rstrt
#    -d -` from A's PID namespace into B's: what dump and restore cost without
#    the network and the MACs, the floor for migrate (rated by the size of
#    migrate's image of the same program);
#  - migrate of the 256 MiB checksum program A -> B: time frozen (the source
#    is stopped from the freeze until the destination confirmed the restored
#    process: the downtime) and image bytes over that time; the migrated
#    program verifies its memory on B.
# Timings are reported, never asserted.
#
#   tests/migrate/bench.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
BIN=$(cd "$B" 2>/dev/null && pwd) || { echo "bench: no build directory $B"; exit 1; }
TD=$BIN/e2e
. tests/migrate/lib.sh
under_reaper chkpt-migbench "$0" "$@" || exit 1
set -u
trap 'mig_teardown; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
bench_fail() { echo "bench: migrate: $*"; exit 1; }
build_nettool "$B" || bench_fail "cannot build nettool"
mig_setup || bench_fail "cannot create the two hosts"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

in_b "$NETTOOL" sink "$ADDR_B:7460" >"$T/sink" &
_s=$!
sleep 0.3
in_a "$NETTOOL" blast "$ADDR_B:7460" 256 || bench_fail "raw TCP transfer failed"
wait $_s
tcp=$(awk '{ printf "%.0f", $2 / 1048576 / $4 }' "$T/sink")
echo "tcp_mbps $tcp (yardstick: veth between the namespaces, this run)"
hmac=$("$NETTOOL" hmac 256 | awk '{ print $2 }')
echo "hmac_mbps $hmac tcp_mbps $tcp ratio $(ratio "$hmac" "$tcp")"

start_at in_a 1100 "$TD/memsum" 256 "$T/plog" && poll 30 has_line "$T/plog" ready || bench_fail "memsum did not start"
t0=$(date +%s%N)
in_a "$BIN/chkpt" --kill -o - 1100 | in_b "$BIN/rstrt" -d - >/dev/null || bench_fail "chkpt | rstrt failed"
t1=$(date +%s%N)
verify in_b 1100 "$T/plog" || bench_fail "memsum did not verify after the pipe: $(cat "$T/plog")"
pipe_ns=$((t1 - t0))

new_key "$T/key"
in_b "$BIN/restartd" --key "$T/key" --listen "$ADDR_B" </dev/null 2>"$T/restartd.log" &
poll 10 has_line "$T/restartd.log" "listening on" || bench_fail "restartd did not start"
start_at in_a 1000 "$TD/memsum" 256 "$T/log" && poll 30 has_line "$T/log" ready || bench_fail "memsum did not start"
in_a "$BIN/migrate" --key "$T/key" 1000 "$ADDR_B" >"$T/out" 2>"$T/err" || bench_fail "$(cat "$T/err")"
# "PID 1000 migrated to 10.77.0.2: 260.4 MiB, frozen 3.358 s"
mib=$(sed -n 's/.*: \([0-9.]*\) MiB, frozen .*/\1/p' "$T/out")
secs=$(sed -n 's/.*, frozen \([0-9.]*\) s$/\1/p' "$T/out")
rate=$(awk -v m="$mib" -v s="$secs" 'BEGIN { printf "%.0f", m / s }')
echo "migrate_image_mib $mib"
echo "migrate_downtime_s $secs"
echo "migrate_mbps $rate tcp_mbps $tcp ratio $(ratio "$rate" "$tcp")"
echo "migrate_mbps $rate hmac_mbps $hmac ratio $(ratio "$rate" "$hmac")"
# The piped image is the same program's, of the same size as migrate reported.
pipe=$(awk -v m="$mib" -v ns="$pipe_ns" 'BEGIN { printf "%.0f", m / (ns / 1e9) }')
echo "migrate_mbps $rate pipe_mbps $pipe ratio $(ratio "$rate" "$pipe")"
verify in_b 1000 "$T/log" || bench_fail "the migrated memsum did not verify: $(cat "$T/log")"
echo "migrate_restored_verify ok"
