#!/bin/sh
# Images through streams: a terminal line (a pty pair standing in for a serial
# line, in raw mode) named dev:PATH, a TCP socket passed as fd:N, a FIFO named
# fifo:PATH; a FIFO or device at a plain -o PATH is refused (one planted
# there must not receive a process's memory). Through the socket
# and the FIFO the image goes from chkpt straight into rstrt, never a file; the
# restore then runs in a PID namespace of its own (with its own /proc), since
# it recreates the PID while the frozen original still holds it here. memsum
# verifies its memory after every trip.
#
#   tests/migrate/streams.sh [BUILD_DIR]
#
# Prints PASS/FAIL per test and ends with "N passed, N failed".
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
setup_fail() { echo "FAIL setup: $*"; echo "0 passed, 1 failed"; exit 1; }
BIN=$(cd "$B" 2>/dev/null && pwd) || setup_fail "no build directory $B"
TD=$BIN/e2e
[ -x "$TD/memsum" ] && [ -x "$TD/reaper" ] || setup_fail "$TD/memsum missing (make e2e-targets)"
. tests/migrate/lib.sh
under_reaper chkpt-streams "$0" "$@" || setup_fail "mktemp failed"
set -u
build_nettool "$B" || setup_fail "cannot build nettool"
INITS=
trap 'mig_teardown; [ "$nfail" = 0 ] && rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
INIT_C=$(start_init -) && INITS=$INIT_C || setup_fail "cannot create a PID namespace"
PORT=$((20000 + $$ % 20000))

alive() { has_pid on_host "$1"; }
# memsum_here MIB: start memsum here; sets PID, log $T/m.log.
memsum_here() {
	rm -f "$T/m.log"
	"$TD/memsum" "$1" "$T/m.log" </dev/null >/dev/null 2>&1 &
	PID=$!
	WHY="memsum did not start"
	poll 30 has_line "$T/m.log" ready
}
# gone: the checkpointed original is dead and reaped, its PID free again.
gone() {
	poll 10 sh -c "! kill -0 $PID 2>/dev/null || grep -q '^State:.Z' /proc/$PID/status"
	wait "$PID" 2>/dev/null
	return 0
}
restored() {  # IN OUTFILE: rstrt -d printed $PID, and memsum verifies on IN
	WHY="rstrt printed '$(cat "$2")', want $PID"
	[ "$(cat "$2")" = "$PID" ] || return 1
	WHY="the restored memsum did not verify: $(one_line "$T/m.log")"
	verify "$1" "$PID" "$T/m.log"
}
clean_error() {  # RC ERRFILE WORDS: exit 1 and exactly one line saying WORDS
	WHY="want exit 1 and one line with '$3'; got exit $1: $(one_line "$2")"
	[ "$1" = 1 ] && [ "$(wc -l <"$2")" = 1 ] && grep -q "$3" "$2"
}
untouched() {
	WHY="PID $PID not running untraced after the failure"
	alive "$PID" && grep -q "^TracerPid:[[:space:]]*0$" "/proc/$PID/status"
}

# Out through a terminal line named dev:PATH (written in place, raw), into a
# file on the other side; then typed back through a terminal line into rstrt fd:3.
t_pty() {
	need memsum_here 32 || return
	"$NETTOOL" pty 3 "$T/pty.img" sh -c 'exec "$0" --kill -o "dev:$NETTOOL_PTY" "$1"' "$BIN/chkpt" "$PID" 2>"$T/err"
	WHY="chkpt -o dev:/dev/pts/N failed: $(one_line "$T/err")"
	need test $? = 0 && gone || return
	WHY="the image that came through the line is damaged"
	need "$BIN/chkpt" info "$T/pty.img" >/dev/null 2>"$T/err" || return
	"$NETTOOL" ptyin 3 "$T/pty.img" "$BIN/rstrt" -d fd:3 >"$T/out" 2>"$T/err"
	WHY="rstrt -d fd:3 from the line failed: $(one_line "$T/err")"
	need test $? = 0 && need restored on_host "$T/out" && pass
}

