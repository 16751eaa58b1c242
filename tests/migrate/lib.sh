# Shared by tests/migrate/*.sh (sourced; POSIX sh): verdicts, bounded waits,
# the test tool, and two simulated hosts.
#
# A simulated host is a network namespace with its own PID namespace (and its
# own /proc), whose init is build/e2e/reaper; the two are joined by a veth
# pair, 10.77.0.1 (host A) and 10.77.0.2 (host B). Both share the filesystem,
# so a restored process finds its program, log and data files at the same
# paths. Names carry the driver's PID, so runs never collide; mig_teardown
# (run from an EXIT trap) kills the inits listed in $INITS, which ends every
# process inside, and deletes the namespaces with the veth pair.

# under_reaper NAME SCRIPT ARGS...: unless already done, re-run SCRIPT under
# $TD/reaper, a child subreaper (see tests/e2e/run.sh: orphans are reaped at
# once), with a fresh work directory MIG_TMP=/tmp/NAME.XXXXXX. Sets T.
under_reaper() {
	if [ -z "${MIG_TMP:-}" ]; then
		MIG_TMP=$(mktemp -d "/tmp/$1.XXXXXX") || return 1
		export MIG_TMP
		shift
		exec "$TD/reaper" /bin/sh "$@"
	fi
	T=$MIG_TMP
}

npass=0 nfail=0
pass() { npass=$((npass + 1)); echo "PASS $TEST"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $TEST: $*"; }
skip() { echo "SKIP $TEST: $*"; }
summary() { echo "$npass passed, $nfail failed"; [ "$nfail" = 0 ]; }
. tests/e2e/lib.sh  # need, pstate, alive, dead, gone, poll, reap, run
has_line() { grep -q "$2" "$1" 2>/dev/null; }
one_line() { tr '\n' '|' <"$1" 2>/dev/null | cut -c1-300; }

# build_nettool B: tests/migrate/nettool.cpp, natively (it links src/net.cpp).
build_nettool() {
	mkdir -p "$1/migrate-tools" || return 1
	NETTOOL=$(cd "$1/migrate-tools" && pwd)/nettool  # absolute: nsenter -m changes the cwd
	_arch=$(uname -m)
	[ "$_arch" = ppc64le ] && _arch=ppc64
	g++ -std=c++17 -O2 -Isrc -o "$NETTOOL" tests/migrate/nettool.cpp src/net.cpp src/resolve.cpp src/base.cpp \
		src/sha256.cpp "arch/$_arch/sha256.cpp" src/codec.cpp
}

# new_key FILE: 32 random bytes, mode 0600.
new_key() { (umask 077 && head -c 32 /dev/urandom >"$1"); }

# ---- two hosts ----------------------------------------------------------------

ADDR_A=10.77.0.1 ADDR_B=10.77.0.2
NS_A=chkmig$$a NS_B=chkmig$$b
INITS=

mig_setup() {
	ip netns add "$NS_A" && ip netns add "$NS_B" &&
		ip link add "cmv$$a" netns "$NS_A" type veth peer name "cmv$$b" netns "$NS_B" &&
		ip -n "$NS_A" addr add "$ADDR_A/24" dev "cmv$$a" &&
		ip -n "$NS_B" addr add "$ADDR_B/24" dev "cmv$$b" &&
		ip -n "$NS_A" link set "cmv$$a" up && ip -n "$NS_B" link set "cmv$$b" up &&
		ip -n "$NS_A" link set lo up && ip -n "$NS_B" link set lo up || return 1
	INIT_A=$(start_init "$NS_A") && INIT_B=$(start_init "$NS_B") && INITS="$INIT_A $INIT_B"
}

# start_init NETNS: a PID namespace with its own /proc inside NETNS (- for this
# host's network); prints the host PID of its init (reaper), which nsenter then
# targets.
start_init() {
	_netns="ip netns exec $1"
	[ "$1" = - ] && _netns=
	$_netns unshare --pid --fork --mount-proc "$TD/reaper" sleep 1000000 </dev/null >/dev/null 2>&1 &
	_u=$!
	poll 10 has_child "$_u" || return 1
	_i=$(cat "/proc/$_u/task/$_u/children")
	echo "${_i% }"
}
has_child() { [ -n "$(cat "/proc/$1/task/$1/children" 2>/dev/null)" ]; }
# named NAME PID: the first process called NAME down the chain of first
# children from PID (nsenter forks twice before the command runs): the host
# PID of the command.
named() {
	_l=$2
	while [ "$(cat "/proc/$_l/comm" 2>/dev/null)" != "$1" ] && has_child "$_l"; do
		set -- "$1" $(cat "/proc/$_l/task/$_l/children")
		_l=$2
	done
	echo "$_l"
}

mig_teardown() {
	for _i in $INITS; do kill -KILL "$_i" 2>/dev/null; done
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	return 0
}

# in_a/in_b CMD...: run CMD on host A/B (its PID, mount and network namespaces).
in_a() { nsenter -t "$INIT_A" -p -m -n -- "$@"; }
in_b() { nsenter -t "$INIT_B" -p -m -n -- "$@"; }
# A third host's worth of PIDs (on host A's network, or this host's).
in_c() { nsenter -t "$INIT_C" -p -m -n -- "$@"; }

# start_at IN PID CMD...: start CMD in the background on host IN with exactly PID
# (ns_last_pid), its output to /dev/null; fails if PID was not free.
start_at() {
	_in=$1 _want=$2
	shift 2
	_got=$($_in sh -c 'echo $(($1 - 1)) >/proc/sys/kernel/ns_last_pid; shift; "$@" </dev/null >/dev/null 2>&1 & echo $!' \
		start_at "$_want" "$@")
	[ "$_got" = "$_want" ]
}

# has_pid IN PID: a live (not zombie) process PID on host IN.
has_pid() {
	_st=$($1 sed -n 's/^.*) \(.\).*/\1/p' "/proc/$2/stat" 2>/dev/null)
	case $_st in '' | Z | X) return 1 ;; esac
}
no_pid() { ! has_pid "$@"; }
on_host() { "$@"; }  # IN for this host's own processes

# verify IN PID LOG: ask memsum to check its memory; true if it logs "verify ok".
verify() {
	$1 kill -USR2 "$2" 2>/dev/null
	poll 30 has_line "$3" "^verify" && has_line "$3" "^verify ok"
}
