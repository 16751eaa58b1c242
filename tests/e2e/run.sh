#!/bin/sh
# End-to-end tests: real target programs under chkpt -> kill -> rstrt.
#
#   tests/e2e/run.sh BIN_DIR TARGET_DIR [musl|glibc]
#
# BIN_DIR holds chkpt and rstrt, TARGET_DIR the targets built from
# tests/e2e/targets/*.c (NAME static musl, NAME.glibc dynamic glibc; the
# third argument picks which). Each target checks itself after the restore
# and logs or exits with its verdict; this script checks PIDs, files, exit
# statuses and the error paths. It prints PASS/FAIL/SKIP per test and ends
# with the line "N passed, N failed" (exit 1 if any failed).
#
# POSIX sh only: it also runs under busybox ash in the QEMU guests. Every
# wait is bounded, so a hung product fails a test instead of hanging the
# suite. The suite re-runs itself under TARGET_DIR/reaper, a child subreaper,
# so detached restored processes are reaped at once and report their exit
# status (see reaper.c).
#
# Environment: E2E_TESTS="simd maps" runs only those tests; E2E_KEEP=1 keeps
# the work dir even when all passed; E2E_SHELL is the shell to re-run under
# (default /bin/sh).

usage() { echo "usage: $0 BIN_DIR TARGET_DIR [musl|glibc]" >&2; exit 2; }
[ $# -ge 2 ] || usage
BIN=$(cd "$1" 2>/dev/null && pwd) || usage
TD=$(cd "$2" 2>/dev/null && pwd) || usage
VARIANT=${3:-musl}
case $VARIANT in
musl) SUF= ;;
glibc) SUF=.glibc ;;
*) usage ;;
esac

setup_fail() {
	echo "FAIL setup: $*"
	echo "0 passed, 1 failed"
	exit 1
}
[ -x "$BIN/chkpt" ] && [ -e "$BIN/rstrt" ] || setup_fail "$BIN/chkpt or $BIN/rstrt missing (make)"
[ -x "$TD/reaper" ] || setup_fail "$TD/reaper missing (make e2e-targets)"

if [ -z "${E2E_TMP:-}" ]; then
	E2E_TMP=$(mktemp -d /tmp/chkpt-e2e.XXXXXX) || setup_fail "mktemp failed"
	CHKPT_REAPER_LOG=$E2E_TMP/reaped
	export E2E_TMP CHKPT_REAPER_LOG
	exec "$TD/reaper" "${E2E_SHELL:-/bin/sh}" "$0" "$BIN" "$TD" "$VARIANT"
fi
T=$E2E_TMP
set -u

npass=0 nfail=0
pass() { VERDICT=1; npass=$((npass + 1)); echo "PASS $TEST"; }
fail() { VERDICT=1; nfail=$((nfail + 1)); echo "FAIL $TEST: $*"; }
skip() { VERDICT=1; echo "SKIP $TEST: $*"; }
. "$(dirname "$0")/lib.sh"  # need, pstate, alive, dead, gone, poll, reap, run

# --- processes -------------------------------------------------------------

# start NAME ARGS...: start target NAME in the test dir, stdio on files
# (pipes are not checkpointable yet); sets PID.
start() {
	_name=$1
	shift
	(cd "$D" && exec "$TD/$_name$SUF" "$@") </dev/null >"$D/$_name.out" 2>&1 &
	PID=$!
	STARTED="$STARTED $PID"
}

first_err() { tr '\n' '|' <"$D/err" | cut -c1-300; }
target_says() { cat "$D"/*.out 2>/dev/null | tr '\n' '|' | cut -c1-300; }

# Exit status of a detached restored process, from the reaper's log.
exit_status() { sed -n "s/^$1 //p" "$CHKPT_REAPER_LOG" 2>/dev/null | tail -n 1; }
reaped() { [ -n "$(exit_status "$1")" ]; }

# --- conditions for need (each sets WHY) -------------------------------------

# Every checkpoint of a test is audited (lib.sh: audit_before): the state of
# the set of the PID (the last argument) is captured first, and the restore
# helpers below compare the restored processes with it.
ckpt_ok() {
	for _last in "$@"; do :; done
	audit_before "$_last" "$D"
	run 120 /dev/null "$D/out" "$D/err" "$BIN/chkpt" "$@"
	WHY="chkpt $*: exit $RC$TO: $(first_err)"
	[ "$RC" = 0 ] && [ -z "$TO" ]
}

# rstrt -d [OPTION...] IMAGE must print the original PID.
restore_d() {
	run 120 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$@"
	WHY="rstrt -d: exit $RC$TO: $(first_err)"
	[ "$RC" = 0 ] && [ -z "$TO" ] || return 1
	WHY="rstrt -d printed '$(cat "$D/out")', want $PID"
	[ "$(cat "$D/out")" = "$PID" ] && audit_after "$D"
}

# Foreground rstrt ARGS... must exit 0 (the restored target's own verdict,
# whose reason is in its own output file).
# The audit runs once the set is back (every process with its threads and its
# name, none traced) while rstrt still waits for it; a set that is done
# before then is not audited (a note says so).
restore_fg() {
	"$BIN/rstrt" "$@" </dev/null >"$D/out" 2>"$D/err" &
	_rp=$!
	_audit=ok
	if [ -s "$D/audit.pids" ]; then
		poll 60 eval 'dead $_rp || restored_set'
		if alive "$_rp" && restored_set; then
			audit_after "$D" || _audit=$WHY
			# a set that ended meanwhile was captured half gone
			restored_set || { _audit=ok; echo "  $TEST: the restored set ended during the state audit"; }
		else
			echo "  $TEST: the restored set was gone before the state audit"
		fi
	fi
	TO=
	poll 120 dead "$_rp" || { TO=" (timed out after 120s)"; kill -KILL "$_rp" 2>/dev/null; }
	wait "$_rp"
	RC=$?
	WHY="rstrt $*: exit $RC$TO: $(first_err) $(target_says)"
	[ "$RC" = 0 ] && [ -z "$TO" ] || return 1
	WHY=$_audit
	[ "$_audit" = ok ]
}

# Every process of the audited set is restored and running on its own.
restored_set() {
	for _sp in $(cat "$D/audit.pids"); do
		grep -q "^$_sp zombie	" "$D/audit.1" && continue
		_want=$(sed -n "s|^$_sp/$_sp comm	||p" "$D/audit.1")
		[ "$(cat "/proc/$_sp/comm" 2>/dev/null)" = "$_want" ] || return 1
		_nt=$(sed -n "s|^$_sp/$_sp status Threads	||p" "$D/audit.1")
		[ "$(ls "/proc/$_sp/task" 2>/dev/null | wc -l)" = "${_nt:-1}" ] || return 1
		for _st in /proc/"$_sp"/task/*/status; do
			grep -q '^TracerPid:[[:space:]]*0$' "$_st" 2>/dev/null || return 1
		done
	done
}

in_state() {
	WHY="process $1 is in state '$(pstate "$1")', want $2"
	[ "$(pstate "$1")" = "$2" ]
}

lines() { wc -l 2>/dev/null <"$1" | tr -d ' '; }
lines_ge() { [ "$(lines "$1")" -ge "$2" ] 2>/dev/null; }
has_line() { grep -q "^$2" "$1" 2>/dev/null; }

# FILE holds exactly the lines 1..N.
counted() {
	seq 1 "$2" >"$D/expect"
	WHY="$1 is not 1..$2 ($(lines "$1") lines; $(cmp "$1" "$D/expect" 2>&1 | head -n 1))"
	cmp -s "$1" "$D/expect"
}

# The target logged "ready" to LOG within SECS.
ready() {
	poll "$1" has_line "$2" ready && return
	WHY="target not ready: $(target_says)"
	return 1
}

# The last line of LOG starts with WANT.
verdict() {
	WHY="$1 ends with '$(tail -n 1 "$1" 2>/dev/null)', want '$2'"
	tail -n 1 "$1" 2>/dev/null | grep -q "^$2"
}

exited_0() {
	WHY="restored $1 exited with '$(exit_status "$1")', want 0"
	[ "$(exit_status "$1")" = 0 ]
}

# A failed command: non-zero exit (not a crash or timeout), one stderr line.
clean_error() {
	WHY="$1 succeeded"
	[ "$RC" != 0 ] || return 1
	WHY="$1: exit $RC$TO (crash or hang, not a clean error): $(first_err)"
	[ "$RC" -lt 126 ] && [ -z "$TO" ] || return 1
	WHY="$1: want exactly one line on stderr, got: $(first_err)"
	[ "$(lines "$D/err")" = 1 ]
}

# The target survived an attempt: alive, not stopped, not traced.
untouched() {
	_st=$(pstate "$1")
	WHY="target state '$_st' after $2"
	case $_st in '' | Z | X | T | t) return 1 ;; esac
	_tr=$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$1/status")
	WHY="target traced by $_tr after $2"
	[ "$_tr" = 0 ]
}

# A counter target started by this shell finishes with a correct file.
finishes() {
	reap "$1"
	WHY="counter exited $RC: $(target_says)"
	[ "$RC" = 0 ] && counted "$2" "$3"
}

empty_dir() {
	WHY="$1 holds after the failure: $(ls -A "$1" | tr '\n' ' ')"
	[ -z "$(ls -A "$1")" ]
}

# --- tests -------------------------------------------------------------------

t_help() {
	for _cmd in "$BIN/chkpt" "$BIN/rstrt" "$BIN/chkpt rstrt"; do
		run 10 /dev/null "$D/out" "$D/err" $_cmd --help
		WHY="$_cmd --help: exit $RC, $(lines "$D/out") lines on stdout"
		need [ "$RC" = 0 ] && need [ -s "$D/out" ] || return
	done
	pass
}

