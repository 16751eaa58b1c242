#!/bin/sh
# Periodic checkpoints (chkpt --every) that survive a crash at any moment.
#
#   tests/faults/periodic.sh BIN_DIR [TARGET_DIR [TOOLS_DIR]]     (see lib.sh)
#
# The target is `evolve` (tests/faults/evolve.c): its memory changes all the
# time, so each generation holds a different state and restoring one brings
# that exact state back or fails its verification.
#   - naming, atomicity and pruning: generations DIR/NNNNNNNN.img numbered on
#     from the highest present, mode 0600 in a 0700 directory, never more than
#     --keep complete ones (plus the one being renamed in), no temporary file
#     once chkpt is done; chkpt stops by itself when the target exits; a new
#     chkpt --every removes the temporary files of dead checkpointers and
#     numbers on; `rstrt DIR` restores the newest and it verifies;
#   - power cut: FAULTS_ROUNDS (default 8) times, the target and chkpt --every
#     (and its worker) are all SIGKILLed at once at a random moment, often in
#     the middle of writing a generation; `rstrt DIR` must restore a complete
#     generation, which must verify;
#   - a damaged newest generation: rstrt DIR falls back to the one before.
NAME=periodic
. "$(dirname "$0")/lib.sh"
faults_setup "$@"
set -u
D=$T/w
G=$D/gens
mkdir -p "$D"
ROUNDS=${FAULTS_ROUNDS:-8}

gens() { ls "$G" 2>/dev/null | grep -E '^[0-9]{8,}\.img$'; }
ngens() { gens | wc -l | tr -d ' '; }
newest() { gens | sort | tail -n 1; }
temps() { ls "$G" 2>/dev/null | grep -E '\.img\.tmp\.'; }
mode_of() { stat -c %a "$1"; }
# newest generation number >= N
reached() { _n=$(newest); [ -n "$_n" ] && [ "$(echo "${_n%.img}" | sed 's/^0*//')" -ge "$1" ]; }

# restore_verifies: rstrt -d DIR brings back $PID, which verifies (log $1).
restore_verifies() {
	: >"$1"
	run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$G"
	WHY="rstrt -d $G: exit $RC$TO: $(one_line "$D/err")"
	need [ "$RC" = 0 ] || return 1
	WHY="rstrt printed '$(cat "$D/out")', want $PID"
	need [ "$(cat "$D/out")" = "$PID" ] || return 1
	need verifies "$PID" "$1" 30 || return 1
	WHY="restored process $PID did not exit"
	need poll 10 gone "$PID"
}

TEST=generations
start "$D" evolve "$D/log" 1024
need ready 10 "$D/log" || { faults_done; exit 1; }
umask 0
"$BIN/chkpt" --every 0.05 --keep 3 -o "$G" "$PID" >"$D/cp.out" 2>"$D/cp.err" &
CP=$!
umask 022
max=0
WHY="fewer than 12 generations after 30 s ($(gens | tr '\n' ' '))"
while ! reached 12; do
	n=$(ngens)
	[ "$n" -gt "$max" ] && max=$n
	sleep 0.02
	[ -d "/proc/$CP" ] || break
done
need reached 12 &&
	WHY="$max complete generations seen at once, --keep 3" && need [ "$max" -le 4 ] &&
	WHY="generation mode $(mode_of "$G/$(newest)"), want 600" && need [ "$(mode_of "$G/$(newest)")" = 600 ] &&
	WHY="directory mode $(mode_of "$G"), want 700" && need [ "$(mode_of "$G")" = 700 ] || { faults_done; exit 1; }
pass

TEST=stops_when_target_exits
kill -KILL "$PID"
reap "$PID"
WHY="chkpt --every still running 10 s after the target died"
need poll 10 dead "$CP" || kill -KILL "$CP"
wait "$CP"
rc=$?
WHY="chkpt --every exited $rc: $(one_line "$D/cp.err")"
need [ "$rc" = 0 ] && WHY="$(ngens) generations left, want 3" && need [ "$(ngens)" = 3 ] &&
	WHY="temporary files left: $(temps | tr '\n' ' ')" && need [ -z "$(temps)" ] && pass

TEST=restore_newest
restore_verifies "$D/log" && pass

TEST=stale_temp_removed_and_numbering_goes_on
last=$(newest)
: >"$G/99999999.img.tmp.2147483647" # left by a checkpointer that is long gone
: >"$D/log"
start "$D" evolve "$D/log" 1024
need ready 10 "$D/log" || { faults_done; exit 1; }
"$BIN/chkpt" --every 0.05 --keep 3 -o "$G" "$PID" >/dev/null 2>"$D/cp.err" &
CP=$!
WHY="no new generation after $last"
need poll 20 eval '[ "$(newest)" != "$last" ]' &&
	WHY="the stale temporary file is still there" && need [ ! -e "$G/99999999.img.tmp.2147483647" ] && pass
kill -KILL "$CP" "$PID"
wait "$CP" 2>/dev/null
reap "$PID"

# --- power cut -------------------------------------------------------------------

i=0
while [ $i -lt "$ROUNDS" ]; do
	i=$((i + 1))
	: >"$D/log"
	start "$D" evolve "$D/log" 16384
	TEST="power_cut_$i"
	need ready 10 "$D/log" || break
	before=$(newest)
	"$BIN/chkpt" --every 0.1 --keep 2 -o "$G" "$PID" >/dev/null 2>"$D/cp.err" &
	CP=$!
	WHY="no generation of the new target after 20 s: $(one_line "$D/cp.err")"
	need poll 20 eval '[ "$(newest)" != "$before" ]' || break
	delay=$(rand 1200)
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	# Everything at once, as in a power cut: stop chkpt so that it starts no
	# new worker, then SIGKILL its worker (if one is writing), the target, chkpt.
	kill -STOP "$CP"
	W=$(children "$CP")
	kill -KILL $W "$PID" "$CP" 2>/dev/null
	wait "$CP" 2>/dev/null
	reap "$PID"
	poll 10 all_gone $W
	echo "  (round $i: killed after ${delay} ms${W:+, mid-generation}; left: $(gens | tr '\n' ' ')$(temps | tr '\n' ' '))"
	restore_verifies "$D/log" && pass
done

TEST=damaged_newest_falls_back
n=$(newest)
printf 'XXXX' | dd of="$G/$n" bs=1 seek=100 conv=notrunc 2>/dev/null
: >"$D/log"
run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$G"
WHY="rstrt -d $G with a damaged newest generation: exit $RC: $(one_line "$D/err")"
if need [ "$RC" = 0 ]; then
	WHY="no warning naming the damaged $n: $(one_line "$D/err")"
	# The generation before may be of the previous round's target (when the
	# power cut came right after the new target's first generation): the
	# process to verify is the one rstrt names.
	PID=$(cat "$D/out")
	need grep -q "$n" "$D/err" && need verifies "$PID" "$D/log" 30 && pass
	poll 10 gone "$PID"
fi

faults_done
