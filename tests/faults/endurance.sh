#!/bin/sh
# Endurance: many consecutive checkpoints of one live process.
#
#   tests/faults/endurance.sh BIN_DIR [TARGET_DIR [TOOLS_DIR]]     (see lib.sh)
#
# `evolve` (its memory changes between checkpoints) is checkpointed
# FAULTS_ENDURANCE times (default 500; a few seconds natively, `make check-asan`
# runs it under ASan/UBSan/LeakSanitizer) back to back by one `chkpt --every 0`,
# and keeps running.
# Then:
#   - chkpt said nothing and wrote every generation (a failed one would leave a
#     hole in the numbering);
#   - chkpt's open fds and resident memory, measured after 10 generations and
#     after the last, did not grow (each checkpoint runs in a fresh worker, so
#     nothing can pile up there; this checks the loop around it). The memory may
#     differ by at most 64 KiB, page-granular noise;
#   - the target is killed, and the last image and ten random earlier ones are
#     restored one at a time (each restored process verifies its memory and
#     exits before the next), so every state that was saved comes back whole.
NAME=endurance
. "$(dirname "$0")/lib.sh"
faults_setup "$@"
set -u
N=${FAULTS_ENDURANCE:-500}
D=$T/w
G=$D/gens
mkdir -p "$D"
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l | tr -d ' '; }
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
gen_file() { printf '%s/%08d.img' "$G" "$1"; }

TEST="checkpoints_$N"
start "$D" evolve "$D/log" 256
need ready 10 "$D/log" || { faults_done; exit 1; }
E=$PID
"$BIN/chkpt" --every 0 --keep $((N + 100000)) -o "$G" "$E" >"$D/cp.out" 2>"$D/cp.err" &
CP=$!
STARTED="$STARTED $CP"
WHY="10 generations not written within 60 s: $(one_line "$D/cp.err")"
need poll 60 test -e "$(gen_file 10)" || { faults_done; exit 1; }
fd0=$(fds "$CP") rss0=$(rss_kib "$CP")
WHY="$N generations not written within 1200 s: $(one_line "$D/cp.err")"
need poll 1200 test -e "$(gen_file "$N")" || { faults_done; exit 1; }
fd1=$(fds "$CP") rss1=$(rss_kib "$CP")
kill -KILL "$E"
reap "$E"
WHY="chkpt --every still running 10 s after the target died"
need poll 10 dead "$CP" || { faults_done; exit 1; }
wait "$CP"
rc=$?
WHY="chkpt --every exited $rc or said something: $(one_line "$D/cp.err")"
need [ "$rc" = 0 ] && need [ ! -s "$D/cp.err" ] || { faults_done; exit 1; }
missing=
i=1
while [ $i -le "$N" ]; do
	[ -e "$(gen_file $i)" ] || missing="$missing $i"
	i=$((i + 1))
done
WHY="generations missing:$missing"
need [ -z "$missing" ] && pass

TEST=no_fd_or_memory_growth
echo "  chkpt --every: $fd0 fds, $rss0 KiB resident after 10 checkpoints; $fd1 fds, $rss1 KiB after $N"
WHY="fds grew from $fd0 to $fd1"
need [ "$fd1" = "$fd0" ] &&
	WHY="resident memory grew from $rss0 to $rss1 KiB" && need [ $((rss1 - rss0)) -le 64 ] && pass

# restore_gen K: generation K restores and verifies, and is gone afterwards.
restore_gen() {
	TEST="restore_generation_$1"
	: >"$D/log"
	run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$(gen_file "$1")"
	WHY="rstrt -d $(gen_file "$1"): exit $RC$TO: $(one_line "$D/err")"
	need [ "$RC" = 0 ] && WHY="rstrt printed '$(cat "$D/out")', want $E" && need [ "$(cat "$D/out")" = "$E" ] || return
	need verifies "$E" "$D/log" 30 && WHY="restored $E did not exit" && need poll 10 gone "$E" && pass
}
restore_gen "$N"
k=0
while [ $k -lt 10 ]; do
	restore_gen $(($(rand $((N - 1))) + 1))
	k=$((k + 1))
done
faults_done