# A usage error: one uniform line on stderr, exit 1, nothing on stdout.
# usage_says EXPECTED CMD ARGS...
usage_says() {
	_want=$1
	shift
	run 10 /dev/null "$D/out" "$D/err" "$@"
	WHY="$*: exit $RC, stderr '$(cat "$D/err")', expected '$_want'"
	[ "$RC" = 1 ] && [ "$(cat "$D/err")" = "$_want" ] && [ ! -s "$D/out" ]
}

t_usage() {
	need usage_says "chkpt: unknown option --bogus (see --help)" "$BIN/chkpt" --bogus 1 &&
		need usage_says "chkpt: -o needs a value (see --help)" "$BIN/chkpt" 1 -o &&
		need usage_says "chkpt: no process ID given (see --help)" "$BIN/chkpt" --single &&
		need usage_says "rstrt: unknown option --bogus (see --help)" "$BIN/rstrt" --bogus x.img &&
		need usage_says "rstrt: unexpected argument 'y.img' (see --help)" "$BIN/chkpt" rstrt x.img y.img &&
		need usage_says "chkpt info: no image given (see --help)" "$BIN/chkpt" info &&
		need usage_says "migrate: --key needs a value (see --help)" "$BIN/migrate" 1 host --key &&
		need usage_says "migrate: --timeout needs a value (see --help)" "$BIN/chkpt" migrate --timeout &&
		need usage_says "restartd: unknown option --bogus (see --help)" "$BIN/restartd" --bogus &&
		need usage_says "restartd: --dir needs a value (see --help)" "$BIN/restartd" --key k --dir || return
	# chkpt --help lists every other command
	run 10 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --help
	for _c in info rstrt migrate restartd; do
		WHY="chkpt --help does not list $_c"
		need grep -q "^  $_c  " "$D/out" || return
	done
	pass
}

# Start a counter and wait until it is well under way.
counter_running() {
	start counter "$@"
	poll 10 lines_ge "$1" 20 && return
	WHY="counter did not start: $(target_says)"
	return 1
}

t_counter_kill() {
	need counter_running "$D/c.txt" &&
		need ckpt_ok --kill -o "$D/img/c.img" "$PID" || return
	reap "$PID"
	need [ "$(ls -A "$D/img")" = c.img ] &&
		need restore_fg "$D/img/c.img" &&
		need counted "$D/c.txt" 200 && pass
}

t_counter_append() {
	need counter_running "$D/c.txt" append &&
		need ckpt_ok --kill -o "$D/c.img" "$PID" || return
	reap "$PID"
	# `chkpt rstrt` is the same as `rstrt`
	run 120 /dev/null "$D/out" "$D/err" "$BIN/chkpt" rstrt "$D/c.img"
	WHY="chkpt rstrt: exit $RC$TO: $(first_err) $(target_says)"
	need [ "$RC" = 0 ] && need counted "$D/c.txt" 200 && pass
}

t_counter_default() {
	need counter_running "$D/c.txt" &&
		need ckpt_ok -o "$D/c.img" "$PID" &&
		need untouched "$PID" "chkpt (default mode)" &&
		need [ -s "$D/c.img" ] &&
		need finishes "$PID" "$D/c.txt" 200 && pass
}

t_counter_stop() {
	need counter_running "$D/c.txt" &&
		need ckpt_ok --stop -o "$D/c.img" "$PID" &&
		need poll 2 in_state "$PID" T || return
	cp -p "$D/c.txt" "$D/c.snap"
	sleep 0.3
	WHY="counter went on writing while stopped"
	need cmp -s "$D/c.txt" "$D/c.snap" || return
	kill -CONT "$PID"
	need finishes "$PID" "$D/c.txt" 200 || return
	# The image restores too, from the file as it was at the checkpoint.
	cp -p "$D/c.snap" "$D/c.txt"
	need restore_fg "$D/c.img" && need counted "$D/c.txt" 200 && pass
}

t_memsum() {
	start memsum 256 "$D/log"
	need ready 60 "$D/log" &&
		need ckpt_ok --kill -o "$D/m.img" "$PID" || return
	reap "$PID"
	need restore_d "$D/m.img" || return
	rm -f "$D/m.img"
	kill -USR2 "$PID"
	need poll 60 has_line "$D/log" verify &&
		need verdict "$D/log" "verify ok" &&
		need poll 10 reaped "$PID" &&
		need exited_0 "$PID" && pass
}

# chkpt --compress: memsum's random memory (incompressible) and a heap of
# text, structs and zeros (MEMSUM_MIXED) come back and verify themselves;
# the image is smaller than one without --compress and chkpt info says so.
# Where imgtool is (make fault-tools), an image whose first LZ4 sequence
# points before the start of the data (CRC fixed) is refused with exit 2,
# naming the record, and nothing is started; where lz4(1) is, it decodes a
# frame of the image.
t_compress() {
	(cd "$D" && MEMSUM_MIXED=16 exec "$TD/memsum$SUF" 8 "$D/log") </dev/null >"$D/memsum.out" 2>&1 &
	PID=$!
	STARTED="$STARTED $PID"
	need ready 60 "$D/log" &&
		need ckpt_ok -o "$D/plain.img" "$PID" &&
		need ckpt_ok --compress --kill -o "$D/z.img" "$PID" || return
	reap "$PID"
	_plain=$(wc -c <"$D/plain.img") _z=$(wc -c <"$D/z.img")
	WHY="--compress image $_z bytes, without $_plain"
	need [ "$_z" -lt $((_plain * 3 / 4)) ] || return
	run 30 /dev/null "$D/out" "$D/err" "$BIN/chkpt" info "$D/z.img"
	WHY="chkpt info: exit $RC: $(first_err) $(tr '\n' '|' <"$D/out" | cut -c1-300)"
	need [ "$RC" = 0 ] && need grep -q "compressed: .* (LZ4, " "$D/out" || return
	_tool=$BIN/faults/imgtool
	if [ -x "$_tool" ]; then
		_rec=$("$_tool" list "$D/z.img" | awk '$3 == "PAGES_LZ4" && $4 > 1000 { print $1 " " $4; exit }')
		WHY="no PAGES_LZ4 record in the image"
		need [ -n "$_rec" ] || return
		set -- $_rec
		if command -v lz4 >/dev/null; then
			_n=$(tail -c +$(($1 + 8 + 16 + 1)) "$D/z.img" | head -c $(($2 - 16)) | lz4 -d -c 2>/dev/null | wc -c)
			WHY="lz4 -d of the frame at $1 gave $_n bytes"
			need [ "$_n" -gt 0 ] && need [ $((_n % $(getconf PAGESIZE))) = 0 ] || return
		fi
		cp "$D/z.img" "$D/bad.img"
		# the first token: no literals, a match (its offset is before the start)
		"$_tool" poke "$D/bad.img" $(($1 + 8 + 16 + 11)) 1 15 && "$_tool" setcrc "$D/bad.img" "$1" || return
		run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" "$D/bad.img"
		need clean_error "rstrt of a damaged LZ4 frame" || return
		WHY="want exit 2 and 'record PAGES_LZ4 at offset $1', got $RC: $(first_err)"
		need [ "$RC" = 2 ] && need grep -q "record PAGES_LZ4 at offset $1: LZ4 match offset" "$D/err" &&
			need poll 3 gone "$PID" || return
	else
		echo "  $TEST: no $_tool (make fault-tools): the damaged frame is not tried"
	fi
	need restore_d "$D/z.img" || return
	kill -USR2 "$PID"
	need poll 60 has_line "$D/log" verify &&
		need verdict "$D/log" "verify ok" &&
		need poll 10 reaped "$PID" &&
		need exited_0 "$PID" && pass
}

# chkpt serve --now (a clean shutdown's save, no module needed): a new
# generation, durable, the job killed after it; rstrt DIR brings it back.
# Without /dev/crd, chkpt serve itself says so in one line (exit 1).
t_serve_now() {
	start memsum 256 "$D/log"
	need ready 60 "$D/log" || return
	audit_before "$PID" "$D"
	run 120 /dev/null "$D/out" "$D/err" "$BIN/chkpt" serve --now --kill --job "$PID,2:$D/gens"
	WHY="chkpt serve --now: exit $RC$TO: $(first_err)"
	need [ "$RC" = 0 ] && need [ -f "$D/gens/00000001.img" ] || return
	WHY="--kill: the job still runs after its save"
	need poll 10 dead "$PID" || return
	reap "$PID"
	need restore_d "$D/gens" || return
	kill -USR2 "$PID"
	need poll 60 has_line "$D/log" verify && need verdict "$D/log" "verify ok" || return
	[ ! -e /dev/crd ] || { pass; return; }
	run 10 /dev/null "$D/out" "$D/err" "$BIN/chkpt" serve
	WHY="chkpt serve without the module: exit $RC, want 1 and one line: $(first_err)"
	need [ "$RC" = 1 ] && need [ "$(wc -l <"$D/err")" = 1 ] && need grep -q "no /dev/crd" "$D/err" && pass
}

t_simd() {
	start simd "$D/log"
	WHY="simd not ready"
	need poll 10 eval 'has_line "$D/log" ready || has_line "$D/log" skip' || return
	if has_line "$D/log" skip; then
		reap "$PID"
		skip "no x86_64 vector registers here"
		return
	fi
	sleep 0.2 # let it spin, so the checkpoint catches it in user mode
	need ckpt_ok --kill -o "$D/s.img" "$PID" || return
	reap "$PID"
	need restore_d "$D/s.img" || return
	kill -USR2 "$PID"
	need poll 10 has_line "$D/log" regs &&
		need verdict "$D/log" "regs ok" &&
		need poll 10 reaped "$PID" &&
		need exited_0 "$PID" && pass
}

