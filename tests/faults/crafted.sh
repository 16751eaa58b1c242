#!/bin/sh
# Crafted images: an image is untrusted input (docs/ROBUSTNESS.md, "trust
# model"). A user makes an image of its own process, edits fields and fixes the
# CRCs (imgtool), and root restores it. One case per break of issue 11:
#
#   1  PROCESS uid/gid set to 0: refused (the image file is the user's);
#   2  an fd's path turned into a root-only file: the open fails (as the user);
#   3  a private mapping turned into a root-only file (with its size, mtime,
#      inode): the open fails (as the user);
#   4  PAGES_FROM naming a process outside the image, and a mapping marked
#      inherited in a process without a parent: bad image;
#   6  PAGES past the end of a mapping (once wrapping around in the range
#      check), and PAGES inside the vDSO: bad image;
#   7  a mapping at address 0 (below vm.mmap_min_addr): bad image;
#   8  an eventfd count of 2^64-1 and a pipe of size 0 with 900 KB in it: bad
#      image at once, not a hang;
#   12 an optional record (type bit 31) is skipped; duplicate thread ids, an
#      absurd pid, a mapping above the end of user space, PAGES among the
#      metadata: bad image (exit 2), not a misleading error;
#   13 2,000 open file descriptions of one file are told apart with
#      O(n log n) kcmp(2) calls, not n^2 (counted with strace, if present).
# (9, a legitimate socket queue bigger than a default buffer, is the e2e test
# fdattrs; 5, a FIFO description whose path is a regular file, is below too.)
#
#   tests/faults/crafted.sh BIN_DIR [TARGET_DIR [TOOLS_DIR]]     (see lib.sh)
NAME=crafted
. "$(dirname "$0")/lib.sh"
faults_setup "$@"
set -u
D=$T/w
mkdir -p "$D"
tool() { "$FT/imgtool" "$@"; }

# rec_off IMG NAME [K]: offset of the K-th record called NAME.
rec_off() { "$FT/imgtool" list "$1" | awk -v n="$2" -v k="${3:-1}" '$3 == n && ++c == k { print $1; exit }'; }
# str_off IMG STRING: offset of the first occurrence of STRING in IMG.
str_off() { grep -boaF "$2" "$1" | head -n 1 | cut -d: -f1; }
# patch IMG OFFSET WIDTH VALUE: store the field and fix every CRC.
patch() { tool poke "$1" "$2" "$3" "$4" && tool fixcrc "$1"; }

# refused CASE IMAGE WANT [STATUS]: root's rstrt exits STATUS (any error if
# empty) with one line on stderr containing WANT, and no process is left with
# the image's PID.
refused() {
	TEST=$1
	run 60 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$2"
	need clean_error "rstrt of $1" "${4:-}" || { [ "$RC" = 0 ] && kill -KILL "$(cat "$D/out")" 2>/dev/null; return; }
	WHY="the refusal does not say '$3': $(one_line "$D/err")"
	need grep -q -- "$3" "$D/err" &&
		WHY="process $IPID exists after the refused restore" && need gone "$IPID" && pass
}

# --- a user's image -------------------------------------------------------------

NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
PUB=$(mktemp -d /tmp/chkpt-crafted-pub.XXXXXX)
chmod 755 "$PUB"
chown 65534:65534 "$PUB"
user=
if [ "$(id -u)" != 0 ]; then
	user="not running as root"
elif ! command -v setpriv >/dev/null; then
	user="no setpriv"
fi

# A root-only file beside each file of the user's that an edit points at: the
# same length of name, one letter changed ('i' -> 'r').
secret() { printf 'SECRET of root\n' >"$1" && chmod 600 "$1"; }

TEST=user_image
IPID=
if [ -n "$user" ]; then
	skip "$user"
