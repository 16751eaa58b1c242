#!/bin/sh
# libchkpt's tests (docs/API.md): C programs linked with the library
# (tests/api/*.c, built by `make e2e-targets` static musl as NAME and dynamic
# glibc as NAME.glibc) in the IRIX and CRS flows, and `chkpt PID` on programs
# with callbacks and critical sections.
#
#   tests/api/run.sh BIN_DIR API_DIR E2E_DIR [musl|glibc]
#
# BIN_DIR holds chkpt, API_DIR the test programs, E2E_DIR the e2e helpers
# (reaper, asuser). Prints PASS/FAIL/SKIP per test and ends with
# "N passed, N failed" (exit 1 if any failed). POSIX sh (busybox ash too).
# API_TESTS="irix crs" runs only those.

usage() { echo "usage: $0 BIN_DIR API_DIR E2E_DIR [musl|glibc]" >&2; exit 2; }
[ $# -ge 3 ] || usage
BIN=$(cd "$1" 2>/dev/null && pwd) || usage
AD=$(cd "$2" 2>/dev/null && pwd) || usage
TD=$(cd "$3" 2>/dev/null && pwd) || usage
VARIANT=${4:-musl}
case $VARIANT in
musl) SUF= ;;
glibc) SUF=.glibc ;;
*) usage ;;
esac
setup_fail() {
	echo "FAIL api setup: $*"
	echo "0 passed, 1 failed"
	exit 1
}
[ -x "$BIN/chkpt" ] || setup_fail "$BIN/chkpt missing (make)"
[ -x "$AD/irix$SUF" ] && [ -x "$TD/reaper" ] || setup_fail "test programs missing (make e2e-targets)"

# Under a child subreaper, as the e2e suite: restored processes are reaped.
if [ -z "${API_TMP:-}" ]; then
	API_TMP=$(mktemp -d /tmp/chkpt-api.XXXXXX) || setup_fail "mktemp failed"
	export API_TMP
	exec "$TD/reaper" /bin/sh "$0" "$BIN" "$AD" "$TD" "$VARIANT"
fi
T=$API_TMP
set -u
# The library runs this chkpt.
CHKPT_BIN=$BIN/chkpt
export CHKPT_BIN

npass=0 nfail=0
pass() { VERDICT=1; npass=$((npass + 1)); echo "PASS api-$VARIANT $TEST"; }
fail() { VERDICT=1; nfail=$((nfail + 1)); echo "FAIL api-$VARIANT $TEST: $*"; }
skip() { VERDICT=1; echo "SKIP api-$VARIANT $TEST: $*"; }
. "$(dirname "$0")/../e2e/lib.sh"  # need, alive, dead, poll, reap, run

# start NAME ARGS...: a test program in the test dir, output in $D/NAME.out.
start() {
	_name=$1
	shift
	(cd "$D" && exec $AS "$AD/$_name$SUF" "$@") </dev/null >"$D/$_name.out" 2>&1 &
	PID=$!
	STARTED="$STARTED $PID"
}
says() { tr '\n' '|' <"$1" 2>/dev/null | cut -c1-300; }
has() { grep -q "^$2" "$1" 2>/dev/null; }
# line_before FILE A B: line A comes before line B in FILE.
line_before() {
	_a=$(grep -n "^$2" "$1" | head -n 1 | cut -d: -f1)
	_b=$(grep -n "^$3" "$1" | head -n 1 | cut -d: -f1)
	WHY="'$2' not before '$3' in $1: $(says "$1")"
	[ -n "$_a" ] && [ -n "$_b" ] && [ "$_a" -lt "$_b" ]
}
# chkpt_fails WHAT ARGS...: chkpt ARGS fails with one line containing WHAT.
chkpt_fails() {
	_what=$1
	shift
	run 30 /dev/null "$D/out" "$D/err" "$BIN/chkpt" "$@"
	WHY="chkpt $*: exit $RC$TO, said: $(says "$D/err")"
	[ "$RC" = 1 ] && [ -z "$TO" ] && [ "$(wc -l <"$D/err")" = 1 ] && grep -q "process $PID.*$_what" "$D/err"
}
chkpt_ok() {
	run 60 /dev/null "$D/out" "$D/err" "$BIN/chkpt" "$@"
	WHY="chkpt $*: exit $RC$TO: $(says "$D/err")"
	[ "$RC" = 0 ] && [ -z "$TO" ]
}
# The target goes on after a refused checkpoint: it answers SIGUSR1.
goes_on() {
	_n=$(grep -c '^alive' "$D/log" 2>/dev/null)
	kill -USR1 "$PID"
	WHY="process $PID does not go on: state $(pstate "$PID"), log: $(says "$D/log")"
	poll 10 eval '[ "$(grep -c "^alive" "$D/log")" -gt "$_n" ]'
}