t_sigs() {
	start sigs "$D/log"
	need ready 10 "$D/log" &&
		need ckpt_ok --kill -o "$D/s.img" "$PID" || return
	reap "$PID"
	need restore_d "$D/s.img" || return
	kill -TERM "$PID" # ignored, if the disposition survived
	kill -USR1 "$PID"
	need poll 10 has_line "$D/log" sigs &&
		need verdict "$D/log" "sigs ok" &&
		need poll 10 reaped "$PID" &&
		need exited_0 "$PID" && pass
}

t_maps() {
	start idle "$D/log"
	need ready 10 "$D/log" || return
	kill -STOP "$PID"
	need poll 2 in_state "$PID" T || return
	cat "/proc/$PID/maps" >"$D/maps.before"
	need ckpt_ok --kill -o "$D/i.img" "$PID" || return
	reap "$PID"
	need restore_d "$D/i.img" || return
	cat "/proc/$PID/maps" >"$D/maps.after"
	WHY="/proc/PID/maps differs after restore: $(diff -u "$D/maps.before" "$D/maps.after" 2>&1 |
		grep '^[-+][0-9a-f]' | tr '\n' '|' | cut -c1-600)"
	need cmp -s "$D/maps.before" "$D/maps.after" || return
	kill -CONT "$PID"
	kill -USR2 "$PID"
	need poll 10 has_line "$D/log" idle &&
		need verdict "$D/log" "idle ok" &&
		need poll 10 reaped "$PID" &&
		need exited_0 "$PID" && pass
}

# The image through stdout and back through stdin, a file and a pipe.
t_stdio_image() {
	need counter_running "$D/c.txt" || return
	run 120 /dev/null "$D/c.img" "$D/err" "$BIN/chkpt" --kill -o - "$PID"
	WHY="chkpt -o -: exit $RC$TO: $(first_err)"
	need [ "$RC" = 0 ] && need [ -s "$D/c.img" ] || return
	reap "$PID"
	cp -p "$D/c.txt" "$D/c.snap"
	run 120 "$D/c.img" "$D/out" "$D/err" "$BIN/rstrt" -
	WHY="rstrt - <image: exit $RC$TO: $(first_err)"
	need [ "$RC" = 0 ] && need counted "$D/c.txt" 200 || return
	cp -p "$D/c.snap" "$D/c.txt"
	run 120 /dev/null "$D/out" "$D/err" sh -c 'cat "$1" | "$2" -' sh "$D/c.img" "$BIN/rstrt"
	WHY="cat image | rstrt -: exit $RC$TO: $(first_err)"
	need [ "$RC" = 0 ] && need counted "$D/c.txt" 200 && pass
}

t_info() {
	need counter_running "$D/c.txt" &&
		need ckpt_ok --kill -o "$D/c.img" "$PID" || return
	reap "$PID"
	run 30 /dev/null "$D/out" "$D/err" "$BIN/chkpt" info "$D/c.img"
	WHY="chkpt info: exit $RC$TO: $(first_err)"
	need [ "$RC" = 0 ] || return
	WHY="chkpt info lacks the command line (counter$SUF $D/c.txt) or PID $PID: $(tr '\n' '|' <"$D/out" | cut -c1-400)"
	grep -q "counter$SUF" "$D/out" && grep -qF "$D/c.txt" "$D/out" && grep -qw "$PID" "$D/out"
	need [ $? = 0 ] && pass
}

# chkpt info --json: one JSON object (schema 1, chkpt(1)) with the process's
# PID and command line; a damaged image prints no half object (exit 2).
t_info_json() {
	need counter_running "$D/c.txt" &&
		need ckpt_ok --kill -o "$D/c.img" "$PID" || return
	reap "$PID"
	run 30 /dev/null "$D/out" "$D/err" "$BIN/chkpt" info --json "$D/c.img"
	WHY="chkpt info --json: exit $RC$TO: $(first_err)"
	need [ "$RC" = 0 ] || return
	WHY="no process $PID with its command line in: $(tr '\n' ' ' <"$D/out" | cut -c1-400)"
	if command -v python3 >/dev/null; then
		need python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))
p = [q for q in o["processes"] if q["pid"] == int(sys.argv[2])]
assert o["schema"] == 1 and o["nr_processes"] == 1 and o["externals"] == [] and len(p) == 1
assert p[0]["cmdline"][1:] == [sys.argv[3]] and p[0]["saved_bytes"] > 0' "$D/out" "$PID" "$D/c.txt" || return
	else  # busybox in the guests: no JSON parser, the fields by hand
		need grep -q "\"pid\": $PID, " "$D/out" && need grep -qF "\"$D/c.txt\"]" "$D/out" || return
	fi
	head -c 3000 "$D/c.img" >"$D/cut.img"
	run 30 /dev/null "$D/out" "$D/err" "$BIN/chkpt" info --json "$D/cut.img"
	WHY="a cut image: exit $RC, stdout '$(head -c 100 "$D/out")'"
	need [ "$RC" = 2 ] && need [ ! -s "$D/out" ] && pass
}

# --- error paths ---------------------------------------------------------------

t_err_no_pid() {
	_p=$(($(cat /proc/sys/kernel/pid_max) - 1))
	while [ -d "/proc/$_p" ]; do _p=$((_p - 1)); done
	run 30 /dev/null "$D/out" "$D/err" "$BIN/chkpt" -o "$D/img/x.img" "$_p"
	need clean_error "chkpt of free PID $_p" && need empty_dir "$D/img" && pass
}

t_err_kthread() {
	[ "$(cat /proc/2/comm 2>/dev/null)" = kthreadd ] || { skip "PID 2 is not kthreadd"; return; }
	run 30 /dev/null "$D/out" "$D/err" "$BIN/chkpt" -o "$D/img/x.img" 2
	need clean_error "chkpt of kthreadd" && need empty_dir "$D/img" && pass
}

t_err_zombie() {
	start zombie
	WHY="zombie printed no PID"
	need poll 10 test -s "$D/zombie.out" || return
	_z=$(cat "$D/zombie.out")
	need poll 5 in_state "$_z" Z || return
	run 30 /dev/null "$D/out" "$D/err" "$BIN/chkpt" -o "$D/img/x.img" "$_z"
	need clean_error "chkpt of a zombie" && need empty_dir "$D/img" && pass
}

t_err_output() {
	need counter_running "$D/c.txt" || return
	run 30 /dev/null "$D/out" "$D/err" "$BIN/chkpt" -o /nonexistent-dir/x.img "$PID"
	need clean_error "chkpt -o /nonexistent-dir/x.img" &&
		need untouched "$PID" "a failed chkpt" &&
		need finishes "$PID" "$D/c.txt" 200 && pass
}

t_err_pid_taken() {
	need counter_running "$D/c.txt" &&
		need ckpt_ok -o "$D/c.img" "$PID" || return
	run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" "$D/c.img"
	need clean_error "rstrt while PID $PID is taken" &&
		need untouched "$PID" "a failed rstrt" &&
		need finishes "$PID" "$D/c.txt" 200 && pass
}

# take_pid PID: another process holds PID from now on (holdpid.c), as a
# restore's "PID taken" finds it on a busy host.
take_pid() {
	(exec "$TD/holdpid$SUF" "$1") </dev/null >"$D/holdpid.out" 2>&1 &
	STARTED="$STARTED $1 $!"
	poll 10 alive "$1" && return
	WHY="holdpid could not take PID $1: $(cat "$D/holdpid.out")"
	return 1
}

# rstrt [-d] IMAGE while the PID is held: one line naming --pidns, nothing
# started, the holder untouched.
refused_for_pidns() {
	run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" "$@"
	need clean_error "rstrt while PID $PID is taken" || return 1
	WHY="the error does not name --pidns: $(first_err)"
	grep -q -- '--pidns' "$D/err" && untouched "$PID" "a failed rstrt"
}

# A counter whose PID is taken after the checkpoint comes back with it in a
# new PID namespace (it checks getpid() itself), rstrt passing on its exit
# status. Not state-audited: the audit finds processes by their host PIDs.
t_pidns() {
	need counter_running "$D/c.txt" &&
		need ckpt_ok --kill -o "$D/c.img" "$PID" || return
	reap "$PID"
	need take_pid "$PID" && need refused_for_pidns "$D/c.img" || return
	run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" --pidns "$D/c.img"
	WHY="rstrt --pidns: exit $RC$TO: $(first_err) $(target_says)"
	need [ "$RC" = 0 ] && need [ -z "$TO" ] && need counted "$D/c.txt" 200 &&
		need untouched "$PID" "rstrt --pidns" && pass
}

