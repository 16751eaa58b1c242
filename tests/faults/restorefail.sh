#!/bin/sh
# A restore that fails partway: one clear line, a non-zero exit, and every
# process rstrt had created is gone; whatever held a taken PID is untouched.
#
#   tests/faults/restorefail.sh BIN_DIR [TARGET_DIR [TOOLS_DIR]]     (see lib.sh)
#
# Cases:
#   - the file behind a private mapping is gone (memsum's LOG.dat);
#   - a file the process had open is gone (counter's output);
#   - a mapping that cannot be made: LOG.dat replaced by a directory, restored
#     with --allow-changed-files, so the restore gets as far as mmap;
#   - a process tree (tree3: root, child, grandchild) whose grandchild's PID is
#     taken: root and child have been created when the clone fails;
#   - the same tree from an image cut short in the last process's pages: every
#     process exists and has its memory half rebuilt when the end comes (exit 2).
NAME=restorefail
. "$(dirname "$0")/lib.sh"
faults_setup "$@"
set -u
D=$T/w
mkdir -p "$D"

# Every descendant of PID (children files of every thread).
descendants() {
	for _c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$_c"
		descendants "$_c"
	done
}

# fails_cleanly CASE WANT_IN_MESSAGE [EXIT] -- RSTRT_ARGS...: rstrt fails with
# one line mentioning WANT, exit EXIT (default 1), and $PIDS are all free.
fails_cleanly() {
	_what=$1 _want=$2 _exit=$3
	shift 4
	run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" "$@"
	need clean_error "rstrt ($_what)" "$_exit" || return 1
	echo "  ($_what) $(head -n 1 "$D/err")"
	WHY="message does not mention '$_want': $(one_line "$D/err")"
	grep -qF -- "$_want" "$D/err" || { need false; return 1; }
	WHY="processes left after the failed restore: $(for p in $PIDS; do [ -d /proc/$p ] && echo "$p($(pstate $p))"; done)"
	need all_gone $PIDS
}

# memsum_image NAME: a small memsum checkpointed with --kill into $D/NAME.img;
# sets PIDS.
memsum_image() {
	start "$D" memsum 8 "$D/$1.log"
	need ready 30 "$D/$1.log" && need ckpt_ok --kill -o "$D/$1.img" "$PID" || return 1
	reap "$PID"
	PIDS=$PID
}

TEST=mapped_file_missing
if memsum_image m1; then
	rm -f "$D/m1.log.dat"
	fails_cleanly "mapped file removed" "m1.log.dat" 1 -- "$D/m1.img" && pass
fi

TEST=open_file_missing
start "$D" counter "$D/c.txt"
if need poll 10 lines_ge "$D/c.txt" 20 && need ckpt_ok --kill -o "$D/c.img" "$PID"; then
	reap "$PID"
	PIDS=$PID
	rm -f "$D/c.txt"
	fails_cleanly "open file removed" "c.txt" 1 -- "$D/c.img" && pass
fi

TEST=mapping_impossible
if memsum_image m2; then
	rm -f "$D/m2.log.dat" && mkdir "$D/m2.log.dat"
	fails_cleanly "mapped file is now a directory" "m2.log.dat" 1 -- --allow-changed-files "$D/m2.img" && pass
fi

# tree_image NAME: tree3 checkpointed with --kill; sets PIDS (root first) and
# LAST (the grandchild).
tree_image() {
	start "$D" tree3 "$D/$1.log"
	need ready 20 "$D/$1.log" || return 1
	_kids=$(descendants "$PID")
	need ckpt_ok --kill -o "$D/$1.img" "$PID" || return 1
	reap "$PID"
	PIDS="$PID $_kids"
	LAST=$(echo "$_kids" | tail -n 1)
	WHY="tree processes $PIDS still hold their PIDs after the kill"
	need poll 10 all_gone $PIDS
}

TEST=tree_last_pid_taken
if tree_image t1; then
	run 10 /dev/null "$D/holder" "$D/err" "$FT/holdpid" "$LAST"
	if need [ "$RC" = 0 ]; then
		_others=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$LAST" | tr '\n' ' ')
		PIDS_ALL=$PIDS
		PIDS=$_others
		fails_cleanly "grandchild PID taken" "$LAST" 1 -- "$D/t1.img" &&
			need alive "$LAST" && pass
		kill -KILL "$LAST" 2>/dev/null
		poll 10 gone "$LAST"
	fi
fi

TEST=tree_image_cut_in_last_pages
if tree_image t2; then
	# cut in the middle of the last PAGES record: all processes exist by then
	_cut=$("$FT/imgtool" list "$D/t2.img" | awk '$3 == "PAGES" { o = $1; l = $4 } END { print o + 8 + int(l / 2) }')
	head -c "$_cut" "$D/t2.img" >"$D/t2.cut"
	fails_cleanly "image cut in its last page record" "truncated" 2 -- "$D/t2.cut" && pass
fi

faults_done
