#!/bin/sh
# Migration between two simulated hosts over a real TCP connection: host A and
# host B are each a network namespace with its own PID namespace, joined by a
# veth pair (tests/migrate/lib.sh). restartd runs on B for the whole run and
# takes the migrations one after another; each test starts its target on A
# with a chosen PID, which B's restore must recreate while A's frozen original
# still holds it. The targets verify their own memory (memsum: checksums of
# 256 MiB and more; chpoxtest: its output against an uninterrupted run; a TCP
# server keeps answering its client, on a third network, on one connection).
#
#   tests/migrate/run.sh [BUILD_DIR]        (default build; needs root, iproute2)
#
# Prints PASS/FAIL/SKIP per test and ends with "N passed, N failed". The
# namespaces, the veth pair and every process in them go away on exit, even
# after a failure. MIG_TESTS="memsum replay" runs only those tests.
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
setup_fail() { echo "FAIL setup: $*"; echo "0 passed, 1 failed"; exit 1; }
BIN=$(cd "$B" 2>/dev/null && pwd) || setup_fail "no build directory $B"
TD=$BIN/e2e
[ -x "$BIN/chkpt" ] && [ -e "$BIN/migrate" ] && [ -e "$BIN/restartd" ] || setup_fail "$BIN/migrate missing (make)"
[ -x "$TD/memsum" ] && [ -x "$TD/reaper" ] || setup_fail "$TD/memsum missing (make e2e-targets)"
. tests/migrate/lib.sh
under_reaper chkpt-mig "$0" "$@" || setup_fail "mktemp failed"
set -u
command -v ip >/dev/null || setup_fail "ip not found (sh scripts/install-deps.sh installs iproute2)"
build_nettool "$B" || setup_fail "cannot build nettool"
trap 'mig_teardown; ip netns del "$NS_C" 2>/dev/null; [ "$nfail" = 0 ] && [ -z "${MIG_KEEP:-}" ] && rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
mig_setup || setup_fail "cannot create the two hosts (network and PID namespaces)"

KEY=$T/key OTHER=$T/other.key
new_key "$KEY" && new_key "$OTHER" || setup_fail "cannot write keys"
PORT=7450 PROXY=7451
DEST=$ADDR_B:$PORT

# The daemon on host B, for the whole run.
in_b "$BIN/restartd" --key "$KEY" --listen "$DEST" --timeout 5 </dev/null 2>"$T/restartd.log" &
RD=$!
poll 10 has_line "$T/restartd.log" "listening on" || setup_fail "restartd did not start: $(one_line "$T/restartd.log")"
# stop_daemon PID: SIGTERM to the restartd that nsenter PID runs.
stop_daemon() { kill "$(named restartd "$1")" 2>/dev/null; }
daemon_alive() { WHY="restartd is gone: $(one_line "$T/restartd.log")"; has_pid on_host "$RD"; }

# memsum_on IN PID MIB: start memsum on host IN as PID; log $T/PID.log.
memsum_on() {
	rm -f "$T/$2.log"
	WHY="could not start memsum as PID $2"
	start_at "$1" "$2" "$TD/memsum" "$3" "$T/$2.log" && poll 30 has_line "$T/$2.log" ready
}
# migrate_via PORT PID [ARGS...]: migrate PID from A to B:PORT; output in $T/PID.out, .err.
migrate_via() {
	_port=$1 _pid=$2
	shift 2
	in_a "$BIN/migrate" --key "$KEY" "$@" "$_pid" "$ADDR_B:$_port" >"$T/$_pid.out" 2>"$T/$_pid.err"
}
# proxy MODE [ARG]: a one-connection proxy on B from $PROXY to restartd.
proxy() {
	in_b "$NETTOOL" proxy "$ADDR_B:$PROXY" "$DEST" "$@" 2>"$T/proxy.err" &
	PROXY_PID=$!
	sleep 0.3
}
failed_cleanly() {  # PID WORDS: migrate said "not migrated" and WORDS, in one line
	WHY="migrate of $1 should fail with '$2': $(one_line "$T/$1.err")"
	[ "$(wc -l <"$T/$1.err")" = 1 ] && has_line "$T/$1.err" "not migrated, PID $1 goes on here" &&
		has_line "$T/$1.err" "$2"
}
source_survives() {  # PID: still on A, memory intact; nothing at PID on B (at the latest
	# once restartd's --timeout has passed: a stalled stream is noticed then)
	WHY="PID $1: the source is gone"
	has_pid in_a "$1" || return 1
	WHY="PID $1: a process is left on B"
	poll 10 no_pid in_b "$1" || return 1
	WHY="PID $1: the source did not verify after the failed migration: $(one_line "$T/$1.log")"
	verify in_a "$1" "$T/$1.log"
}
ran() { [ -z "${MIG_TESTS:-}" ] || case " $MIG_TESTS " in *" $1 "*) ;; *) return 1 ;; esac; }

