# Helpers shared by the test drivers (sourced; POSIX sh, so that they also run
# under busybox ash in the QEMU guests): tests/e2e/run.sh, tests/faults/lib.sh
# and tests/migrate/lib.sh. The sourcing script defines fail (one failed test).

# need COND ARGS...: true if COND holds, else the test fails, saying $WHY (set
# by COND or just before need) or else the condition itself.
need() {
	"$@" && { WHY=; return 0; }
	fail "${WHY:-$*}"
	WHY=
	return 1
}

# One-letter state of a process (R, S, T, Z, ...), empty if it is gone.
pstate() { sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null; }
alive() { case $(pstate "$1") in '' | Z | X) return 1 ;; esac; }
dead() { ! alive "$1"; }

# gone PID...: every PID is free again (reaped, not just dead).
gone() {
	for _g in "$@"; do [ -d "/proc/$_g" ] && return 1; done
	return 0
}

# poll SECS COND ARGS...: true as soon as COND holds, false after SECS.
poll() {
	_pn=$(($1 * 20))
	shift
	while [ $_pn -gt 0 ]; do
		"$@" && return 0
		sleep 0.05
		_pn=$((_pn - 1))
	done
	"$@"
}

# reap PID: collect a process started by this shell once it is dead (kill it
# if it does not end within 10 s; a zombie still holds its PID, so a restore
# would find it taken); sets RC.
reap() {
	poll 10 dead "$1" || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	RC=$?
}

# run SECS IN OUT ERR CMD ARGS...: run CMD, killed after SECS; sets RC and
# TO (non-empty if it timed out).
run() {
	_rt=$1 _rin=$2 _rout=$3 _rerr=$4
	shift 4
	"$@" <"$_rin" >"$_rout" 2>"$_rerr" &
	_rp=$!
	TO=
	poll "$_rt" dead "$_rp" || { TO=" (timed out after ${_rt}s)"; kill -KILL "$_rp" 2>/dev/null; }
	wait "$_rp"
	RC=$?
}
