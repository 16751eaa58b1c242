#!/bin/sh
# Rights: image modes, unprivileged checkpoint and restore, changed files.
#
#   tests/faults/rights.sh BIN_DIR [TARGET_DIR [TOOLS_DIR]]     (see lib.sh)
#
#   - an image is created mode 0600 even under umask 000;
#   - as uid 65534 (setpriv; skipped if not root or no setpriv): its own process
#     can be checkpointed (the kernel's ptrace rules allow it), but restoring
#     needs CAP_CHECKPOINT_RESTORE for the PID: a clear refusal, nothing left;
#     an image of root's process is refused, naming the uid, nothing started;
#   - a file under a private mapping (memsum's LOG.dat) changed since the
#     checkpoint is refused naming the file: touched (mtime), replaced by an
#     identical copy (inode); with --allow-changed-files the restore goes ahead
#     and the program verifies (the saved private pages are used as they are).
NAME=rights
. "$(dirname "$0")/lib.sh"
faults_setup "$@"
set -u
D=$T/w
mkdir -p "$D"

TEST=image_mode_0600
start "$D" idle "$D/idle.log"
if need ready 10 "$D/idle.log"; then
	umask 000
	need ckpt_ok -o "$D/i.img" "$PID"
	umask 022
	WHY="image mode $(stat -c %a "$D/i.img" 2>/dev/null), want 600"
	need [ "$(stat -c %a "$D/i.img")" = 600 ] && pass
fi
kill -KILL "$PID"
reap "$PID"

# --- unprivileged --------------------------------------------------------------------

NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
PUB=$(mktemp -d /tmp/chkpt-rights-pub.XXXXXX)
chmod 777 "$PUB"
unpriv=
if [ "$(id -u)" != 0 ]; then
	unpriv="not running as root"
elif ! command -v setpriv >/dev/null; then
	unpriv="no setpriv"
else
	run 10 /dev/null "$D/out" "$D/err" $NOBODY "$BIN/chkpt" --help
	[ "$RC" = 0 ] || unpriv="cannot run chkpt as uid 65534: $(one_line "$D/err")"
fi

# Root restores uid 65534's image: the process must come back as 65534 (real,
# effective, saved and fs ids), without groups or capabilities, and verify.
ids_are() { [ "$(sed -n "s/^$1:[[:space:]]*//p" "/proc/$PID/status" | tr -s ' \t' ' ')" = "$2" ]; }
root_restores_as_owner() {
	TEST=root_restores_as_the_original_user
	run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$PUB/n.img"
	WHY="rstrt -d as root: exit $RC: $(one_line "$D/err")"
	need [ "$RC" = 0 ] || return
	WHY="restored $PID has $(grep -E '^(Uid|Gid|Groups|CapEff)' /proc/$PID/status | tr -s '\t\n' ' ')"
	need ids_are Uid "65534 65534 65534 65534" && need ids_are Gid "65534 65534 65534 65534" &&
		need ids_are Groups "" && need ids_are CapEff 0000000000000000 &&
		need verifies "$PID" "$PUB/n.log" 30 && pass
	poll 10 gone "$PID"
}

TEST=unprivileged_checkpoints_own_process_restore_needs_capability
if [ -n "$unpriv" ]; then
	skip "$unpriv"
else
	# its output file is its own too: rstrt reopens files with the caller's rights
	(cd "$PUB" && exec $NOBODY sh -c 'exec "$1" 8 "$2" >"$3" 2>&1' sh "$TD/memsum" "$PUB/n.log" "$PUB/memsum.out") </dev/null &
	PID=$!
	STARTED="$STARTED $PID"
	if need ready 30 "$PUB/n.log"; then
		run 60 /dev/null "$D/out" "$D/err" $NOBODY "$BIN/chkpt" --kill -o "$PUB/n.img" "$PID"
		WHY="chkpt as uid 65534 of its own process: exit $RC: $(one_line "$D/err")"
		if need [ "$RC" = 0 ]; then
			reap "$PID"
			run 60 /dev/null "$D/out" "$D/err" $NOBODY "$BIN/rstrt" "$PUB/n.img"
			need clean_error "rstrt as uid 65534" 1 &&
				WHY="no mention of the capability: $(one_line "$D/err")" &&
				need grep -q CAP_CHECKPOINT_RESTORE "$D/err" &&
				WHY="process $PID exists after the refused restore" && need gone "$PID" && pass
			echo "  $(head -n 1 "$D/err")"
			root_restores_as_owner
		fi
	fi
fi

TEST=unprivileged_restore_of_roots_image_refused
if [ -n "$unpriv" ]; then
	skip "$unpriv"
else
	start "$D" memsum 8 "$D/r.log"
	if need ready 30 "$D/r.log" && need ckpt_ok --kill -o "$PUB/r.img" "$PID"; then
		reap "$PID"
		chmod 644 "$PUB/r.img"
		run 60 /dev/null "$D/out" "$D/err" $NOBODY "$BIN/rstrt" "$PUB/r.img"
		need clean_error "rstrt as uid 65534 of root's image" 1 &&
			WHY="the refusal does not name uid 0: $(one_line "$D/err")" && need grep -q "uid 0" "$D/err" &&
			WHY="process $PID exists after the refused restore" && need gone "$PID" && pass
		echo "  $(head -n 1 "$D/err")"
	fi
fi
rm -rf "$PUB"

# --- changed files -----------------------------------------------------------------

# changed CASE HOW: checkpoint memsum with --kill, change LOG.dat with HOW (a
# shell command), then rstrt must refuse naming the file and mentioning the
# override, and rstrt --allow-changed-files must restore a program that verifies.
changed() {
	TEST=$1
	_dat=$D/$1.log.dat
	start "$D" memsum 8 "$D/$1.log"
	need ready 30 "$D/$1.log" && need ckpt_ok --kill -o "$D/$1.img" "$PID" || return
	reap "$PID"
	sleep 0.01 # a later mtime
	eval "$2"
	run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" "$D/$1.img"
	need clean_error "rstrt of a changed file ($1)" 1 || return
	echo "  $(head -n 1 "$D/err")"
	WHY="the refusal does not name $_dat and the override: $(one_line "$D/err")"
	need grep -qF "$_dat" "$D/err" && need grep -q -- --allow-changed-files "$D/err" || return
	WHY="process $PID exists after the refused restore" && need gone "$PID" || return
	run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d --allow-changed-files "$D/$1.img"
	WHY="rstrt -d --allow-changed-files: exit $RC: $(one_line "$D/err")"
	need [ "$RC" = 0 ] && need verifies "$PID" "$D/$1.log" 30 && pass
	poll 10 gone "$PID"
}
changed changed_mtime 'touch "$_dat"'
changed changed_inode 'cp -p "$_dat" "$_dat.new" && mv "$_dat.new" "$_dat"'

faults_done