# ---- tests ---------------------------------------------------------------------

t_help() {
	"$BIN/migrate" --help | grep -q "^usage: migrate" && "$BIN/restartd" --help | grep -q "^usage: restartd" &&
		"$BIN/chkpt" migrate --help | grep -q "^usage: migrate" && "$BIN/chkpt" restartd -h | grep -q "restartd" ||
		{ fail "--help"; return; }
	pass
}

# The 256 MiB checksum program moves to B, with its PID, and checks its memory
# there; the source is gone; restartd reaps it when it ends. stderr is a
# terminal here: progress is shown.
t_memsum() {
	need memsum_on in_a 1000 256 || return
	in_a "$NETTOOL" pty 2 "$T/progress" "$BIN/migrate" --key "$KEY" 1000 "$DEST" >"$T/1000.out"
	WHY="migrate failed: $(one_line "$T/progress")"
	need has_line "$T/1000.out" "^PID 1000 migrated to $DEST" || return
	WHY="the source still runs on A"
	need poll 10 no_pid in_a 1000 || return
	need has_pid in_b 1000 && need has_line "$T/restartd.log" "restored PID 1000" || return
	WHY="no progress on the terminal: $(one_line "$T/progress")"
	need has_line "$T/progress" "MiB/s, ETA" || return
	WHY="the migrated memsum did not verify on B: $(one_line "$T/1000.log")"
	need verify in_b 1000 "$T/1000.log" || return
	WHY="restartd did not reap the migrated process: $(one_line "$T/restartd.log")"
	need poll 10 has_line "$T/restartd.log" "PID 1000 ended (exit status 0)" && pass
}

# migrate --compress: memsum with a heap of text, structs and zeros moves in
# PAGES_LZ4 records (restartd reads them like any image) and verifies on B;
# the image sent is smaller than the same program's without --compress.
# mixed_on PID: that memsum (8 MiB random, 16 MiB mixed) as PID on A.
mixed_on() {
	rm -f "$T/$1.log"
	WHY="could not start memsum as PID $1"
	start_at in_a "$1" env MEMSUM_MIXED=16 "$TD/memsum" 8 "$T/$1.log" && poll 30 has_line "$T/$1.log" ready
}
migrated_mib() { sed -n "s/^PID $1 migrated to [^ ]*: \([0-9.]*\) MiB.*/\1/p" "$T/$1.out"; }
t_compress() {
	for _p in 2200 2210; do
		need mixed_on $_p || return
		[ $_p = 2200 ] && set -- || set -- --compress
		migrate_via "$PORT" $_p "$@"
		WHY="migrate $* of $_p failed: $(one_line "$T/$_p.err")"
		need has_line "$T/$_p.out" "^PID $_p migrated to $DEST" || return
		WHY="the memsum migrated with '$*' did not verify on B: $(one_line "$T/$_p.log")"
		need poll 10 no_pid in_a $_p && need verify in_b $_p "$T/$_p.log" || return
	done
	WHY="--compress sent $(migrated_mib 2210) MiB, without $(migrated_mib 2200) MiB"
	need awk -v z="$(migrated_mib 2210)" -v p="$(migrated_mib 2200)" 'BEGIN { exit !(z > 0 && z < p * 0.75) }' && pass
}

t_wrong_key() {
	need memsum_on in_a 1100 64 || return
	in_a "$BIN/migrate" --key "$OTHER" 1100 "$DEST" >"$T/1100.out" 2>"$T/1100.err"
	need failed_cleanly 1100 "refused the key" && need has_line "$T/restartd.log" "refused: wrong key" &&
		need source_survives 1100 && pass
}

