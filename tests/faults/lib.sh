# Shared by the robustness tests in tests/faults/ (sourced, POSIX sh: they also
# run under busybox ash in the QEMU guests). A script sets NAME and calls
#   faults_setup "$@"      arguments: BIN_DIR [TARGET_DIR [TOOLS_DIR]]
# which re-runs the script under TARGET_DIR/reaper (a child subreaper, so
# orphans such as detached restored processes or a killed chkpt's worker are
# reaped at once), then defines BIN, TD, FT, T (a fresh work dir) and the
# helpers below. Each test calls pass/fail/skip once; faults_done prints the
# summary line "N passed, N failed" that tests/check.sh adds up.
#
# Defaults: TARGET_DIR = BIN_DIR/e2e, TOOLS_DIR = BIN_DIR/faults. FAULTS_KEEP=1
# keeps the work dir; FAULTS_QUICK=1 asks for the short versions of the long
# tests (see each script).

faults_setup() {
	[ $# -ge 1 ] || { echo "usage: $0 BIN_DIR [TARGET_DIR [TOOLS_DIR]]" >&2; exit 2; }
	BIN=$(cd "$1" 2>/dev/null && pwd) || { echo "$0: no directory $1" >&2; exit 2; }
	TD=$(cd "${2:-$BIN/e2e}" 2>/dev/null && pwd) || { echo "$0: no target dir" >&2; exit 2; }
	FT=$(cd "${3:-$BIN/faults}" 2>/dev/null && pwd) || { echo "$0: no tools dir" >&2; exit 2; }
	if [ -z "${FAULTS_TMP:-}" ]; then
		[ -x "$TD/reaper" ] || { echo "$0: $TD/reaper missing (make e2e-targets)" >&2; exit 2; }
		FAULTS_TMP=$(mktemp -d "/tmp/chkpt-$NAME.XXXXXX") || exit 2
		CHKPT_REAPER_LOG=$FAULTS_TMP/reaped
		export FAULTS_TMP CHKPT_REAPER_LOG
		exec "$TD/reaper" /bin/sh "$0" "$BIN" "$TD" "$FT"
	fi
	T=$FAULTS_TMP
	npass=0 nfail=0 STARTED=
	for _f in "$BIN/chkpt" "$BIN/rstrt" "$FT/imgtool"; do
		[ -x "$_f" ] || { echo "FAIL $NAME setup: $_f missing (make)"; echo "0 passed, 1 failed"; exit 1; }
	done
	echo "$NAME: $BIN, targets $TD, tools $FT, work dir $T"
}

pass() { npass=$((npass + 1)); echo "PASS $TEST"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $TEST: $*"; }
skip() { echo "SKIP $TEST: $*"; }
. "$(dirname "$0")/../e2e/lib.sh"  # need, pstate, alive, dead, gone, poll, reap, run

faults_done() {
	for _p in $STARTED; do
		kill -KILL "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	if [ "$nfail" = 0 ] && [ -z "${FAULTS_KEEP:-}" ]; then
		rm -rf "$T" 2>/dev/null || { sleep 1; rm -rf "$T"; } # the reaper may still log
	else
		echo "logs kept in $T"
	fi
	echo "$npass passed, $nfail failed"
	[ "$nfail" = 0 ]
}

# --- processes ---------------------------------------------------------------

tracer() { sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null; }

# start DIR NAME ARGS...: start target NAME (from TD, or FT if it is there)
# in DIR with stdio on files; sets PID.
start() {
	_dir=$1 _name=$2
	shift 2
	_exe=$TD/$_name
	[ -x "$FT/$_name" ] && _exe=$FT/$_name
	(cd "$_dir" && exec "$_exe" "$@") </dev/null >"$_dir/$_name.out" 2>&1 &
	PID=$!
	STARTED="$STARTED $PID"
}

lines() { wc -l 2>/dev/null <"$1" | tr -d ' '; }
lines_ge() { [ "$(lines "$1")" -ge "$2" ] 2>/dev/null; }
has_line() { grep -q "^$2" "$1" 2>/dev/null; }
one_line() { tr '\n' '|' <"$1" | cut -c1-300; }

# A uniformly random integer in [0, N).
rand() { echo $(($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1)); }

# --- conditions for need (each sets WHY) ---------------------------------------

# The target logged "ready" to LOG within SECS.
ready() {
	poll "$1" has_line "$2" ready && return
	WHY="target not ready: $(cat "$2" "$(dirname "$2")"/*.out 2>/dev/null | tr '\n' '|' | cut -c1-200)"
	return 1
}

ckpt_ok() {
	run 120 /dev/null "$D/out" "$D/err" "$BIN/chkpt" "$@"
	WHY="chkpt $*: exit $RC$TO: $(one_line "$D/err")"
	[ "$RC" = 0 ] && [ -z "$TO" ]
}

# The last line of LOG starts with WANT.
verdict() {
	WHY="$1 ends with '$(tail -n 1 "$1" 2>/dev/null)', want '$2'"
	tail -n 1 "$1" 2>/dev/null | grep -q "^$2"
}

# Process PID, started with a LOG, answers SIGUSR2 with "verify ok" (memsum,
# evolve) within SECS.
verifies() {
	kill -USR2 "$1"
	poll "$3" has_line "$2" verify
	verdict "$2" "verify ok"
}

# The target survived: alive, not stopped, not traced.
untouched() {
	_st=$(pstate "$1")
	WHY="target state '$_st' after $2"
	case $_st in '' | Z | X | T | t) return 1 ;; esac
	_tr=$(tracer "$1")
	WHY="target traced by $_tr after $2"
	[ "$_tr" = 0 ]
}

# A failed command: exit status WANT (any non-zero if empty), not a crash or
# timeout, exactly one line on stderr.
clean_error() {
	WHY="$1 succeeded"
	[ "$RC" != 0 ] || return 1
	WHY="$1: exit $RC$TO (crash or hang, not a clean error): $(one_line "$D/err")"
	[ "$RC" -lt 126 ] && [ -z "$TO" ] || return 1
	WHY="$1: exit $RC, want ${2:-non-zero}: $(one_line "$D/err")"
	[ -z "${2:-}" ] || [ "$RC" = "$2" ] || return 1
	WHY="$1: want exactly one line on stderr, got: $(one_line "$D/err")"
	[ "$(lines "$D/err")" = 1 ]
}

# Processes (other than this shell's own) whose command line holds STRING.
procs_with() {
	for _d in /proc/[0-9]*; do
		_p=${_d#/proc/}
		[ "$_p" = $$ ] && continue
		tr '\0' ' ' 2>/dev/null <"$_d/cmdline" | grep -qF -- "$1" && echo "$_p"
	done
}
none_with() { [ -z "$(procs_with "$1")" ]; }
# Children of PID (chkpt's worker, for one).
children() { cat /proc/"$1"/task/*/children 2>/dev/null; }
all_gone() {
	for _g in "$@"; do [ -d "/proc/$_g" ] && return 1; done
	return 0
}
