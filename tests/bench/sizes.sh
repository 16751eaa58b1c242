#!/bin/sh
# make bench, sizes part (called by tests/bench.sh): checkpoint (--kill) and
# restore (-d) of one process at several sizes, side by side with CRIU when it
# works here, against the physical limits measured in the same run.
#
#   tests/bench/sizes.sh [BUILD_DIR]
#   BENCH_SIZES="1 64 256"   MiB of dense memory (build/e2e/memsum; it also has
#                            a 64 MiB sparse region, a heap and a file mapping)
#   BENCH_1G=1               add 1024 MiB (about a minute more)
#   BENCH_RUNS=5             runs per size (medians are printed; default 5)
#   BENCH_DIR=/dev/shm       where images go (tmpfs: measures the tools, not a disk)
#   CRIU=/path/to/criu       CRIU to compare with (default: criu on PATH)
#   BENCH_BASE=DIR           also run the chkpt built in DIR (e.g. an earlier
#                            commit's build/), as tool "base": before/after in one run
#
# Per size and tool, lines "LABEL_TOOL_dump_s MEDIAN min MIN max MAX cpu_s
# MEDIAN_CPU" (and restore; CPU time is user + system of the tool and its
# helpers: above the wall time when two CPUs worked at once), then ratios: to the limit of that size measured now
# (tests/bench/limits.c: reading the memory through /proc/PID/mem plus writing
# a tmpfs file once, and reading the file plus writing fresh memory through
# /proc/PID/mem), and chkpt's time over CRIU's. Runs alternate between the two
# tools, so both see the same noise. The "tiny" label is build/e2e/idle (a few
# pages). Every restored process verifies every byte of its memory; a failure
# stops the bench. Timings are reported, never asserted.
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
BIN=$(cd "$B" 2>/dev/null && pwd) || { echo "bench: no build directory $B"; exit 1; }
TD=$BIN/e2e
# A child subreaper reaps each restored process at once, so its PID is free
# for the next run (tests/e2e/targets/reaper.c).
[ -z "${BENCH_REAPED:-}" ] && BENCH_REAPED=1 exec "$TD/reaper" /bin/sh "$0" "$@"
set -u
SIZES=${BENCH_SIZES:-1 64 256}
[ "${BENCH_1G:-0}" = 1 ] && SIZES="$SIZES 1024"
RUNS=${BENCH_RUNS:-5}
D=$(mktemp -d "${BENCH_DIR:-/dev/shm}/chkpt-sizes.XXXXXX") || exit 1
TPID=
trap '[ -n "$TPID" ] && kill -9 $TPID 2>/dev/null; rm -rf "$D"' EXIT
trap 'exit 1' INT TERM
mkdir -p "$B/bench"
cc -O2 -o "$B/bench/maxrss" tests/bench/maxrss.c || exit 1
cc -O2 -o "$B/bench/limits" tests/bench/limits.c || exit 1
bfail() { echo "bench: $*"; exit 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
wait_log() { i=0; while ! grep -q "$2" "$1" 2>/dev/null; do i=$((i + 1)); [ $i -gt 1200 ] && return 1; sleep 0.02; done; }
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$2" | tail -n 1; }
# stats FILE: "MEDIAN min MIN max MAX" of the numbers in FILE, one per line
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
  printf "%.4f min %.4f max %.4f", m, v[1], v[NR] }'; }
median() { stats "$1" | cut -d' ' -f1; }

# Does CRIU work on this kernel? (`criu check` fails on kernels it does not
# know, e.g. CRIU 3.17 on Linux >= 6.13, whose vvar is split in two.)
CRIU=${CRIU:-$(command -v criu || true)}
if [ -z "$CRIU" ]; then
	echo "criu: not installed (Debian: apt-get install criu; or CRIU=/path/to/criu): comparing with the physical limits only"
elif ! "$CRIU" check >"$D/criu-check" 2>&1; then
	echo "criu: $("$CRIU" --version 2>/dev/null | head -n 1) does not work on this kernel ($(uname -r)): $(grep -i error "$D/criu-check" | sed -n 2p)"
	echo "criu: comparing with the physical limits only"
	CRIU=
else
	echo "criu: $("$CRIU" --version | head -n 1) at $CRIU"
fi

# start LABEL: the target for LABEL, in its own session (CRIU wants no
# outside session or terminal), logging to $D/log; sets TPID.
start() {
	rm -f "$D/log" "$D/log.dat"
	if [ "$1" = tiny ]; then setsid "$TD/idle" "$D/log" </dev/null >/dev/null 2>&1 &
	else setsid "$TD/memsum" "$1" "$D/log" </dev/null >/dev/null 2>&1 &
	fi
	TPID=$!
	wait_log "$D/log" "^ready" || bfail "target $1 did not start"
}