# One byte of the stream inverted on the way: the frame fails its MAC, nothing
# is restored from it.
t_tampered() {
	need memsum_on in_a 1200 64 || return
	proxy flip 5000000
	migrate_via $PROXY 1200
	need failed_cleanly 1200 "failed authentication" && need source_survives 1200 && pass
}

# The stream ends early (a clean end of file, 20 MB in): refused, not restored.
t_truncated() {
	need memsum_on in_a 1300 64 || return
	proxy truncate 20000000
	migrate_via $PROXY 1300
	need failed_cleanly 1300 "refused: the connection closed" && need source_survives 1300 && pass
}

# The connection is reset in mid-stream: the source goes on, restartd too.
t_cut() {
	need memsum_on in_a 1400 64 || return
	proxy reset 30000000
	migrate_via $PROXY 1400
	need failed_cleanly 1400 "connection" && need source_survives 1400 && need daemon_alive && pass
}

# The link goes dead in mid-stream (nothing gets through any more, nothing is
# closed): both ends give up after their timeouts and the source goes on.
t_stall() {
	need memsum_on in_a 1450 64 || return
	proxy stall 10000000
	migrate_via $PROXY 1450 --timeout 3
	kill "$PROXY_PID" 2>/dev/null
	need failed_cleanly 1450 "timed out" && need source_survives 1450 && need daemon_alive && pass
}

# ^C (SIGINT) to migrate in mid-stream: the dump stops between pages, the
# source goes on, nothing is restored.
t_interrupt() {
	need memsum_on in_a 1470 64 || return
	proxy stall 10000000
	migrate_via $PROXY 1470 &
	_n=$!
	sleep 1
	_m=$(named migrate $_n)
	WHY="migrate did not start (found '$(cat "/proc/$_m/comm")')"
	need test "$(cat "/proc/$_m/comm")" = migrate || return
	kill -INT "$_m"
	wait $_n
	kill "$PROXY_PID" 2>/dev/null
	need failed_cleanly 1470 "interrupted" && need source_survives 1470 && pass
}

# SIGKILL to migrate itself at random moments: its worker (which does the
# tracing) gives up cleanly, or, if the image was out already, finishes. Either
# way the process runs exactly once, on A or on B, not traced, and verifies.
t_killed() {
	for _i in 1 2 3 4; do
		need memsum_on in_a 1480 256 || return
		_before=$(grep -c "restored PID 1480" "$T/restartd.log")
		_ended=$(grep -c "PID 1480 ended" "$T/restartd.log")
		migrate_via $PORT 1480 &
		_n=$!
		sleep "0.$(($(od -An -N1 -tu1 /dev/urandom) % 9 + 1))"
		_m=$(named migrate $_n)
		_w=$(cat "/proc/$_m/task/$_m/children" 2>/dev/null)
		kill -KILL "$_m" 2>/dev/null
		wait $_n
		WHY="the migrate worker $_w did not finish"
		need poll 30 no_pid on_host "${_w:-0}" || return
		# Whether it got there, restartd says (other processes of B may hold PID
		# 1480 of B's own namespace meanwhile). It may say so a moment after
		# migrate is gone: wait for its word, or for the job to be back on A.
		poll 10 eval '[ "$(grep -c "restored PID 1480" "$T/restartd.log")" != "$_before" ] || back_on_a 1480' || :
		if [ "$(grep -c "restored PID 1480" "$T/restartd.log")" != "$_before" ]; then
			WHY="PID 1480 runs on both A and B"
			need poll 10 no_pid in_a 1480 || return
			WHY="PID 1480 did not verify on B: $(one_line "$T/1480.log")"
			need verify in_b 1480 "$T/1480.log" || return
			WHY="restartd did not see the migrated PID 1480 end"
			need poll 10 ended_more "$_ended" || return
		else
			WHY="PID 1480 is on neither host"
			need has_pid in_a 1480 || return
			WHY="PID 1480 is still traced on A after migrate was killed"
			need poll 10 untraced in_a 1480 || return
			WHY="PID 1480 did not verify on A: $(one_line "$T/1480.log")"
			need verify in_a 1480 "$T/1480.log" && need poll 10 no_pid in_a 1480 || return
		fi
	done
	pass
}
ended_more() { [ "$(grep -c "PID 1480 ended" "$T/restartd.log")" != "$1" ]; }
# The job runs on A as before: there, untraced, and not a zombie.
back_on_a() {
	has_pid in_a "$1" && untraced in_a "$1" &&
		[ "$(in_a sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)" != Z ]
}
untraced() { [ "$($1 sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$2/status" 2>/dev/null)" = 0 ]; }

# A recorded migration, replayed to restartd after the original is gone: its
# key proof answers another nonce, so it is refused; and even after a fresh,
# valid handshake (a key holder), the recorded frames fail their MACs.
t_replay() {
	need memsum_on in_a 1500 16 || return
	proxy record "$T/recorded"
	migrate_via $PROXY 1500
	WHY="the recorded migration failed: $(one_line "$T/1500.err")"
	need has_line "$T/1500.out" "^PID 1500 migrated" || return
	in_b kill -KILL 1500
	need poll 10 no_pid in_b 1500 || return
	WHY="replay: $(in_a "$NETTOOL" replay "$DEST" "$T/recorded" 2>&1)"
	case $WHY in *"refused (wrong key)"*) ;; *) fail "$WHY"; return ;; esac
	WHY="keyed replay: $(in_a "$NETTOOL" replay-keyed "$DEST" "$T/recorded" "$KEY" 2>&1)"
	case $WHY in *"REFUSED frame 0 failed authentication"*) ;; *) fail "$WHY"; return ;; esac
	WHY="a replayed stream restored PID 1500 on B"
	need no_pid in_b 1500 && pass
}