# The same for a tree (pipe and socket ring, each parent waits for the PID
# fork gave it), detached: -d prints the root's PID as rstrt's namespace sees
# it, whose innermost PID (NSpid) is the original one.
t_pidns_tree() {
	start tree3 "$D/log" 12000
	need ready 20 "$D/log" || return
	_kids=$(descendants "$PID")
	need ckpt_ok --kill -o "$D/set.img" "$PID" || return
	reap "$PID"
	need poll 10 gone $_kids && need take_pid "$PID" &&
		need refused_for_pidns -d "$D/set.img" || return
	run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d --pidns "$D/set.img"
	_outer=$(cat "$D/out")
	STARTED="$STARTED $_outer"
	WHY="rstrt -d --pidns: exit $RC$TO, printed '$_outer': $(first_err)"
	need [ "$RC" = 0 ] && need [ -z "$TO" ] && need [ "$_outer" != "$PID" ] || return
	_nspid=$(sed -n 's/^NSpid:.*[[:space:]]//p' "/proc/$_outer/status" 2>/dev/null)
	WHY="restored root $_outer has PID '$_nspid' in its namespace, want $PID"
	need [ "$_nspid" = "$PID" ] && need poll 60 has_line "$D/log" "tree " &&
		need verdict "$D/log" "tree ok" && pass
}

bytes_ge() { [ "$(wc -c <"$1" 2>/dev/null)" -ge "$2" ] 2>/dev/null; }

# A job whose program, working directory, open and mapped files and unix
# listener all live in one directory, moved after the checkpoint: refused as
# it is, restored with rstrt --map-path OLD=NEW, where it checks that they are
# the same files and that it listens there (movable.c); then again with the
# directory moved under a root, rstrt --root. Not state-audited: the paths
# differ by design.
t_map_path() {
	mkdir -p "$D/old"
	cp "$TD/movable$SUF" "$D/old/movable"
	(cd "$D/old" && exec ./movable 200) </dev/null >"$D/movable.out" 2>&1 &
	PID=$!
	STARTED="$STARTED $PID"
	WHY="movable did not start: $(target_says)"
	need poll 10 bytes_ge "$D/old/data.txt" 20 &&
		need ckpt_ok --kill -o "$D/m.img" "$PID" || return
	reap "$PID"
	rm -rf "$D/new"
	mv "$D/old" "$D/new"
	run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" "$D/m.img"
	need clean_error "rstrt after the job's directory moved" &&
		need gone "$PID" || return
	run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" --map-path "old=$D/new" "$D/m.img"
	need clean_error "rstrt --map-path with a relative OLD" || return
	run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" --map-path "$D/old/=$D/new" "$D/m.img"
	WHY="rstrt --map-path: exit $RC$TO: $(first_err) $(target_says)"
	need [ "$RC" = 0 ] && need [ -z "$TO" ] || return
	# --root: every path under the root, but the system's (/dev/null,
	# libraries) and the output file
	mkdir -p "$D/root$D"
	mv "$D/new" "$D/root$D/old"
	rm "$D/root$D/old/sock"  # the first restore's (another inode: rstrt leaves it alone)
	run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" --root "$D/root" --map-path /dev=/dev --map-path /usr=/usr \
		--map-path "$D/movable.out=$D/movable.out" "$D/m.img"
	WHY="rstrt --root: exit $RC$TO: $(first_err) $(target_says)"
	need [ "$RC" = 0 ] && need [ -z "$TO" ] && pass
}

t_err_unprivileged() {
	[ "$(id -u)" = 0 ] || { skip "not running as root"; return; }
	_nobody="$TD/asuser 65534"
	run 10 /dev/null "$D/out" "$D/err" $_nobody "$BIN/chkpt" --help
	[ "$RC" = 0 ] || { skip "cannot run chkpt as uid 65534: $(head -n 1 "$D/err")"; return; }
	need counter_running "$D/c.txt" || return
	# -o -: the output is writable, only the target is out of reach
	run 30 /dev/null "$D/out" "$D/err" $_nobody "$BIN/chkpt" -o - "$PID"
	need clean_error "chkpt as uid 65534 of a root process" &&
		need untouched "$PID" "a failed chkpt" &&
		need finishes "$PID" "$D/c.txt" 200 && pass
}

t_err_garbage() {
	head -c 65536 /dev/urandom >"$D/g.img"
	run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" "$D/g.img"
	need clean_error "rstrt of random bytes" || return
	run 30 /dev/null "$D/out" "$D/err" "$BIN/chkpt" info "$D/g.img"
	need clean_error "chkpt info of random bytes" && pass
}

# Checkpoint a counter, damage the image with CMD, restore must fail cleanly
# and start nothing: the PID stays free and the output file unchanged.
bad_image() {
	need counter_running "$D/c.txt" &&
		need ckpt_ok --kill -o "$D/c.img" "$PID" || return
	reap "$PID"
	cp "$D/c.txt" "$D/c.snap"
	_size=$(wc -c <"$D/c.img")
	eval "$1"
	run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" "$D/bad.img"
	need clean_error "rstrt of $2 image" || return
	WHY="PID $PID is alive after rstrt of $2 image"
	need poll 3 test ! -d "/proc/$PID" || return
	sleep 0.2
	WHY="output file changed after rstrt of $2 image"
	need cmp -s "$D/c.txt" "$D/c.snap" && pass
}

t_err_truncated() {
	bad_image 'head -c $((_size / 2)) "$D/c.img" >"$D/bad.img"' truncated
}

# Some bytes in the middle overwritten: the record CRCs must catch it.
t_err_corrupt() {
	bad_image 'cp "$D/c.img" "$D/bad.img"
		printf "\377\000\252\125\001\002\003\004" |
			dd of="$D/bad.img" bs=1 seek=$((_size * 3 / 4)) conv=notrunc 2>/dev/null' corrupted
}

# A terminal on 0/1/2: the counter writes to a pty under script(1); the
# restored copy must go on writing to rstrt's own terminal.
t_tty() {
	command -v script >/dev/null || { skip "no script(1)"; return; }
	(cd "$D" && SHELL=/bin/sh exec script -q -c \
		"echo \$\$ >$D/pid; exec $TD/counter$SUF - 100" /dev/null) \
		</dev/null >"$D/tty1" 2>&1 &
	_script=$!
	need poll 10 eval '[ -s "$D/pid" ] && lines_ge "$D/tty1" 20' || return
	PID=$(cat "$D/pid")
	STARTED="$STARTED $PID $_script"
	need ckpt_ok --kill -o "$D/c.img" "$PID" || return
	reap "$_script"
	run 60 /dev/null "$D/tty2" "$D/err" env SHELL=/bin/sh script -q -c \
		"$BIN/rstrt --no-ctty $D/c.img; echo \$? >$D/rc" /dev/null
	WHY="rstrt under script: exit $(cat "$D/rc" 2>/dev/null)$TO: $(first_err) $(tail -n 2 "$D/tty2")"
	need [ "$(cat "$D/rc" 2>/dev/null)" = 0 ] || return
	cat "$D/tty1" "$D/tty2" | tr -d '\r' >"$D/tty"
	need counted "$D/tty" 100 && pass
}

# The counter leads script's session, its terminal outside the image: rstrt
# refuses that without --ctty or --no-ctty (t_tty); exec'd as the leader of
# a new script session, `rstrt --ctty` hands its terminal over, and the
# restored counter has it as its controlling terminal again.
tty_of() { cut -d' ' -f7 "/proc/$1/stat" 2>/dev/null; }
t_ctty() {
	command -v script >/dev/null || { skip "no script(1)"; return; }
	(cd "$D" && SHELL=/bin/sh exec script -q -c \
		"echo \$\$ >$D/pid; exec $TD/counter$SUF - 150" /dev/null) </dev/null >"$D/tty1" 2>&1 &
	_script=$!
	need poll 10 eval '[ -s "$D/pid" ] && lines_ge "$D/tty1" 20' || return
	PID=$(cat "$D/pid")
	STARTED="$STARTED $PID $_script"
	WHY="the counter does not lead a session with a terminal: $(cut -d' ' -f5-7 "/proc/$PID/stat")"
	need [ "$(tty_of "$PID")" != 0 ] && need [ "$(cut -d' ' -f6 "/proc/$PID/stat")" = "$PID" ] || return
	need ckpt_ok --kill -o "$D/c.img" "$PID" || return
	reap "$_script"
	run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$D/c.img"
	need clean_error "rstrt of a session leader whose terminal was outside the image" || return
	WHY="the error does not name --ctty: $(first_err)"
	need grep -q -- --ctty "$D/err" && need gone "$PID" || return
	(cd "$D" && SHELL=/bin/sh exec script -q -c "exec $BIN/rstrt --ctty $D/c.img" /dev/null) </dev/null >"$D/tty2" 2>&1 &
	_script=$!
	STARTED="$STARTED $_script"
	WHY="rstrt --ctty did not restore the counter: $(tr '\r\n' '||' <"$D/tty2" | cut -c1-300)"
	need poll 20 alive "$PID" || return
	WHY="the restored counter has no controlling terminal: $(cut -d' ' -f5-7 "/proc/$PID/stat" 2>/dev/null)"
	need poll 10 eval '[ "$(tty_of "$PID")" != 0 ]' || return
	wait "$_script"
	cat "$D/tty1" "$D/tty2" | tr -d '\r' >"$D/tty"
	need counted "$D/tty" 150 && pass
}