# Socket to socket: chkpt -o fd:3 on a TCP connection, rstrt -d fd:3 on its
# other end; the image is never a file.
t_tcp() {
	need memsum_here 32 || return
	in_c "$NETTOOL" listen "127.0.0.1:$PORT" "$BIN/rstrt" -d fd:3 >"$T/out" 2>"$T/rerr" &
	_l=$!
	sleep 0.3
	"$NETTOOL" connect "127.0.0.1:$PORT" "$BIN/chkpt" --kill -o fd:3 "$PID" 2>"$T/err"
	_rc=$?
	wait $_l
	WHY="chkpt -o fd:3 (exit $_rc): $(one_line "$T/err") / rstrt -d fd:3: $(one_line "$T/rerr")"
	need test $_rc = 0 && gone && need restored in_c "$T/out" && pass
}

# A FIFO named fifo:PATH: written in place, no IMAGE.tmp.N beside it; rstrt
# reads it by its plain path.
t_fifo() {
	need memsum_here 32 || return
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	in_c "$BIN/rstrt" -d "$T/fifo" >"$T/out" 2>"$T/rerr" &
	_l=$!
	"$BIN/chkpt" --kill -o "fifo:$T/fifo" "$PID" 2>"$T/err"
	_rc=$?
	[ $_rc = 0 ] || { exec 9>"$T/fifo" && exec 9>&-; } # rstrt waits for a writer
	wait $_l
	WHY="chkpt -o fifo:FIFO (exit $_rc): $(one_line "$T/err") / rstrt: $(one_line "$T/rerr")"
	need test $_rc = 0 && gone || return
	WHY="a temporary file next to the FIFO: $(ls "$T" | grep tmp)"
	need test -z "$(ls "$T" | grep 'fifo.tmp')" && need restored in_c "$T/out" && pass
}

# An image is never sprayed onto a terminal by accident ("-" on a tty), nor
# into a FIFO or device that happens to be at a plain -o PATH (someone may have
# planted it: nothing is written to it, nothing replaces it, no temporary is
# left; the explicit form is named in the message); fifo:/dev: of the wrong
# kind and a descriptor that is not open are one clear error. The target goes on.
t_refusals() {
	need memsum_here 16 || return
	rm -f "$T/planted"
	mkfifo "$T/planted"
	cat "$T/planted" >"$T/stolen" &
	_cat=$!
	"$BIN/chkpt" -o "$T/planted" "$PID" 2>"$T/err"
	need clean_error $? "$T/err" "fifo:$T/planted" && need untouched || return
	WHY="the planted FIFO was replaced or read: $(ls -l "$T/planted") / $(wc -c <"$T/stolen") bytes"
	need test -p "$T/planted" && need test ! -s "$T/stolen" || return
	WHY="a temporary was left: $(ls "$T" | grep planted.tmp)"
	need test -z "$(ls "$T" | grep planted.tmp)" || return
	exec 9>"$T/planted" && exec 9>&- # let the reader end
	wait $_cat
	"$NETTOOL" pty 1 "$T/junk" sh -c 'exec "$0" -o "$NETTOOL_PTY" "$1"' "$BIN/chkpt" "$PID" 2>"$T/err"
	need clean_error $? "$T/err" "dev:/dev/pts/" && need untouched || return
	WHY="the refusal wrote to the line: $(wc -c <"$T/junk") bytes"
	need test ! -s "$T/junk" || return
	"$BIN/chkpt" -o "dev:$T/planted" "$PID" 2>"$T/err"
	need clean_error $? "$T/err" "is not a character device" && need untouched || return
	"$BIN/chkpt" -o "fifo:/dev/null" "$PID" 2>"$T/err"
	need clean_error $? "$T/err" "is not a FIFO" && need untouched || return
	"$NETTOOL" pty 1 "$T/junk" "$BIN/chkpt" -o - "$PID" 2>"$T/err"
	need clean_error $? "$T/err" "refusing to write an image to a terminal" && need untouched || return
	"$BIN/chkpt" -o fd:9 "$PID" 9>&- 2>"$T/err"
	need clean_error $? "$T/err" "fd:9" && need untouched || return
	"$NETTOOL" ptyin 0 /dev/null "$BIN/rstrt" - 2>"$T/err"
	need clean_error $? "$T/err" "refusing to read an image from a terminal" || return
	WHY="the target did not verify: $(one_line "$T/m.log")"
	need verify on_host "$PID" "$T/m.log" && pass
}

for t in pty tcp fifo refusals; do
	TEST=stream_$t
	WHY=
	t_$t
done
summary