# The PID is taken on B: refused with one line, the source goes on, B's
# process is untouched.
t_pid_taken() {
	WHY="cannot occupy PID 1600 on B"
	need start_at in_b 1600 sleep 1000 && need memsum_on in_a 1600 64 || return
	migrate_via $PORT 1600
	need failed_cleanly 1600 "PID 1600 is in use" || return
	WHY="B's PID 1600 was disturbed"
	need test "$(in_b cat /proc/1600/comm)" = sleep || return
	in_b kill -KILL 1600
	need has_pid in_a 1600 && need verify in_a 1600 "$T/1600.log" && pass
}

# Two sources with the same PID (two PID namespaces on host A) migrate at the
# same time: one is restored, the other refused and resumed.
t_concurrent() {
	INIT_C=$(start_init "$NS_A") && INITS="$INITS $INIT_C" || { fail "cannot create a third PID namespace"; return; }
	need memsum_on in_a 1700 64 || return
	rm -f "$T/c1700.log"
	WHY="cannot start memsum as PID 1700 in the third namespace"
	need start_at in_c 1700 "$TD/memsum" 64 "$T/c1700.log" && need poll 30 has_line "$T/c1700.log" ready || return
	migrate_via $PORT 1700 &
	_m1=$!
	in_c "$BIN/migrate" --key "$KEY" 1700 "$DEST" >"$T/c1700.out" 2>"$T/c1700.err" &
	_m2=$!
	wait $_m1
	_r1=$?
	wait $_m2
	_r2=$?
	case $_r1$_r2 in
	01) _won=in_a _wlog=$T/1700.log _lost=in_c _llog=$T/c1700.log _lerr=$T/c1700.err ;;
	10) _won=in_c _wlog=$T/c1700.log _lost=in_a _llog=$T/1700.log _lerr=$T/1700.err ;;
	*) fail "exit statuses $_r1 and $_r2, expected one success: $(one_line "$T/1700.err") $(one_line "$T/c1700.err")"; return ;;
	esac
	WHY="the loser's reason: $(one_line "$_lerr")"
	need has_line "$_lerr" "PID 1700 is in use" && need has_pid $_lost 1700 || return
	WHY="the loser's source did not verify: $(one_line "$_llog")"
	need verify $_lost 1700 "$_llog" || return
	WHY="the winner did not verify on B: $(one_line "$_wlog")"
	need verify in_b 1700 "$_wlog" && pass
}