# A job started from a shell with job control (`set -m`: its own process
# group in the shell's session) comes back with rstrt --shell-job as rstrt's
# foreground job: it has the terminal; ^Z stops it and rstrt with it, and
# continuing rstrt (the shell's fg) continues the job with the terminal.
t_shell_job() {
	command -v script >/dev/null || { skip "no script(1)"; return; }
	(cd "$D" && SHELL=/bin/sh exec script -q -c \
		"set -m; $TD/ttyjob$SUF $D/log & echo \$! >$D/pid; wait" /dev/null) </dev/null >"$D/tty1" 2>&1 &
	_script=$!
	need poll 10 eval '[ -s "$D/pid" ]' && need ready 10 "$D/log" || return
	PID=$(cat "$D/pid")
	STARTED="$STARTED $PID $_script"
	WHY="the job is not its own process group (set -m): pgid $(cut -d' ' -f5 /proc/$PID/stat)"
	need [ "$(cut -d' ' -f5 "/proc/$PID/stat")" = "$PID" ] || return
	need ckpt_ok --kill -o "$D/j.img" "$PID" || return
	reap "$_script"
	(cd "$D" && SHELL=/bin/sh exec script -q -c "$BIN/rstrt --shell-job $D/j.img; echo \$? >$D/rc" /dev/null) \
		</dev/null >"$D/tty2" 2>&1 &
	_script=$!
	STARTED="$STARTED $_script"
	need poll 20 alive "$PID" || return
	_rstrt=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$PID/status")
	kill -TSTP "$PID"
	WHY="after ^Z: the job is '$(pstate "$PID")', rstrt '$(pstate "$_rstrt")', want both stopped"
	need poll 10 eval '[ "$(pstate "$PID")" = T ] && [ "$(pstate "$_rstrt")" = T ]' || return
	kill -CONT "$_rstrt"
	WHY="after fg: the job is '$(pstate "$PID")'"
	need poll 10 eval '[ "$(pstate "$PID")" != T ]' || return
	kill -USR2 "$PID"
	need poll 30 has_line "$D/log" ttyjob && need verdict "$D/log" "ttyjob ok" || return
	WHY="rstrt --shell-job: exit $(cat "$D/rc" 2>/dev/null): $(tr '\r\n' '  ' <"$D/tty2")"
	need poll 10 eval '[ -s "$D/rc" ]' && need [ "$(cat "$D/rc")" = 0 ] && pass
}

# Progress (bytes, rate) on a terminal for a large job, chkpt's and rstrt's;
# nothing when stderr is not a terminal.
t_progress() {
	command -v script >/dev/null || { skip "no script(1)"; return; }
	start memsum 96 "$D/log"
	need ready 60 "$D/log" && need ckpt_ok -o "$D/quiet.img" "$PID" || return
	WHY="chkpt wrote to a stderr that is not a terminal: $(first_err)"
	need [ ! -s "$D/err" ] || return
	run 120 /dev/null "$D/tty1" "$D/err" env SHELL=/bin/sh script -q -c "$BIN/chkpt --kill -o $D/m.img $PID" /dev/null
	reap "$PID"
	WHY="no progress from chkpt on its terminal: '$(tr '\r\033' '| ' <"$D/tty1")'"
	need grep -q "chkpt: [0-9.]* MiB, [0-9]* MiB/s" "$D/tty1" || return
	(SHELL=/bin/sh exec script -q -c "$BIN/rstrt $D/m.img; echo \$? >$D/rc" /dev/null) </dev/null >"$D/tty2" 2>&1 &
	STARTED="$STARTED $!"
	need poll 60 eval 'grep -q "rstrt: [0-9.]* MiB, [0-9]* MiB/s" "$D/tty2"' && need poll 20 alive "$PID" || return
	kill -USR2 "$PID"
	need poll 60 has_line "$D/log" verify && need verdict "$D/log" "verify ok" &&
		need poll 20 eval '[ -s "$D/rc" ]' && WHY="rstrt exit $(cat "$D/rc")" && need [ "$(cat "$D/rc")" = 0 ] && pass
}

# --- process sets: trees, threads, channels (issue 3) ------------------------------

# Every descendant of PID, from /proc (children files of every thread).
descendants() {
	for _c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$_c"
		descendants "$_c"
	done
}

# kill_set_restore_fg LOG: checkpoint the set of $PID with --kill, wait until all
# of its PIDs are free, restore in the foreground (exit 0 = the root's verdict).
kill_set_restore_fg() {
	_kids=$(descendants "$PID")
	need ckpt_ok --kill -o "$D/set.img" "$PID" || return 1
	reap "$PID"
	WHY="processes $_kids still hold their PIDs after the kill"
	need poll 10 gone $_kids || return 1
	need restore_fg "$D/set.img"
}

t_tree3() {
	# 12000 numbers (about 10 s): under emulation the state audit's captures
	# before the checkpoint take seconds, and the ring must still be busy then.
	start tree3 "$D/log" 12000
	need ready 20 "$D/log" && kill_set_restore_fg && need verdict "$D/log" "tree ok" && pass
}

t_fifo() {
	# after the restore the reader drains the FIFO and closes it, on its own
	AUDIT_MOVING='^fd '
	# 20000 numbers (~2.5 s of reading): still running after the state
	# audit's captures, also under emulation in the QEMU guests
	start fifo "$D/log" 20000
	need ready 20 "$D/log" && kill_set_restore_fg && need verdict "$D/log" "fifo ok" && pass
}

t_shmem() {
	start shmem "$D/log"
	need ready 20 "$D/log" && kill_set_restore_fg && need verdict "$D/log" "shmem ok" && pass
}

t_sharedfd() {
	start sharedfd "$D/shared.txt" "$D/log"
	need ready 20 "$D/log" && kill_set_restore_fg && need verdict "$D/log" "sharedfd ok" && pass
}

# kill_set_restore_d: checkpoint the set of $PID (ready) with --kill, restore it
# detached once its PIDs are free; the caller then asks it to verify.
kill_set_restore_d() {
	need ready 20 "$D/log" || return 1
	_kids=$(descendants "$PID")
	need ckpt_ok --kill -o "$D/set.img" "$PID" || return 1
	reap "$PID"
	need poll 10 gone $_kids && need restore_d "$D/set.img"
}

# usr2_verdict WANT: SIGUSR2 to the restored $PID; it logs WANT and exits 0.
usr2_verdict() {
	kill -USR2 "$PID"
	need poll 30 reaped "$PID" && need verdict "$D/log" "$1" && need exited_0 "$PID"
}

# fd_table PID...: every fd of those processes with what it refers to (inode
# numbers of pipes, sockets and anon inodes left out: they are new after a
# restore), one "pid fd target" line each, sorted.
fd_table() {
	for _p in "$@"; do
		for _f in /proc/"$_p"/fd/*; do
			printf '%s %s %s\n' "$_p" "${_f##*/}" "$(readlink "$_f" | sed 's/\[[0-9]*\]$/[]/')"
		done
	done | sort
}

# A restored process holds exactly the fds it had, no more (rstrt's own
# must not leak into it) and no fewer.
t_fdlist() {
	start evmem "$D/log"
	need ready 20 "$D/log" || return
	_set="$PID $(descendants "$PID")"
	fd_table $_set >"$D/fds.before"
	kill_set_restore_d || return
	fd_table $_set >"$D/fds.after"
	WHY="fds differ after restore: $(diff "$D/fds.before" "$D/fds.after" | grep '^[<>]' | tr '\n' '|')"
	need cmp -s "$D/fds.before" "$D/fds.after" && usr2_verdict "evmem ok" && pass
}

# signalfd, O_ASYNC with its owner and signal, O_APPEND on a memfd, a big
# socket queue behind a raised SO_SNDBUF, an eventfd past 2^32 (fdattrs.c).
t_fdattrs() {
	start fdattrs "$D/log"
	kill_set_restore_d && usr2_verdict "fdattrs ok" && pass
}

# epoll (edge-triggered, one-shot, nested), timerfds (unread expirations,
# absolute, disarmed), signalfd: an event loop's descriptors (evloop.c).
t_evloop() {
	# A periodic timerfd that expired counts the periods it missed only when
	# asked (timerfd_gettime, as chkpt does): until then fdinfo says 1 tick
	# and no time left, which no second look before the checkpoint changes.
	AUDIT_MOVING='^fd [0-9]+ (ticks|it_value)$'
	start evloop "$D/log"
	kill_set_restore_d && usr2_verdict "evloop ok" && pass
}

# epoll registrations by fd numbers closed or reused since, one of them a
# file only a child still holds (epollmoved.c): main refused them.
t_epollmoved() {
	start epollmoved "$D/log"
	kill_set_restore_d && usr2_verdict "epollmoved ok" && pass
}

# File locks: POSIX record locks of a parent and its child on one mapped
# file, a flock, an OFD lock (locks.c): main restored none of them.
t_locks() {
	start locks "$D/log"
	kill_set_restore_d && usr2_verdict "locks ok" && pass
}

# memfds of any size: 24 MiB with holes and seals, one only mapped, a small
# one (bigmemfd.c): main refused memfds over 8 MiB. The image carries only
# their data, not the holes.
t_bigmemfd() {
	start bigmemfd "$D/log"
	kill_set_restore_d || return
	WHY="the image holds the holes of the 24 MiB memfd: $(wc -c <"$D/set.img") bytes"
	need [ "$(wc -c <"$D/set.img")" -lt $((16 * 1024 * 1024)) ] && usr2_verdict "bigmemfd ok" && pass
}

# Deleted files, open (shared and not) and mapped only (ghost.c).
t_ghost() {
	start ghost "$D/log"
	kill_set_restore_d && usr2_verdict "ghost ok" && pass
}

# A deleted file with more data than --ghost-limit is refused, naming the
# option; with a larger limit it is saved and restored.
t_ghost_limit() {
	start ghost "$D/log" 2048
	need ready 20 "$D/log" || return
	run 60 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --kill -o "$D/img/x.img" "$PID"
	need clean_error "chkpt of a 2 MiB deleted file" || return
	WHY="the refusal does not name --ghost-limit: $(first_err)"
	need grep -q -- "--ghost-limit" "$D/err" && need untouched "$PID" "chkpt" && need empty_dir "$D/img" || return
	_kids=$(descendants "$PID")
	need ckpt_ok --ghost-limit 3000000 --kill -o "$D/set.img" "$PID" || return
	reap "$PID"
	need restore_d "$D/set.img" && usr2_verdict "ghost ok" && pass
}