else
	(cd "$PUB" && exec $NOBODY sh -c 'exec "$1" "$2" >"$3" 2>&1' sh "$TD/idle" "$PUB/i.log" "$PUB/idle.out") </dev/null &
	IPID=$!
	STARTED="$STARTED $IPID"
	if need ready 20 "$PUB/i.log"; then
		# whole-second mtimes, so that the root file's can be the same
		touch -d @1700000000 "$PUB/i.log.private"
		run 60 /dev/null "$D/out" "$D/err" $NOBODY "$BIN/chkpt" --kill -o "$PUB/u.img" "$IPID"
		WHY="chkpt as uid 65534 of its own process: exit $RC: $(one_line "$D/err")"
		need [ "$RC" = 0 ] && need [ "$(stat -c %u "$PUB/u.img")" = 65534 ] && pass
		reap "$IPID"
	fi
fi

if [ -f "$PUB/u.img" ]; then
	U=$PUB/u.img
	P=$(($(rec_off "$U" PROCESS) + 8))
	cp -p "$U" "$D/uid0.img" && patch "$D/uid0.img" $((P + 20)) 4 0 && patch "$D/uid0.img" $((P + 24)) 4 0
	refused uid_0_in_a_users_image "$D/uid0.img" "the image file belongs to uid 65534" 1

	secret "$PUB/rdle.out"
	cp -p "$U" "$D/fd.img" && patch "$D/fd.img" $(($(str_off "$D/fd.img" "$PUB/idle.out") + ${#PUB} + 1)) 1 $(printf %d "'r")
	refused fd_of_a_root_only_file "$D/fd.img" "Permission denied" 1

	secret "$PUB/r.log.private"
	truncate -s "$(stat -c %s "$PUB/i.log.private")" "$PUB/r.log.private"
	touch -d @1700000000 "$PUB/r.log.private"
	cp -p "$U" "$D/map.img"
	_name=$(str_off "$D/map.img" "$PUB/i.log.private")
	# VMA payload: ... u64 dev (34), ino (42), size (50), i64 mtime (58), str name (66)
	patch "$D/map.img" $((_name + ${#PUB} + 1)) 1 $(printf %d "'r") &&
		patch "$D/map.img" $((_name - 4 - 66 + 42)) 8 "$(stat -c %i "$PUB/r.log.private")"
	refused mapping_of_a_root_only_file "$D/map.img" "Permission denied" 1

	# 5: a FIFO-kind description whose path is a regular file is never opened
	# for writing data into it: here the user's stdout file made a "FIFO".
	cp -p "$U" "$D/fifo.img"
	_p=$(str_off "$D/fifo.img" "$PUB/idle.out")
	# FDESC: u32 id, u8 kind at 4 ... str path at 49: the kind of this one
	patch "$D/fifo.img" $((_p - 4 - 49 + 4)) 1 5
	cp "$PUB/idle.out" "$D/idle.out.before"
	refused fifo_description_of_a_regular_file "$D/fifo.img" "bad image" 2
	TEST=fifo_description_wrote_nothing
	WHY="the file changed: $(cmp "$PUB/idle.out" "$D/idle.out.before" 2>&1)"
	need cmp -s "$PUB/idle.out" "$D/idle.out.before" && pass
fi
rm -rf "$PUB"

# --- root's own images, damaged ---------------------------------------------------

# A tree sharing memory copy-on-write (PAGES_FROM) and threads.
TEST=tree_image
export MEMSUM_FORKS=1
start "$D" memsum 8 "$D/m.log"
unset MEMSUM_FORKS
IPID=$PID
M=$D/m.img
if need ready 30 "$D/m.log" && need ckpt_ok --kill -o "$M" "$IPID"; then
	pass
	reap "$IPID"
fi

if [ -f "$M" ]; then
	cp "$M" "$D/from.img" && patch "$D/from.img" $(($(rec_off "$M" PAGES_FROM) + 8 + 12)) 4 $$
	refused pages_from_outside_the_image "$D/from.img" "pages from process $$" 2

	# the root's first mapping marked inherited (its last byte, FORMAT 2.1):
	# the root has no parent in the image to inherit it from
	V1=$("$FT/imgtool" list "$M" | awk '$3 == "VMA" { print $1 + 8 + $4 - 1; exit }')
	cp "$M" "$D/inh.img" && patch "$D/inh.img" "$V1" 1 1
	refused inherited_without_parent "$D/inh.img" "is inherited, but its parent has no such mapping" 2

	# a PAGES record moved to the end of the stack, above every mapping saved
	V=$(($(rec_off "$M" VMA) + 8))
	stack=$(str_off "$M" "[stack]")
	end=$(od -An -tu8 -j $((stack - 4 - 66 + 8)) -N 8 "$M" | tr -d ' ')
	cp "$M" "$D/past.img" && patch "$D/past.img" $(($(rec_off "$M" PAGES) + 8)) 8 "$end"
	refused pages_past_a_mapping "$D/past.img" "outside any restorable mapping" 2
	cp "$M" "$D/gadget.img" && patch "$D/gadget.img" $(($(rec_off "$M" PAGES) + 8)) 8 4294967296
	refused pages_at_the_restorer "$D/gadget.img" "outside any restorable mapping" 2

	vdso=$(str_off "$M" "[vdso]")
	vstart=$(od -An -tu8 -j $((vdso - 4 - 66)) -N 8 "$M" | tr -d ' ')
	cp "$M" "$D/vdso.img" && patch "$D/vdso.img" $(($(rec_off "$M" PAGES) + 8)) 8 "$vstart"
	refused pages_in_the_vdso "$D/vdso.img" "outside any restorable mapping" 2

	cp "$M" "$D/zero.img" && patch "$D/zero.img" "$V" 8 0
	refused mapping_at_address_0 "$D/zero.img" "not page-aligned user memory" 2

	cp "$M" "$D/high.img" && patch "$D/high.img" $((V + 8)) 8 $((1 << 60))
	refused mapping_above_user_space "$D/high.img" "not page-aligned user memory" 2

	# TREE: u32 count, then pid, ppid, pgid, sid, nr_threads, tids...
	TR=$(($(rec_off "$M" TREE) + 8))
	cp "$M" "$D/pid.img" && patch "$D/pid.img" $((TR + 4)) 4 2147483647
	refused absurd_pid "$D/pid.img" "bad image" 2

	cp "$M" "$D/meta.img" && patch "$D/meta.img" "$(rec_off "$M" FILE)" 4 11
	refused pages_among_the_metadata "$D/meta.img" "bad image" 2
fi

TEST=threads_image
start "$D" threads "$D/t.log"
IPID=$PID
TI=$D/t.img
if need ready 30 "$D/t.log" && need ckpt_ok --kill -o "$TI" "$IPID"; then
	pass
	reap "$IPID"
	TR=$(($(rec_off "$TI" TREE) + 8))
	# the second thread's tid made the first's (the pid)
	cp "$TI" "$D/tids.img" && patch "$D/tids.img" $((TR + 4 + 20 + 4)) 4 "$IPID"
	refused duplicate_thread_ids "$D/tids.img" "bad image" 2
fi

TEST=eventfd_image
start "$D" evmem "$D/e.log"
IPID=$PID
E=$D/e.img
if need ready 30 "$D/e.log" && need ckpt_ok --kill -o "$E" "$IPID"; then
	pass
	reap "$IPID"
	_p=$(str_off "$E" "anon_inode:[eventfd]")
	cp "$E" "$D/ev.img" && patch "$D/ev.img" $((_p + 20 + 4)) 8 18446744073709551615
	refused eventfd_count_2_64_minus_1 "$D/ev.img" "bad image" 2
fi

TEST=pipe_image
start "$D" bigpipe "$D/p.log"
IPID=$PID
PI=$D/p.img
if need ready 30 "$D/p.log" && need ckpt_ok --kill -o "$PI" "$IPID"; then
	pass
	reap "$IPID"
	# the pipe end that carries the data: u8 write_end, u32 size in its payload
	_p=$(str_off "$PI" "pipe:[")
	_len=$(od -An -tu4 -j $((_p - 4)) -N 4 "$PI" | tr -d ' ')
	_pl=$((_p + _len + 4))
	# the first pipe description may be the empty one: take the one with data
	if [ "$(od -An -tu4 -j $((_pl + 5)) -N 4 "$PI" | tr -d ' ')" = 0 ]; then
		_p=$(grep -boaF "pipe:[" "$PI" | sed -n 2p | cut -d: -f1)
		_pl=$((_p + _len + 4))
	fi
	cp "$PI" "$D/pipe0.img" && patch "$D/pipe0.img" $((_pl + 1)) 4 0
	refused pipe_of_size_0_with_data "$D/pipe0.img" "bad image" 2
fi

# --- format 2.2: a memfd's contents after its FDESC, file locks --------------------

TEST=memfd_locks_image
mkdir -p "$D/ml"
start "$D/ml" bigmemfd "$D/ml/b.log"
BPID=$PID
start "$D/ml" locks "$D/ml/l.log"
LPID=$PID
B=$D/b.img L=$D/l.img
if need ready 30 "$D/ml/b.log" && need ready 30 "$D/ml/l.log" && need ckpt_ok --kill -o "$B" "$BPID" &&
	need ckpt_ok --kill -o "$L" "$LPID"; then
	pass
	reap "$BPID"
	reap "$LPID"
	# FDESC_DATA: u32 description, u64 offset, then the bytes
	_d=$(($(rec_off "$B" FDESC_DATA) + 8))
	IPID=$BPID
	cp "$B" "$D/data_past.img" && patch "$D/data_past.img" $((_d + 4)) 8 $((24 * 1024 * 1024 - 16))
	refused memfd_contents_past_its_size "$D/data_past.img" "outside the" 2
	cp "$B" "$D/data_desc.img" && patch "$D/data_desc.img" "$_d" 4 0
	refused memfd_contents_of_another_description "$D/data_desc.img" "not the contents of the FDESC before it" 2
	_d2=$(($(rec_off "$B" FDESC_DATA 2) + 8))
	cp "$B" "$D/data_back.img" && patch "$D/data_back.img" $((_d2 + 4)) 8 0
	refused memfd_contents_run_overlapping "$D/data_back.img" "before the run ahead of it" 2
	# LOCK: u32 fd first
	IPID=$LPID
	cp "$L" "$D/lock_fd.img" && patch "$D/lock_fd.img" $(($(rec_off "$L" LOCK) + 8)) 4 77
	refused lock_on_an_fd_it_does_not_have "$D/lock_fd.img" "a lock on fd 77" 2
fi

# --- 13: many descriptions of one file ----------------------------------------------

TEST=kcmp_calls_n_log_n
N=2000
if ! command -v strace >/dev/null; then
	skip "no strace"
else
	: >"$D/many.dat"
	start "$D" manyfds $N "$D/many.dat" "$D/n.log"
	IPID=$PID
	if need ready 30 "$D/n.log"; then
		run 300 /dev/null "$D/out" "$D/err" strace -f -qq -c -e trace=kcmp -o "$D/strace" "$BIN/chkpt" -o "$D/n.img" "$IPID"
		calls=$(awk '$NF == "kcmp" { print $4 }' "$D/strace")
		# n log2 n is 22,000 for 2,000; pairwise would be 2,000,000
		WHY="chkpt: exit $RC$TO; $calls kcmp calls for $N descriptions: $(one_line "$D/err")"
		need [ "$RC" = 0 ] && need [ -n "$calls" ] && need [ "$calls" -lt $((N * 16)) ] &&
			WHY="the process does not verify" && need verifies "$IPID" "$D/n.log" 30 && pass
	fi
	kill -KILL "$IPID" 2>/dev/null
	reap "$IPID"
fi

faults_done