# restartd --dir keeps a synced copy of what it restored, restorable later;
# migrate is silent when stderr is not a terminal.
t_dir() {
	mkdir -p "$T/keep"
	in_b "$BIN/restartd" --key "$KEY" --listen "$ADDR_B:7452" --dir "$T/keep" </dev/null 2>"$T/restartd2.log" &
	_rd2=$!
	need poll 10 has_line "$T/restartd2.log" "listening on" && need memsum_on in_a 1800 16 || return
	migrate_via 7452 1800
	stop_daemon "$_rd2"
	WHY="migrate with --dir: $(one_line "$T/1800.err")"
	need has_line "$T/1800.out" "^PID 1800 migrated" || return
	WHY="progress or noise on a non-terminal stderr: $(one_line "$T/1800.err")"
	need test ! -s "$T/1800.err" || return
	WHY="no copy, or a temporary left: $(ls -a "$T/keep" | tr '\n' ' ')"
	need test -f "$T/keep/1800.img" && need test -z "$(ls -A "$T/keep" | grep -v '^1800.img$')" || return
	WHY="the copy does not pass chkpt info"
	need "$BIN/chkpt" info "$T/keep/1800.img" >/dev/null || return
	in_b kill -KILL 1800
	need poll 10 no_pid in_b 1800 || return
	WHY="the copy does not restore"
	need test "$(in_b "$BIN/rstrt" -d "$T/keep/1800.img")" = 1800 &&
		need verify in_b 1800 "$T/1800.log" && pass
}

# Slow unauthenticated connections (more than restartd's handshake slots,
# each sending a byte a second, so no per-read timeout fires) cannot keep a key
# holder out: the migration started right after them succeeds, and restartd
# ends every one of them by its handshake deadline.
t_slow_handshakes() {
	need memsum_on in_a 1820 16 || return
	in_a "$NETTOOL" trickle "$DEST" 20 60 >"$T/trickle.out" 2>&1 &
	_tr=$!
	sleep 1
	migrate_via $PORT 1820
	_rc=$?
	wait $_tr
	WHY="migrate behind 20 slow handshakes (exit $_rc): $(one_line "$T/1820.err")"
	need has_line "$T/1820.out" "^PID 1820 migrated" && need poll 10 no_pid in_a 1820 || return
	WHY="the migrated memsum did not verify on B: $(one_line "$T/1820.log")"
	need verify in_b 1820 "$T/1820.log" || return
	in_b kill -KILL 1820 2>/dev/null
	WHY="restartd did not close the slow connections: $(one_line "$T/trickle.out")"
	need has_line "$T/trickle.out" "^open 0 of 20" || return
	WHY="no handshake deadline in the log: $(grep -c "no handshake within" "$T/restartd.log") lines"
	need test "$(grep -c "no handshake within" "$T/restartd.log")" -ge 20 && need daemon_alive && pass
}

# restartd --dir refuses a directory others can write (they could plant a
# symlink or an image there).
t_dir_untrusted() {
	mkdir -p "$T/pub"
	chmod 1777 "$T/pub"
	in_b "$BIN/restartd" --key "$KEY" --listen "$ADDR_B:7454" --dir "$T/pub" </dev/null >/dev/null 2>"$T/restartd4.log" &
	_rd4=$!
	WHY="restartd --dir on a 1777 directory still runs: $(one_line "$T/restartd4.log")"
	need poll 10 no_pid on_host "$_rd4" || { stop_daemon "$_rd4"; return; }
	wait $_rd4
	_rc=$?
	WHY="want exit 1 and one line naming the directory: exit $_rc: $(one_line "$T/restartd4.log")"
	need test "$_rc" = 1 && need test "$(wc -l <"$T/restartd4.log")" = 1 &&
		need has_line "$T/restartd4.log" "refusing directory $T/pub" && pass
}

# A copy that cannot be written (--dir on a 1 MiB tmpfs, mounted in B's mount
# namespace only; mode 0700: a fresh tmpfs is 1777, which --dir refuses)
# refuses the migration before the process runs on B.
t_dir_full() {
	mkdir -p "$T/small"
	in_b mount -t tmpfs -o size=1m,mode=0700 chkpt-test "$T/small" || { fail "cannot mount a small tmpfs on B"; return; }
	in_b "$BIN/restartd" --key "$KEY" --listen "$ADDR_B:7453" --dir "$T/small" </dev/null 2>"$T/restartd3.log" &
	_rd3=$!
	need poll 10 has_line "$T/restartd3.log" "listening on" && need memsum_on in_a 1850 16 || return
	migrate_via 7453 1850
	stop_daemon "$_rd3"
	need failed_cleanly 1850 "No space left on device" && need source_survives 1850 || return
	WHY="a partial copy was left: $(in_b ls -A "$T/small" | tr '\n' ' ')"
	need test -z "$(in_b ls -A "$T/small")" && pass
}