# The issue's own example: Python's tempfile.TemporaryFile (an unlinked file
# in /tmp) in a dynamic interpreter, checkpointed, killed and restored.
t_python_tempfile() {
	command -v python3 >/dev/null || { skip "no python3"; return; }
	(cd "$D" && exec python3 -c '
import sys, tempfile, time
f = tempfile.TemporaryFile()
f.write(b"kept across a restore")
f.flush()
open(sys.argv[1], "a").write("ready\n")
time.sleep(4)
f.seek(0)
ok = f.read() == b"kept across a restore"
open(sys.argv[1], "a").write("python %s\n" % ("ok" if ok else "FAIL"))
sys.exit(0 if ok else 1)' "$D/log") </dev/null >"$D/python.out" 2>&1 &
	PID=$!
	STARTED="$STARTED $PID"
	need ready 30 "$D/log" && need ckpt_ok --kill -o "$D/py.img" "$PID" || return
	reap "$PID"
	need restore_fg "$D/py.img" && need verdict "$D/log" "python ok" && pass
}

# `job | cat >>log`: the job's stdout is a pipe to a process outside the set,
# saved as external; `rstrt IMAGE | cat >>log` carries on into the same log,
# which ends up holding every line once.
t_pipeline() {
	{ "$TD/ticker$SUF" 250 & echo $! >"$D/pid"; wait; } </dev/null 2>"$D/ticker.err" | cat >>"$D/log" &
	_pipe=$!
	STARTED="$STARTED $_pipe"
	need poll 10 lines_ge "$D/log" 20 || return
	PID=$(cat "$D/pid")
	need ckpt_ok --kill -o "$D/p.img" "$PID" || return
	need poll 10 gone "$_pipe" || return
	"$BIN/chkpt" info "$D/p.img" >"$D/info" 2>&1
	WHY="chkpt info does not list the external fd: $(grep external "$D/info")"
	need grep -q "^external:   fd 1 (was pipe:" "$D/info" || return
	run 120 /dev/null "$D/out" "$D/err" sh -c '"$1" "$2" | cat >>"$3"' sh "$BIN/rstrt" "$D/p.img" "$D/log"
	WHY="rstrt IMAGE | cat: exit $RC$TO: $(first_err)"
	need [ "$RC" = 0 ] && need [ -z "$TO" ] && need counted "$D/log" 250 && pass
}

# Any other fd leading out of the set is refused, naming the option that
# accepts it; with chkpt --external N and rstrt --inherit-fd N=PATH it is
# saved and supplied.
t_external_fd() {
	{ "$TD/ticker$SUF" 250 5 5>&1 1>/dev/null & echo $! >"$D/pid"; wait; } </dev/null 2>"$D/ticker.err" | cat >>"$D/log" &
	_pipe=$!
	STARTED="$STARTED $_pipe"
	need poll 10 lines_ge "$D/log" 20 || return
	PID=$(cat "$D/pid")
	run 60 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --kill -o "$D/img/x.img" "$PID"
	need clean_error "chkpt of fd 5 to the outside" || return
	WHY="the refusal does not name --external 5: $(first_err)"
	need grep -q -- "--external 5" "$D/err" && need untouched "$PID" "chkpt" || return
	need ckpt_ok --external 5 --kill -o "$D/e.img" "$PID" || return
	need poll 10 gone "$_pipe" || return
	run 120 /dev/null "$D/out" "$D/err" "$BIN/rstrt" --inherit-fd "5=$D/log" "$D/e.img"
	WHY="rstrt --inherit-fd 5=LOG: exit $RC$TO: $(first_err)"
	need [ "$RC" = 0 ] && need [ -z "$TO" ] && need counted "$D/log" 250 && pass
}

# A server's listening and bound sockets: TCP on 127.0.0.1 and ::1, UDP,
# unix (a path and abstract), with their options (servers.c).
t_servers() {
	start servers "$D/log"
	kill_set_restore_d && usr2_verdict "servers ok" && pass
}

# The issue's example: `python3 -m http.server` (listening on 127.0.0.1),
# checkpointed, killed, restored, and then serving a request.
t_python_http() {
	command -v python3 >/dev/null || { skip "no python3"; return; }
	_port=$((20000 + $$ % 20000))
	echo served >"$D/hello.txt"
	(cd "$D" && exec python3 -m http.server --bind 127.0.0.1 "$_port") </dev/null >"$D/http.out" 2>&1 &
	PID=$!
	STARTED="$STARTED $PID"
	need poll 20 grep -q "^Serving HTTP" "$D/http.out" && need ckpt_ok --kill -o "$D/http.img" "$PID" || return
	reap "$PID"
	need restore_d "$D/http.img" || return
	run 30 /dev/null "$D/out" "$D/err" python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/hello.txt" % sys.argv[1], timeout=10).read().decode().strip())' "$_port"
	WHY="GET after the restore: exit $RC$TO, got '$(cat "$D/out")': $(first_err)"
	need [ "$(cat "$D/out")" = served ] && pass
	kill -KILL "$PID"
}

# Established TCP connections: one to a peer outside the checkpoint (which
# must not notice), one with both ends inside and data queued both ways.
t_tcpconn() {
	_port=$((20000 + ($$ + 7) % 20000))
	start tcpconn "$D/log" "$_port"
	need poll 20 has_line "$D/log" listening || return
	(cd "$D" && exec "$TD/tcpconn$SUF" "$D/peer.log" "$_port" peer) </dev/null >"$D/peer.out" 2>&1 &
	_peer=$!
	STARTED="$STARTED $_peer"
	need ready 20 "$D/peer.log" && need ready 20 "$D/log" || return
	need ckpt_ok --kill -o "$D/tcp.img" "$PID" || return
	reap "$PID"
	need restore_d "$D/tcp.img" || return
	kill -USR2 "$_peer"
	kill -USR2 "$PID"
	need poll 30 has_line "$D/peer.log" tcpconn && need verdict "$D/peer.log" "tcpconn ok" &&
		need poll 30 reaped "$PID" && need verdict "$D/log" "tcpconn ok" && need exited_0 "$PID" && pass
}

not_yet() { ! has_line "$2" "$1"; }
# A connection still in the listener's accept queue at the checkpoint: chkpt
# lets the job run a moment between tries until it has accepted it (here after
# 1.5 s), then saves it as an established connection; the peer outside keeps it.
t_backlog() {
	_port=$((20000 + ($$ + 11) % 20000))
	start backlog "$D/log" "$_port" 1500
	need poll 20 has_line "$D/log" listening || return
	(cd "$D" && exec "$TD/backlog$SUF" "$D/peer.log" "$_port" peer) </dev/null >"$D/peer.out" 2>&1 &
	_peer=$!
	STARTED="$STARTED $_peer"
	need poll 20 has_line "$D/peer.log" ready || return
	WHY="the server accepted before chkpt started: the test proves nothing"
	need not_yet accepted "$D/log" || return
	AUDIT_MOVING='^fd 4( |$)'  # the connection, which the job accepts while chkpt waits
	need ckpt_ok --kill -o "$D/b.img" "$PID" || return
	WHY="chkpt succeeded before the connection was accepted"
	need has_line "$D/log" accepted || return
	reap "$PID"
	need restore_d "$D/b.img" || return
	kill -USR2 "$_peer"
	kill -USR2 "$PID"
	need poll 30 has_line "$D/peer.log" backlog && need verdict "$D/peer.log" "backlog ok" &&
		need poll 30 reaped "$PID" && need verdict "$D/log" "backlog ok" && need exited_0 "$PID" && pass
}

# A listener that never accepts its pending connection: refused after the
# tries, with one line, and the job goes on untouched.
t_err_backlog() {
	_port=$((20000 + ($$ + 13) % 20000))
	start backlog "$D/log" "$_port" -1
	need poll 20 has_line "$D/log" listening || return
	(cd "$D" && exec "$TD/backlog$SUF" "$D/peer.log" "$_port" peer) </dev/null >"$D/peer.out" 2>&1 &
	STARTED="$STARTED $!"
	need poll 20 has_line "$D/peer.log" ready || return
	run 60 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --kill -o "$D/img/b.img" "$PID"
	need clean_error "chkpt of a listener with a connection it never accepts" || return
	WHY="message does not say 'not yet accepted': $(first_err)"
	need grep -q "fd [0-9]*: a listening TCP socket with 1 connections not yet accepted, still after" "$D/err" &&
		need untouched "$PID" "chkpt" && need empty_dir "$D/img" && pass
}

# Datagrams queued on UDP sockets (unconnected, connected, dual-stack IPv6),
# one of them from a sender outside the checkpoint that still holds its port:
# all come back in order with their senders' addresses.
t_udpqueue() {
	start udpqueue "$D/log"
	need poll 20 has_line "$D/log" port || return
	(cd "$D" && exec "$TD/udpqueue$SUF" "$D/peer.log" send "$(sed -n 's/^port //p' "$D/log")") </dev/null >"$D/peer.out" 2>&1 &
	STARTED="$STARTED $!"
	need poll 20 has_line "$D/peer.log" sent || return
	sed -n 's/^sent //p' "$D/peer.log" >"$D/log.port"
	need ready 20 "$D/log" && need ckpt_ok --kill -o "$D/udp.img" "$PID" || return
	reap "$PID"
	need restore_d "$D/udp.img" && usr2_verdict "udpqueue ok" && pass
}

# Established TCP connections dropped on purpose, at checkpoint (no repair
# mode: the job's connections are not touched) or at restore: they come back
# aborted, and the listener goes on serving.
# tcp_close_test "CHKPT_OPTS" "RSTRT_OPTS" (word-split on purpose)
tcp_close_test() {
	start tcpclose "$D/log"
	need ready 20 "$D/log" && need ckpt_ok $1 --kill -o "$D/t.img" "$PID" || return
	reap "$PID"
	need restore_d $2 "$D/t.img" && usr2_verdict "tcpclose ok" && pass
}
t_tcp_close_chkpt() { tcp_close_test --tcp-close ""; }
t_tcp_close_rstrt() { tcp_close_test "" --tcp-close; }

# eventfd and memfds (open, and mapped only) shared by parent and child.
t_evmem() {
	start evmem "$D/log"
	kill_set_restore_d && usr2_verdict "evmem ok" && pass
}

# Unreaped children (zombies) are saved with their exit status and come back
# as zombies of the restored parent.
t_zombies() {
	start reapme "$D/log"
	kill_set_restore_d && usr2_verdict "reapme ok" && pass
}

t_threads() {
	start threads "$D/log"
	kill_set_restore_d || return
	WHY="restored process has $(ls /proc/"$PID"/task 2>/dev/null | wc -l) threads, want 9"
	need [ "$(ls /proc/"$PID"/task | wc -l)" = 9 ] && usr2_verdict "threads ok" && pass
}

# Four processes sharing 256 MiB copy-on-write: saved once, every copy verifies.
t_cow() {
	export MEMSUM_FORKS=3
	start memsum 256 "$D/log"
	unset MEMSUM_FORKS
	need ready 60 "$D/log" && need poll 20 [ "$(grep -c 'ready' "$D/log")" -ge 4 ] || return
	_kids=$(descendants "$PID")
	need ckpt_ok --kill -o "$D/cow.img" "$PID" || return
	_mib=$(($(wc -c <"$D/cow.img") >> 20))
	echo "  cow: image of 4 processes sharing 256 MiB copy-on-write: $_mib MiB"
	WHY="image is $_mib MiB: shared pages were saved more than once"
	need [ "$_mib" -lt 384 ] || return
	reap "$PID"
	need poll 10 gone $_kids && need restore_d "$D/cow.img" || return
	kill -USR2 "$PID"
	need poll 60 reaped "$PID" || return
	WHY="$(grep -c 'verify ok' "$D/log") of 4 processes verified: $(grep FAIL "$D/log")"
	need [ "$(grep -c 'verify ok' "$D/log")" = 4 ] && need exited_0 "$PID" && pass
}

# tree_pss PIDS: the proportional anonymous memory (Pss_Anon, KiB, from
# /proc/PID/smaps_rollup; Pss where there is none) of those processes together:
# pages shared copy-on-write count once, shared out among their holders.
tree_pss() {
	for _tp in $1; do cat "/proc/$_tp/smaps_rollup" 2>/dev/null; done |
		awk '$1 == "Pss_Anon:" { a += $2; has = 1 } $1 == "Pss:" { p += $2 } END { print has ? a : p }'
}

# Five processes sharing 64 MiB copy-on-write (cowtree.c: children and a
# grandchild that wrote a few pages each) share it again after the restore:
# their memory together is the original's within 5%, and each verifies its
# own pages (and zeros where only the parent wrote after the forks).
t_cowshare() {
	start cowtree "$D/log"
	need ready 60 "$D/log" && need poll 20 [ "$(grep -c 'ready' "$D/log")" -ge 5 ] || return
	_kids=$(descendants "$PID")
	_before=$(tree_pss "$PID $_kids")
	need ckpt_ok --kill -o "$D/cow.img" "$PID" || return
	reap "$PID"
	need poll 10 gone $_kids && need restore_d "$D/cow.img" || return
	_after=$(tree_pss "$PID $_kids")
	echo "  cowshare: memory of the 5 processes $_before KiB, restored $_after KiB"
	WHY="restored tree holds $_after KiB of anonymous memory, the original $_before KiB: copy-on-write sharing lost"
	need [ $((_after * 100)) -le $((_before * 105)) ] && need [ $((_after * 100)) -ge $((_before * 95)) ] || return
	kill -USR2 "$PID"
	need poll 60 reaped "$PID" || return
	WHY="$(grep -c 'verify ok' "$D/log") of 5 processes verified: $(grep FAIL "$D/log")"
	need [ "$(grep -c 'verify ok' "$D/log")" = 5 ] && need exited_0 "$PID" && pass
}

# The same program checkpointed alone, with a pipe to its child: refused,
# naming the fd and the peer, and the tree goes on untouched.
t_err_single() {
	start tree3 "$D/log"
	need ready 20 "$D/log" || return
	run 60 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --single -o "$D/img/x.img" "$PID"
	need clean_error "chkpt --single of a process with a pipe to its child" || return
	WHY="message does not name the outside peer: $(first_err)"
	need grep -q "outside the checkpoint" "$D/err" && need untouched "$PID" "chkpt --single" &&
		need empty_dir "$D/img" || return
	reap "$PID"
	WHY="tree exited $RC: $(tail -n 1 "$D/log")"
	need [ "$RC" = 0 ] && need verdict "$D/log" "tree ok" && pass
}

# refused_share HOW WANT: sharing.c HOW is refused at checkpoint with one line
# containing WANT, and left untouched.
refused_share() {
	start sharing "$D/log.$1" "$1"
	need ready 20 "$D/log.$1" || return 1
	run 60 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --kill -o "$D/img/x.img" "$PID"
	need clean_error "chkpt of a process with shared $1" || return 1
	WHY="message does not say '$2': $(first_err)"
	need grep -q -- "$2" "$D/err" && need untouched "$PID" "chkpt" && need empty_dir "$D/img" || return 1
	kill -KILL "$PID" $(descendants "$PID")
	reap "$PID"
}

# Shared fd tables, filesystem contexts and signal handlers between processes
# (not threads) cannot be given back shared: refused, naming both processes.
t_err_shared() {
	refused_share files "fd table (CLONE_FILES)" && refused_share fs "(CLONE_FS)" &&
		refused_share sighand "share their" && pass
}

# refused_inflight HOW WANT: inflight.c HOW is refused at checkpoint with one
# line naming the process, its fd and WANT; the target is left untouched.
refused_inflight() {
	start inflight "$D/log.$1" "$1"
	need ready 20 "$D/log.$1" || return 1
	run 60 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --kill -o "$D/img/x.img" "$PID"
	need clean_error "chkpt of a socket queue holding $2" || return 1
	WHY="message does not name the fd and '$2': $(first_err)"
	need grep -q -- "process $PID fd [0-9]*: .*$2" "$D/err" && need untouched "$PID" "chkpt" &&
		need empty_dir "$D/img" || return 1
	kill -KILL "$PID"
	reap "$PID"
}

# Fds passed with SCM_RIGHTS and credentials not yet received are refused, not
# dropped; SO_PASSCRED itself is kept (inflight.c).
t_inflight() {
	refused_inflight rights SCM_RIGHTS && refused_inflight creds SO_PASSCRED || return
	start inflight "$D/log" passcred
	kill_set_restore_d && usr2_verdict "inflight ok" && pass
}

# A job's own pty (pty.c, a tiny script(1)): master and slave, data queued
# both ways, termios, window size, packet mode, lock, the child's
# controlling terminal and foreground group. A first checkpoint leaves it
# running: the queues it read are put back. A master alone is refused.
t_pty() {
	start pty "$D/log.alone" alone
	need ready 20 "$D/log.alone" || return
	run 60 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --kill -o "$D/img/x.img" "$PID"
	need clean_error "chkpt of a pty master without its slave" || return
	WHY="message does not name the fd and the slave: $(first_err)"
	need grep -q -- "process $PID fd 3: a pty master whose slave" "$D/err" && need untouched "$PID" "chkpt" &&
		need empty_dir "$D/img" || return
	kill -KILL "$PID"
	reap "$PID"
	start pty "$D/log"
	need ready 20 "$D/log" && need ckpt_ok -o "$D/first.img" "$PID" || return
	kill_set_restore_d && usr2_verdict "pty ok" && pass
}

# fanotify inode marks with their masks, ignored masks and mark flags
# (fanotify.c); events not yet read are refused, not dropped.
t_fanotify() {
	start fanotify "$D/log.queued" queued
	need ready 20 "$D/log.queued" || { grep -q unprivileged "$D/log.queued" && skip "no CAP_SYS_ADMIN for fanotify"; return; }
	run 60 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --kill -o "$D/img/x.img" "$PID"
	need clean_error "chkpt of a fanotify group with events not yet read" || return
	WHY="message does not name the fd and the events: $(first_err)"
	need grep -q -- "process $PID fd [0-9]*: a fanotify group with .* not yet read" "$D/err" &&
		need untouched "$PID" "chkpt" && need empty_dir "$D/img" || return
	kill -KILL "$PID"
	reap "$PID"
	start fanotify "$D/log"
	kill_set_restore_d && usr2_verdict "fanotify ok" && pass
}

# inotify watches keep their wds (one removed before the checkpoint), masks
# and flags (inotify.c); events not yet read are refused, not dropped.
t_inotify() {
	start inotify "$D/log.queued" queued
	need ready 20 "$D/log.queued" || return
	run 60 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --kill -o "$D/img/x.img" "$PID"
	need clean_error "chkpt of an inotify with events not yet read" || return
	WHY="message does not name the fd and the events: $(first_err)"
	need grep -q -- "process $PID fd [0-9]*: an inotify instance with .* not yet read" "$D/err" &&
		need untouched "$PID" "chkpt" && need empty_dir "$D/img" || return
	kill -KILL "$PID"
	reap "$PID"
	start inotify "$D/log"
	kill_set_restore_d && usr2_verdict "inotify ok" && pass
}

# Bound datagram unix sockets (a path and an abstract name) with datagrams
# queued from nameless senders, and a client connected to one (dgram.c); a
# datagram queued from a bound sender is refused.
t_dgram() {
	start dgram "$D/log.named" named
	need ready 20 "$D/log.named" || return
	run 60 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --kill -o "$D/img/x.img" "$PID"
	need clean_error "chkpt of a datagram queued from a bound sender" || return
	WHY="message does not name the fd and the sender: $(first_err)"
	need grep -q -- "process $PID fd [0-9]*: a datagram not yet received from the bound unix socket $D/cli.sock" "$D/err" &&
		need untouched "$PID" "chkpt" && need empty_dir "$D/img" || return
	kill -KILL "$PID"
	reap "$PID"
	start dgram "$D/log"
	kill_set_restore_d && usr2_verdict "dgram ok" && pass
}

# Connections accepted on named unix listeners (stream on a path, seqpacket
# abstract), data queued both ways (accepted.c).
t_accepted() {
	start accepted "$D/log"
	kill_set_restore_d && usr2_verdict "accepted ok" && pass
}

# A deleted working directory could not be entered again: refused at checkpoint.
t_err_deleted_cwd() { refused_share cwd "working directory .* was deleted" && pass; }

# A shared anonymous object seen through mappings at two offsets (and a
# child); mlock and madvise flags (memattrs.c).
t_memattrs() {
	start memattrs "$D/log"
	kill_set_restore_d && usr2_verdict "memattrs ok" && pass
}

# chkpt --pgrp / --session: a tree in its own session (setsid), whole group.
scope_test() {
	command -v setsid >/dev/null || { skip "no setsid"; return; }
	(cd "$D" && exec setsid "$TD/tree3$SUF" "$D/log" 12000) </dev/null >"$D/tree3.out" 2>&1 &
	PID=$!
	STARTED="$STARTED $PID"
	need ready 20 "$D/log" && kill_set_restore_fg_scope "$1" && need verdict "$D/log" "tree ok" && pass
}
kill_set_restore_fg_scope() {
	_kids=$(descendants "$PID")
	need ckpt_ok "$1" --kill -o "$D/set.img" "$PID" || return 1
	"$BIN/chkpt" info "$D/set.img" >"$D/info" 2>&1
	WHY="image holds $(grep -c '^process [0-9]' "$D/info") processes, want 3"
	need [ "$(grep -c '^process [0-9]' "$D/info")" = 3 ] || return 1
	reap "$PID"
	need poll 10 gone $_kids && need restore_fg "$D/set.img"
}
t_pgrp() { scope_test --pgrp; }
t_session() { scope_test --session; }

# The peer test program (../shared/peers/chpoxtest.c): checkpoint the tree at a
# random moment, kill it, restore it; its output must equal an uninterrupted run's.
CHPOX_REF=
chpox_reference() {
	[ -n "$CHPOX_REF" ] && return
	seq 1 6 >"$T/chpox.in"
	"$TD/chpoxtest$SUF" 1 "$T/chpox.in" "$T/chpox.ref" </dev/null >/dev/null 2>&1
	CHPOX_REF=$T/chpox.ref
}
# (seeded from /dev/urandom: busybox date, in the QEMU guests, has no %N)
random_ms() { awk -v lo="$1" -v hi="$2" -v s="$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')" 'BEGIN { srand(s); printf "%d", lo + rand() * (hi - lo) }'; }
sleep_ms() { sleep "$(awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }')"; }
# In the parent's SIGUSR1 handler it sleeps (nanosleep 35 / clock_nanosleep 230 on x86_64).
in_sleep() { case $(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null) in 35 | 230 | 101 | 115 | 162) return 0 ;; esac; return 1; }

