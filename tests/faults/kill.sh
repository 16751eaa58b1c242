#!/bin/sh
# chkpt killed at random moments: the target must not notice.
#
#   tests/faults/kill.sh BIN_DIR [TARGET_DIR [TOOLS_DIR]]     (see lib.sh)
#
# The 256 MiB checksum program (memsum) is checkpointed again and again, and
# each time chkpt is sent SIGKILL after a random delay: a third of them within
# the first 40 ms (freeze, syscall injection), the others anywhere in the dump
# (page loop, writing, sync). After each kill: once chkpt's worker has gone,
# the target runs (not stopped, not traced), and no temporary image file is
# left. Outputs alternate between a pipe to /dev/null, a file, and --stop to a
# file (files on a tmpfs if this user may mount one): with --stop the target
# may be stopped only if the image was written completely, as asked, and is
# then continued.
# At the end /proc/PID/maps must be what it was (no injected mapping left) and
# memsum must verify its memory (SIGUSR2 -> "verify ok"). (chkpt is stopped
# an instant before the kill, so that the test knows which worker to wait for;
# chkpt itself only waits for the worker, so that changes nothing for it.)
#
# FAULTS_KILLS=N changes the number of kills (default 100).
NAME=kill
. "$(dirname "$0")/lib.sh"
faults_setup "$@"
set -u
N=${FAULTS_KILLS:-100}
D=$T/w
mkdir -p "$D/fs"
MOUNTED=
FS=$D/fs
mount -t tmpfs -o size=600m,mode=0700 chkpt-faults "$FS" 2>/dev/null && MOUNTED=1

# ms -> "S.mmm" for sleep
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

TEST=memsum_ready
start "$D" memsum 256 "$D/log"
need ready 60 "$D/log" || { [ -n "$MOUNTED" ] && umount "$FS"; faults_done; exit 1; }
M=$PID
cat "/proc/$M/maps" >"$D/maps.before"
pass

# One round: chkpt ARGS with stdout to OUT, SIGKILLed after DELAY ms. Sets
# FINISHED if chkpt exited by itself (before the kill).
round() {
	_delay=$1 _out=$2
	shift 2
	"$BIN/chkpt" "$@" "$M" >"$_out" 2>"$D/err" &
	_cp=$!
	sleep "$(secs "$_delay")"
	# Which worker to wait for: chkpt is stopped first so that it cannot start
	# one between our look and the kill (it only waits for the worker anyway).
	kill -STOP "$_cp" 2>/dev/null
	_w=$(children "$_cp")
	kill -KILL "$_cp" 2>/dev/null
	wait "$_cp" 2>/dev/null
	_rc=$?
	FINISHED=
	[ "$_rc" = 0 ] && FINISHED=1
	# the worker notices (PR_SET_PDEATHSIG), puts everything back and exits
	WHY="chkpt's worker $_w still running 30 s after chkpt was killed"
	poll 30 all_gone $_w
}

i=0 bad=0
while [ $i -lt "$N" ]; do
	i=$((i + 1))
	if [ $((i % 3)) = 0 ]; then delay=$(rand 40); else delay=$(rand 500); fi
	case $((i % 4)) in
	0) mode=file ;;
	1) mode=stop ;;
	*) mode=pipe ;;
	esac
	TEST="kill_${i}_${mode}_after_${delay}ms"
	case $mode in
	pipe) need round "$delay" /dev/null -o - || { bad=1; break; } ;;
	stop) need round "$delay" /dev/null --stop -o "$FS/m.img" || { bad=1; break; } ;;
	file) need round "$delay" /dev/null -o "$FS/m.img" || { bad=1; break; } ;;
	esac
	if [ "$mode" != pipe ]; then
		WHY="temporary file left: $(ls "$FS" | grep tmp | tr '\n' ' ')"
		need [ -z "$(ls "$FS" | grep tmp)" ] || { bad=1; break; }
	fi
	if [ "$mode" = stop ] && [ -e "$FS/m.img" ]; then # done as asked (or let go, if the kill came first)
		kill -CONT "$M"
		poll 5 eval '[ "$(pstate $M)" != T ]'
	fi
	WHY="chkpt finished, but no image"
	[ "$mode" != pipe ] && [ -n "$FINISHED" ] && { need [ -e "$FS/m.img" ] || { bad=1; break; }; }
	rm -f "$FS/m.img"
	need untouched "$M" "chkpt was killed after ${delay} ms (finished: ${FINISHED:-no})" || { bad=1; break; }
	# lib.sh's pass would print 100 lines; one summary line below instead
done
TEST="memsum_survives_${N}_kills"
[ "$bad" = 0 ] && pass
[ -n "$MOUNTED" ] || echo "(no tmpfs: image files were written to $FS on disk)"

TEST=maps_unchanged
cat "/proc/$M/maps" >"$D/maps.after"
WHY="/proc/PID/maps changed: $(diff "$D/maps.before" "$D/maps.after" | grep '^[<>]' | tr '\n' '|' | cut -c1-300)"
need cmp -s "$D/maps.before" "$D/maps.after" && pass

TEST=memsum_verifies
need verifies "$M" "$D/log" 60 && pass
reap "$M"
[ -n "$MOUNTED" ] && umount "$FS"
faults_done