# chpoxtest: a parent, two children, a pipe and a socketpair; the output after
# the migration must equal an uninterrupted run's.
t_tree() {
	_src=$(cd .. && pwd)/shared/peers/chpoxtest.c
	[ -f "$_src" ] || { skip "$_src not found (the peers' directory is not beside the project)"; return; }
	cc -include string.h -O2 -o "$T/chpoxtest" "$_src" 2>"$T/cc.err" || { fail "cannot compile chpoxtest"; return; }
	seq 1 12 >"$T/in.txt"
	(cd "$T" && ./chpoxtest 0 in.txt oracle.txt >/dev/null 2>&1) || { fail "uninterrupted chpoxtest failed"; return; }
	rm -f "$T/out.txt"
	WHY="cannot start chpoxtest as PID 2000 on A"
	need start_at in_a 2000 sh -c "cd '$T' && exec ./chpoxtest 1 in.txt out.txt" || return
	sleep 3
	migrate_via $PORT 2000
	WHY="migrate of the tree: $(one_line "$T/2000.err")"
	need has_line "$T/2000.out" "^PID 2000 migrated" && need poll 10 no_pid in_a 2000 || return
	WHY="chpoxtest did not finish on B: $(one_line "$T/restartd.log")"
	need poll 30 has_line "$T/restartd.log" "PID 2000 ended (exit status 0)" || return
	WHY="output differs from the uninterrupted run"
	need cmp -s "$T/oracle.txt" "$T/out.txt" && pass
}

# A TCP server with a client connected migrates from A to B and goes on
# answering that client on the same connection. Service address 10.77.9.1 is
# on both hosts (as a floating address would be); the client lives on a third
# network, C, linked to A (10.77.3.0/24) and to B (10.77.4.0/24), and reaches
# the service through A until the migration, then through B.
SVC=10.77.9.1 NS_C=chkmig$$c
tcp_hosts() {
	ip netns add "$NS_C" &&
		ip link add "cmv$$ca" netns "$NS_C" type veth peer name "cmv$$ac" netns "$NS_A" &&
		ip link add "cmv$$cb" netns "$NS_C" type veth peer name "cmv$$bc" netns "$NS_B" &&
		ip -n "$NS_C" addr add 10.77.3.2/24 dev "cmv$$ca" && ip -n "$NS_A" addr add 10.77.3.1/24 dev "cmv$$ac" &&
		ip -n "$NS_C" addr add 10.77.4.2/24 dev "cmv$$cb" && ip -n "$NS_B" addr add 10.77.4.1/24 dev "cmv$$bc" &&
		for _l in "$NS_C cmv$$ca" "$NS_C cmv$$cb" "$NS_A cmv$$ac" "$NS_B cmv$$bc" "$NS_C lo"; do
			set -- $_l
			ip -n "$1" link set "$2" up || return 1
		done &&
		ip -n "$NS_A" addr add "$SVC/32" dev lo && ip -n "$NS_B" addr add "$SVC/32" dev lo &&
		ip -n "$NS_B" route add 10.77.3.2/32 via 10.77.4.2 &&
		ip -n "$NS_C" route add "$SVC/32" via 10.77.3.1 &&
		ip netns exec "$NS_C" sh -c 'for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 >"$f"; done' &&
		INIT_C=$(start_init "$NS_C") && INITS="$INITS $INIT_C"
}
t_tcp_server() {
	WHY="cannot make the client's network"
	need tcp_hosts || return
	rm -f "$T/srv.log" "$T/cli.log"
	WHY="cannot start the server as PID 2100 on A"
	need start_at in_a 2100 "$TD/echosrv" "$T/srv.log" "$SVC" 7460 && need poll 10 has_line "$T/srv.log" listening || return
	in_c "$TD/echosrv" "$T/cli.log" "$SVC" 7460 client </dev/null >/dev/null 2>"$T/cli.err" &
	_nse=$!
	WHY="the client did not connect: $(one_line "$T/cli.err")"
	need poll 10 has_line "$T/cli.log" ready || return
	_cli=$(named echosrv "$_nse")
	migrate_via $PORT 2100
	WHY="migrate of the server: $(one_line "$T/2100.err")"
	need has_line "$T/2100.out" "^PID 2100 migrated" && need poll 10 no_pid in_a 2100 && need has_pid in_b 2100 || return
	ip -n "$NS_C" route replace "$SVC/32" via 10.77.4.1
	kill -USR2 "$_cli"
	WHY="the client: $(one_line "$T/cli.log")"
	need poll 60 has_line "$T/cli.log" "^client" && need has_line "$T/cli.log" "^client ok" || return
	WHY="the server on B did not see the client out: $(one_line "$T/srv.log")"
	need poll 10 has_line "$T/srv.log" "^served 6" && pass
}