chpox_run() {
	_mode=${1:-}
	[ -x "$TD/chpoxtest$SUF" ] || { skip "chpoxtest not built (../shared/peers missing)"; return; }
	chpox_reference
	# its processes read and write now and then: a position can move between
	# the audit's capture and the freeze (the output is compared instead); one
	# capture, so that a late random moment still finds it running (QEMU)
	AUDIT_MOVING='^fd [0-9]+ pos$' AUDIT_ONCE=1
	start chpoxtest 1 "$T/chpox.in" "$D/out.txt"
	# up to 4 s into its 6: the audit's capture before the freeze takes a
	# second or two under emulation, and the program must still run then
	sleep_ms "$(random_ms 1200 4000)"
	if [ "$_mode" = handler ]; then
		kill -USR1 "$PID"
		WHY="the parent never slept in its SIGUSR1 handler"
		need poll 10 in_sleep "$PID" || return
	fi
	echo "  chpox: checkpoint after $(lines "$D/out.txt") of 6 lines${_mode:+, in the SIGUSR1 handler}"
	kill_set_restore_fg && WHY="output differs from an uninterrupted run" &&
		need cmp -s "$D/out.txt" "$CHPOX_REF" && pass
}
t_chpox1() { chpox_run; }
t_chpox2() { chpox_run; }
t_chpox3() { chpox_run; }
t_chpox_handler() { chpox_run handler; }

