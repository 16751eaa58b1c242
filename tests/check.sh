#!/bin/sh
# make check: doctest unit tests, then the end-to-end suite with the static
# musl and the dynamic glibc targets, then streams and migration
# (tests/migrate). Ends with one combined line "N passed, N failed" (unit
# test cases + e2e tests + libchkpt tests + migrate tests); exit 1 if any failed.
#
#   tests/check.sh [BUILD_DIR]     (default: build)
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
mkdir -p "$B"
passed=0
failed=0

# add_counts LOG: add the last "N passed, N failed" line of LOG to the totals;
# a run that did not get as far as printing one counts as one failure.
add_counts() {
	_c=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1 \2/p' "$1" | tail -n 1)
	if [ -z "$_c" ]; then
		echo "FAIL $2: no summary line"
		failed=$((failed + 1))
		return
	fi
	set -- $_c
	passed=$((passed + $1))
	failed=$((failed + $2))
}

if [ -x "$B/unit" ]; then
	"$B/unit" >"$B/unit.log" 2>&1
	rc=$?
	cat "$B/unit.log"
	# [doctest] test cases: 12 | 12 passed | 0 failed | 0 skipped
	sed -n 's/^\[doctest\] test cases: *[0-9]* *| *\([0-9]*\) passed *| *\([0-9]*\) failed.*/\1 passed, \2 failed/p' \
		"$B/unit.log" >"$B/unit.sum"
	[ -s "$B/unit.sum" ] && echo "doctest: $(cat "$B/unit.sum")"
	add_counts "$B/unit.sum" unit
	if [ "$rc" != 0 ] && [ "$(sed 's/.*, //' "$B/unit.sum" 2>/dev/null)" = "0 failed" ]; then
		echo "FAIL unit: $B/unit exited $rc"
		failed=$((failed + 1))
	fi
else
	echo "FAIL unit: $B/unit not built (make $B/unit)"
	failed=$((failed + 1))
fi

for v in musl glibc; do
	sh tests/e2e/run.sh "$B" "$B/e2e" $v 2>&1 | tee "$B/e2e-$v.log"
	add_counts "$B/e2e-$v.log" "e2e $v"
done

# libchkpt (docs/API.md): its C programs, static musl and dynamic glibc.
for v in musl glibc; do
	sh tests/api/run.sh "$B" "$B/api" "$B/e2e" $v 2>&1 | tee "$B/api-$v.log"
	add_counts "$B/api-$v.log" "api $v"
done

# Streams (pty, socket, FIFO) and migration between two network+PID namespaces.
for m in streams run; do
	sh tests/migrate/$m.sh "$B" 2>&1 | tee "$B/migrate-$m.log"
	add_counts "$B/migrate-$m.log" "migrate $m"
done

# Robustness (docs/ROBUSTNESS.md): bad images, a 20 s fuzz smoke, chkpt killed
# 100 times, out of space, restores failing partway, periodic generations and
# power cuts, rights, trusted directories, 500 checkpoints in a row; make
# install / uninstall, the man pages (lint, man -l) and chkpt --install; the
# Buildroot and Yocto recipes' make commands (contrib/, cross-built for aarch64).
for s in badimg crafted kill nospace restorefail periodic rights trust endurance install packaging; do
	sh tests/faults/$s.sh "$B" 2>&1 | tee "$B/faults-$s.log"
	add_counts "$B/faults-$s.log" "faults $s"
done
# The README's first command, under a parent that leaked a pipe fd (fd 7 is
# the pipe to cat here): the demo must cope, as under a CI runner.
{ B=$B sh scripts/demo.sh 7>&1 >"$B/demo.log" 2>&1; echo $? >"$B/demo.rc"; } | cat
if [ "$(cat "$B/demo.rc")" = 0 ]; then
	echo "PASS demo (with a leaked pipe fd)"
	echo "1 passed, 0 failed" >"$B/demo.sum"
else
	echo "FAIL demo (with a leaked pipe fd): $(tail -n 3 "$B/demo.log" | tr '\n' '|')"
	echo "0 passed, 1 failed" >"$B/demo.sum"
fi
add_counts "$B/demo.sum" demo
sh tests/fuzz/run.sh "$B" 20 2>&1 | tee "$B/fuzz.log"
add_counts "$B/fuzz.log" "fuzz smoke"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