# verify LABEL PID: the restored process checks its memory.
verify() {
	kill -USR2 "$2"
	ok="verify ok"
	[ "$1" = tiny ] && ok="idle ok"
	wait_log "$D/log" "$ok" || bfail "$1: restored process did not verify: $(tail -n 1 "$D/log")"
	i=0
	while [ -d "/proc/$2" ]; do i=$((i + 1)); [ $i -gt 500 ] && bfail "$1: restored process did not exit"; sleep 0.02; done
}

# cycle TOOL LABEL: one checkpoint and restore; appends the wall times to
# $D/TOOL.LABEL.dump and .restore, chkpt's peak RSS to $D/rss.
cycle() {
	tool=$1 label=$2
	bin=$BIN
	[ "$tool" = base ] && bin=$BENCH_BASE
	start "$label"
	rm -rf "$D/img" "$D/criu"
	if [ "$tool" != criu ]; then
		"$B/bench/maxrss" "$bin/chkpt" --kill -o "$D/img" "$TPID" 2>"$D/err" || bfail "chkpt $label: $(cat "$D/err")"
	else
		mkdir "$D/criu"
		"$B/bench/maxrss" "$CRIU" dump -t "$TPID" -D "$D/criu" -o dump.log 2>"$D/err" ||
			bfail "criu dump $label: $(cat "$D/err"; tail -n 3 "$D/criu/dump.log")"
	fi
	field wall_s "$D/err" >>"$D/$tool.$label.dump"
	field cpu_s "$D/err" >>"$D/$tool.$label.dump.cpu"
	[ "$tool" != criu ] && echo "$label $(field maxrss_kib "$D/err")" >>"$D/rss.$tool"
	wait "$TPID" 2>/dev/null
	TPID=
	if [ "$tool" != criu ]; then
		"$B/bench/maxrss" "$bin/rstrt" -d "$D/img" >"$D/pid" 2>"$D/err" || bfail "rstrt $label: $(cat "$D/err")"
		pid=$(head -n 1 "$D/pid")
	else
		"$B/bench/maxrss" "$CRIU" restore -D "$D/criu" -d --pidfile "$D/pid" -o restore.log 2>"$D/err" ||
			bfail "criu restore $label: $(cat "$D/err"; tail -n 3 "$D/criu/restore.log")"
		pid=$(cat "$D/pid")
	fi
	field wall_s "$D/err" >>"$D/$tool.$label.restore"
	field cpu_s "$D/err" >>"$D/$tool.$label.restore.cpu"
	verify "$label" "$pid"
}

tools=chkpt
[ -n "${BENCH_BASE:-}" ] && { BENCH_BASE=$(cd "$BENCH_BASE" && pwd) || exit 1; tools="$tools base"; }
[ -n "$CRIU" ] && tools="$tools criu"
for label in tiny $SIZES; do
	if [ "$label" != tiny ]; then
		"$B/bench/limits" "$label" "$D" >"$D/limits" || bfail "limits $label"
		echo "mem${label}_limits $(tr '\n' ' ' <"$D/limits")"
	fi
	n=0
	while [ $n -lt "$RUNS" ]; do
		for t in $tools; do cycle "$t" "$label"; done
		n=$((n + 1))
	done
	name=$label
	[ "$label" != tiny ] && name=mem$label
	for ph in dump restore; do
		line="${name}_chkpt_${ph}_s $(stats "$D/chkpt.$label.$ph") cpu_s $(median "$D/chkpt.$label.$ph.cpu")"
		[ "$label" != tiny ] && line="$line limit_s $(field ${ph}_limit_s "$D/limits") ratio $(ratio "$(median "$D/chkpt.$label.$ph")" "$(field ${ph}_limit_s "$D/limits")")"
		echo "$line"
		for t in $tools; do
			[ "$t" = chkpt ] && continue
			echo "${name}_${t}_${ph}_s $(stats "$D/$t.$label.$ph") cpu_s $(median "$D/$t.$label.$ph.cpu")"
			echo "${name}_chkpt_over_${t}_${ph} $(ratio "$(median "$D/chkpt.$label.$ph")" "$(median "$D/$t.$label.$ph")")"
		done
	done
	for t in $tools; do
		[ "$t" = criu ] && continue
		awk -v l="$label" '$1 == l { print $2 }' "$D/rss.$t" | sort -n >"$D/rss.$t.$label"
		echo "${name}_${t}_peak_rss_kib $(tail -n 1 "$D/rss.$t.$label") limit 2048"
	done
done