# The IRIX flow (irix.c): checkpoint itself (atcheckpoint closes its
# connection to the server), ckpt_stat, killed, ckpt_restart (atrestart
# reconnects), memory checked, ckpt_remove. $AS: as another user.
irix_flow() {
	_as=$AS AS=''
	start irix server "$D/sock" "$D/log"
	_server=$PID AS=$_as
	need poll 10 test -S "$D/sock" || return
	chmod 666 "$D/sock"
	start irix run "$D/sock" "$D/self.img"
	poll 60 has "$D/irix.out" ready || { fail "irix run: $(says "$D/irix.out") server: $(says "$D/log")"; return; }
	WHY="server log: $(says "$D/log")"
	need line_before "$D/log" "hello $PID" "bye $PID" &&
		need line_before "$D/log" "bye $PID" "continued $PID" || return
	WHY="the image is not the caller's: $(says "$D/irix.out")"
	need grep -q "^ckpt_stat: revision [0-9]* pid $PID " "$D/irix.out" || return
	kill -KILL "$PID"
	reap "$PID"
	_self=$PID AS=''
	start irix restart "$D/self.img"
	reap "$PID"
	PID=$_self
	WHY="ckpt_restart: exit $RC: $(says "$D/irix.out")"
	need [ "$RC" = 0 ] && need [ "$(cat "$D/irix.out")" = "$PID" ] || return
	poll 30 has "$D/log" "removed $PID" || { fail "after the restart: $(says "$D/log")"; return; }
	need line_before "$D/log" "continued $PID" "restarted $PID" &&
		need line_before "$D/log" "restarted $PID" "memory ok" &&
		need [ ! -e "$D/self.img" ] && pass
	kill -KILL "$_server"
}

t_irix() { AS='' irix_flow; }

# The same as an unprivileged user: the library lets its helper trace it
# (PR_SET_PTRACER, for Yama); root restarts it.
t_irix_user() {
	[ "$(id -u)" = 0 ] || { skip "not running as root"; return; }
	[ -x "$TD/asuser" ] || { skip "no $TD/asuser"; return; }
	# root restores the image as its owner's processes, in the owner's groups
	grep -q '^[^:]*:[^:]*:65534:65534:' /etc/passwd 2>/dev/null ||
		{ skip "no user 65534 with group 65534 in /etc/passwd"; return; }
	chmod 755 "$T"
	chmod 777 "$D"
	: >"$D/irix.out"  # its stdout: the user's restore reopens it
	chmod 666 "$D/irix.out"
	AS="$TD/asuser 65534" irix_flow
}

t_crs() {
	AS=''
	start crs "$D/crs.img" "$D/log"
	reap "$PID"
	WHY="crs: exit $RC: $(says "$D/crs.out")"
	need [ "$RC" = 0 ] && need has "$D/crs.out" "crs ok" || return
	poll 30 has "$D/log" "restored ok" || { fail "the restored child: $(says "$D/log")"; return; }
	pass
}

t_native() {
	AS=''
	start native "$D/n.img" "$D/log"
	reap "$PID"
	WHY="native: exit $RC: $(says "$D/native.out")"
	need [ "$RC" = 0 ] && need has "$D/native.out" "native ok" || return
	poll 30 has "$D/log" "restored ok" || { fail "the restored child: $(says "$D/log")"; return; }
	pass
}

# A callback that refuses: chkpt fails with one line naming the process and
# the reason, no image, the process goes on; --no-callbacks still works.
t_callback_abort() {
	AS=''
	start cbs abort "$D/log"
	need poll 10 has "$D/cbs.out" ready || return
	need chkpt_fails "refused: not now" -o "$D/a.img" "$PID" &&
		need has "$D/log" asked || return
	WHY="an image was left"
	need [ ! -e "$D/a.img" ] && need goes_on &&
		need chkpt_ok --no-callbacks -o "$D/b.img" "$PID" && need goes_on && pass
}

# A critical section: refused at once with --nowait, after the timeout
# otherwise; a checkpoint waits for its end, then the callbacks run.
t_critical_section() {
	AS=''
	start cbs cs "$D/log"
	need poll 10 has "$D/log" "in cs" || return
	need chkpt_fails "is in a critical section" --nowait -o "$D/a.img" "$PID" &&
		need chkpt_fails "stayed in a critical section" --callback-timeout 0.3 -o "$D/a.img" "$PID" || return
	WHY="a callback ran while the critical section was held: $(says "$D/log")"
	need [ "$(grep -c '^before' "$D/log")" = 0 ] || return
	"$BIN/chkpt" -o "$D/c.img" "$PID" </dev/null >"$D/out" 2>"$D/err" &
	_c=$!
	sleep 0.5
	: >"$D/log.go"
	reap "$_c"
	WHY="chkpt while in a critical section: exit $RC: $(says "$D/err")"
	need [ "$RC" = 0 ] &&
		need line_before "$D/log" "leaving cs" "before" &&
		need line_before "$D/log" "before" "after checkpoint" &&
		need goes_on && pass
}

# A callback that never returns: chkpt gives up after --callback-timeout,
# naming the process; --no-callbacks still checkpoints it.
t_callback_hang() {
	AS=''
	start cbs hang "$D/log"
	need poll 10 has "$D/cbs.out" ready || return
	need chkpt_fails "did not answer within 500 ms" --callback-timeout 0.5 -o "$D/a.img" "$PID" &&
		need has "$D/log" hanging && need goes_on &&
		need chkpt_ok --no-callbacks -o "$D/b.img" "$PID" && pass
}

TESTS=${API_TESTS:-"irix irix_user crs native callback_abort critical_section callback_hang"}
echo "api: $BIN with $VARIANT programs from $AD, work dir $T"
for TEST in $TESTS; do
	D=$T/$TEST
	mkdir -p "$D"
	STARTED='' VERDICT='' PID='' WHY='' AS=''
	"t_$TEST"
	[ -n "$VERDICT" ] || fail "driver: test ended without a verdict"
	for _p in $STARTED; do
		alive "$_p" && kill -KILL "$_p" 2>/dev/null
		reap "$_p"
	done
done
if [ "$nfail" = 0 ]; then rm -rf "$T"; else echo "logs kept in $T"; fi
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
