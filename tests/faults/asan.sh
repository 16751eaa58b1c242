#!/bin/sh
# make check-asan: the product built with AddressSanitizer, UndefinedBehavior-
# Sanitizer and LeakSanitizer (glibc, build-asan/), through the tests where a
# memory bug would hide best: every bad image of the matrix, the fuzz seeds'
# path, the 500-checkpoint endurance run (each worker is leak-checked as it
# exits), restores failing partway, periodic checkpoints killed at random.
#
#   tests/faults/asan.sh ASAN_BIN_DIR BUILD_DIR
#
# Every sanitizer report goes to a file (log_path); any report fails the run.
# Ends with "N passed, N failed" like the other scripts.
cd "$(dirname "$0")/../.." || exit 2
[ $# = 2 ] || { echo "usage: $0 ASAN_BIN_DIR BUILD_DIR" >&2; exit 2; }
A=$(cd "$1" && pwd) || exit 2
B=$(cd "$2" && pwd) || exit 2
LOGS=$(mktemp -d /tmp/chkpt-asan.XXXXXX) || exit 2
export ASAN_OPTIONS="detect_leaks=1:log_path=$LOGS/asan:handle_segv=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$LOGS/ubsan"
export LSAN_OPTIONS="log_path=$LOGS/lsan"
# glibc registers an rseq area for rstrt's thread, which a new process inherits
# at clone3 and the kernel keeps writing to; rstrt unmaps that memory while it
# rebuilds the process, and the next write kills it. The product (musl) never
# registers one; this glibc test build is told not to either.
export GLIBC_TUNABLES=glibc.pthread.rseq=0
passed=0 failed=0
for s in badimg endurance restorefail periodic; do
	# ASan holds freed memory in quarantine, which would read as growth in the
	# endurance run's memory check; leaks are LeakSanitizer's job there.
	q=
	[ "$s" = endurance ] && q=:quarantine_size_mb=0:thread_local_quarantine_size_kb=0
	ASAN_OPTIONS="$ASAN_OPTIONS$q" sh "tests/faults/$s.sh" "$A" "$B/e2e" "$B/faults" 2>&1 | tee "$LOGS/$s.log"
	c=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1 \2/p' "$LOGS/$s.log" | tail -n 1)
	if [ -z "$c" ]; then
		echo "FAIL $s: no summary line"
		failed=$((failed + 1))
		continue
	fi
	set -- $c
	passed=$((passed + $1))
	failed=$((failed + $2))
done
reports=$(ls "$LOGS" | grep -E '^(asan|ubsan|lsan)\.')
if [ -n "$reports" ]; then
	for r in $reports; do
		echo "FAIL sanitizer report $r:"
		head -n 40 "$LOGS/$r"
	done
	failed=$((failed + 1))
	echo "reports kept in $LOGS"
else
	echo "PASS no sanitizer reports"
	passed=$((passed + 1))
	rm -rf "$LOGS"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
