#!/bin/sh
# Endurance: many consecutive checkpoints of one live process.
#
#   tests/faults/endurance.sh BIN_DIR [TARGET_DIR [TOOLS_DIR]]     (see lib.sh)
#
# `evolve` (its memory changes between checkpoints) is checkpointed
# FAULTS_ENDURANCE times (default 500; a few seconds natively, `make check-asan`
# runs it under ASan/UBSan/LeakSanitizer) by one `chkpt --every 0.02`,
# and keeps running.
# It keeps the newest 100; ten random earlier generations are hard-linked aside
# as they appear, for later. Then:
#   - chkpt said nothing, and every generation the test wanted was written;
#   - chkpt's open fds and resident memory did not grow between generation 110
#     (the directory holds its 100 by then) and the last (each checkpoint runs
#     in a fresh worker, so nothing can pile up there: this checks the loop
#     around it; the memory may differ by at most 64 KiB, page-granular noise);
#   - the target is killed, and the last image and the ten earlier ones are
#     restored one at a time (each restored process verifies its memory and
#     exits before the next), so every state that was saved comes back whole.
NAME=endurance
. "$(dirname "$0")/lib.sh"
faults_setup "$@"
set -u
N=${FAULTS_ENDURANCE:-500}
D=$T/w
G=$D/gens
mkdir -p "$D/kept"
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l | tr -d ' '; }
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
gen_file() { printf '%s/%08d.img' "$G" "$1"; }

# ten distinct random generations between 1 and N-1
PICKS=
while [ "$(echo $PICKS | wc -w)" -lt 10 ]; do
	k=$(($(rand $((N - 1))) + 1))
	case " $PICKS " in *" $k "*) ;; *) PICKS="$PICKS $k" ;; esac
done

TEST="checkpoints_$N"
start "$D" evolve "$D/log" 256
need ready 10 "$D/log" || { faults_done; exit 1; }
E=$PID
"$BIN/chkpt" --every 0.02 --keep 100 -o "$G" "$E" >"$D/cp.out" 2>"$D/cp.err" &
CP=$!
STARTED="$STARTED $CP"
fd0= rss0= waited=0
while [ ! -e "$(gen_file "$N")" ] && [ $waited -lt 24000 ] && [ -d "/proc/$CP" ]; do
	for k in $PICKS; do
		[ -e "$D/kept/$k.img" ] || ln "$(gen_file "$k")" "$D/kept/$k.img" 2>/dev/null
	done
	if [ -z "$fd0" ] && [ -e "$(gen_file 110)" ]; then fd0=$(fds "$CP") rss0=$(rss_kib "$CP"); fi
	sleep 0.05
	waited=$((waited + 1))
done
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
for k in $PICKS; do [ -e "$D/kept/$k.img" ] || missing="$missing $k"; done
[ -e "$(gen_file "$N")" ] || missing="$missing $N"
WHY="generations not written (or gone before the test could keep them):$missing"
need [ -z "$missing" ] && pass

TEST=no_fd_or_memory_growth
echo "  chkpt --every: $fd0 fds, $rss0 KiB resident after 110 checkpoints; $fd1 fds, $rss1 KiB after $N"
WHY="fds grew from $fd0 to $fd1"
need [ "$fd1" = "$fd0" ] &&
	WHY="resident memory grew from $rss0 to $rss1 KiB" && need [ $((rss1 - rss0)) -le 64 ] && pass

# restore IMAGE: it restores and verifies, and is gone afterwards.
restore() {
	TEST="restore_$(basename "$1")"
	: >"$D/log"
	run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$1"
	WHY="rstrt -d $1: exit $RC$TO: $(one_line "$D/err")"
	need [ "$RC" = 0 ] && WHY="rstrt printed '$(cat "$D/out")', want $E" && need [ "$(cat "$D/out")" = "$E" ] || return
	need verifies "$E" "$D/log" 30 && WHY="restored $E did not exit" && need poll 10 gone "$E" && pass
}
restore "$(gen_file "$N")"
for k in $PICKS; do restore "$D/kept/$k.img"; done
faults_done