# --- process and timer attributes (issue 10) ---------------------------------------

# Credentials, capabilities, securebits, no_new_privs, dumpable, subreaper,
# parent-death signal, scheduling and affinity, per thread (procattr.c).
t_procattr() {
	[ "$(id -u)" = 0 ] || { skip "not running as root"; return; }
	start procattr "$D/log"
	kill_set_restore_d && usr2_verdict "procattr ok" && pass
}

# POSIX timers (clocks, notification kinds, an id gap, a pending timer signal)
# and interval timers come back armed, with their intervals (timers.c).
t_timers() {
	start timers "$D/log"
	kill_set_restore_d && usr2_verdict "timers ok" && pass
}

# A process stopped at the checkpoint comes back stopped, and SIGCONT resumes it.
t_stopped() {
	start stopped "$D/log"
	need ready 10 "$D/log" || return
	kill -STOP "$PID"
	need poll 2 in_state "$PID" T &&
		need ckpt_ok --kill -o "$D/s.img" "$PID" || return
	reap "$PID"
	need restore_d "$D/s.img" && need poll 2 in_state "$PID" T || return
	cp "$D/log" "$D/log.snap"
	sleep 0.3
	WHY="the restored process went on ticking while stopped"
	need cmp -s "$D/log" "$D/log.snap" || return
	kill -CONT "$PID"
	WHY="no tick after SIGCONT"
	need poll 10 eval '! cmp -s "$D/log" "$D/log.snap"' && usr2_verdict "stopped ok" && pass
}

# An image is untrusted: root restoring a process whose real uid is 65534
# but which kept root's effective uid and capabilities (set-user-ID state)
# must refuse, naming it, and start nothing.
t_err_elevate() {
	[ "$(id -u)" = 0 ] || { skip "not running as root"; return; }
	(cd "$D" && exec "$TD/asuser" -r 65534 "$TD/idle$SUF" "$D/log") </dev/null >"$D/idle.out" 2>&1 &
	PID=$!
	STARTED="$STARTED $PID"
	need ready 10 "$D/log" &&
		need ckpt_ok --kill -o "$D/e.img" "$PID" || return
	reap "$PID"
	run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" "$D/e.img"
	need clean_error "rstrt of a set-user-ID process's image" || return
	WHY="message does not name the uid it would grant: $(first_err)"
	need grep -q "uid 0 besides real uid 65534" "$D/err" &&
		need poll 3 gone "$PID" && pass
}

# --- main ----------------------------------------------------------------------

TESTS=${E2E_TESTS:-"help usage counter_kill counter_append counter_default counter_stop memsum compress serve_now simd sigs
	maps stdio_image info info_json err_no_pid err_kthread err_zombie err_output err_pid_taken pidns pidns_tree map_path
	err_unprivileged err_garbage err_truncated err_corrupt tty ctty shell_job progress
	tree3 fifo shmem sharedfd threads evmem fdlist fdattrs evloop epollmoved locks bigmemfd ghost ghost_limit python_tempfile pipeline external_fd servers inflight pty inotify fanotify dgram accepted python_http tcpconn backlog err_backlog udpqueue tcp_close_chkpt tcp_close_rstrt memattrs err_shared err_deleted_cwd zombies cow cowshare err_single pgrp session
	chpox1 chpox2 chpox3 chpox_handler procattr timers stopped err_elevate"}

echo "e2e: $BIN with $VARIANT targets from $TD, work dir $T"
for TEST in $TESTS; do
	D=$T/$TEST
	mkdir -p "$D/img"
	: >"$CHKPT_REAPER_LOG"
	STARTED='' VERDICT='' PID='' WHY='' AUDIT_MOVING='' AUDIT_ONCE=''
	"t_$TEST"
	[ -n "$VERDICT" ] || fail "driver: test ended without a verdict"
	for _p in $STARTED; do
		alive "$_p" && kill -KILL "$_p" 2>/dev/null
		reap "$_p"
	done
	rm -f "$D"/*.img "$D"/img/*
	[ -n "${E2E_KEEP:-}" ] || rm -f "$D"/audit.*
done
if [ "$nfail" = 0 ] && [ -z "${E2E_KEEP:-}" ]; then
	rm -rf "$T"
else
	echo "logs kept in $T"
fi
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