# After all of that, restartd still serves and has left no zombie behind; on
# SIGTERM it stops.
# migrate_named PID NAME: memsum as PID on A migrates to B named NAME, verifies there.
migrate_named() {
	need memsum_on in_a "$1" 8 || return
	in_a "$BIN/migrate" --key "$KEY" "$1" "$2:$PORT" >"$T/$1.out" 2>"$T/$1.err"
	WHY="migrate to $2 failed: $(one_line "$T/$1.err")"
	need has_line "$T/$1.out" "^PID $1 migrated to $2:$PORT" || return
	WHY="the memsum migrated to $2 did not verify on B: $(one_line "$T/$1.log")"
	need verify in_b "$1" "$T/$1.log" || return
	need poll 10 has_line "$T/restartd.log" "PID $1 ended (exit status 0)"
}
# HOST as a name: one from /etc/hosts, one a nameserver answers (src/resolve.cpp),
# both bound over the files of host A's own mount namespace; an unknown name.
t_names() {
	command -v python3 >/dev/null || { skip "python3 not installed (the test's nameserver)"; return; }
	printf '127.0.0.1 localhost\n%s hostb.test\n' "$ADDR_B" >"$T/hosts"
	echo "nameserver 127.0.0.1" >"$T/resolv.conf"
	WHY="cannot bind /etc/hosts and /etc/resolv.conf in host A"
	need in_a sh -c 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf' sh "$T/hosts" "$T/resolv.conf" ||
		return
	in_a python3 "$PWD/tests/migrate/dns_server.py" dnsb.test "$ADDR_B" >"$T/dns.out" 2>&1 </dev/null &
	_dns=$!
	WHY="the test's nameserver did not start: $(one_line "$T/dns.out")"
	if need poll 10 has_line "$T/dns.out" ready && migrate_named 1600 hostb.test && migrate_named 1610 dnsb.test; then
		in_a "$BIN/migrate" --key "$KEY" 1 "nosuch.test:$PORT" >/dev/null 2>"$T/nx.err"
		WHY="an unknown name: want 'cannot resolve nosuch.test: no such host', got: $(one_line "$T/nx.err")"
		need has_line "$T/nx.err" "cannot resolve nosuch.test: no such host" && pass
	fi
	kill "$(named python3 "$_dns")" 2>/dev/null
	wait "$_dns" 2>/dev/null
	in_a sh -c 'umount /etc/resolv.conf; umount /etc/hosts' 2>/dev/null
}

t_daemon() {
	need daemon_alive || return
	WHY="zombies on B: $(in_b sh -c 'grep -l "^State:.Z" /proc/[0-9]*/status' 2>/dev/null | tr '\n' ' ')"
	need poll 10 test -z "$(in_b sh -c 'grep -l "^State:.Z" /proc/[0-9]*/status' 2>/dev/null)" || return
	stop_daemon "$RD"
	WHY="restartd did not stop on SIGTERM: $(one_line "$T/restartd.log")"
	need poll 10 no_pid on_host "$RD" && need has_line "$T/restartd.log" "stopping" && pass
}

for t in help memsum compress wrong_key tampered truncated cut stall interrupt killed replay pid_taken concurrent dir slow_handshakes dir_untrusted dir_full tree tcp_server names daemon; do
	ran $t || continue
	TEST=migrate_$t
	WHY=
	t_$t
done
summary
