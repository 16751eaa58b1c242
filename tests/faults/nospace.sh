#!/bin/sh
# Out of space: the image goes to a 32 MiB tmpfs that cannot hold it.
#
#   tests/faults/nospace.sh BIN_DIR [TARGET_DIR [TOOLS_DIR]]     (see lib.sh)
#
# A small image (idle) is saved at the path first; then chkpt of a 64 MiB
# memsum to the same path must fail with one line saying the space ran out,
# leave the previous image byte for byte, remove its temporary file, and leave
# the target running untouched: in the default mode, with --stop (not left
# stopped, since nothing was saved) and with --kill (never killed without a
# durable image). With --every the first generation fails the same way and
# chkpt gives up. memsum verifies its memory at the end.
# Needs `mount -t tmpfs` (root); skipped otherwise.
NAME=nospace
. "$(dirname "$0")/lib.sh"
faults_setup "$@"
set -u
D=$T/w
FS=$D/fs
mkdir -p "$FS"
TEST=mount_tmpfs
if ! mount -t tmpfs -o size=32m,mode=0700 chkpt-nospace "$FS" 2>"$D/err"; then
	skip "cannot mount a tmpfs: $(one_line "$D/err")"
	faults_done
	exit
fi
pass

TEST=previous_image
start "$D" idle "$D/idle.log"
need ready 10 "$D/idle.log" && need ckpt_ok -o "$FS/job.img" "$PID" || { umount "$FS"; faults_done; exit 1; }
cp "$FS/job.img" "$D/prev.img"
kill -KILL "$PID"
reap "$PID"
pass

start "$D" memsum 64 "$D/log"
M=$PID
TEST=memsum_ready
need ready 30 "$D/log" && pass

# full ARGS...: chkpt ARGS -o $FS/job.img fails for lack of space and leaves
# everything as it was.
full() {
	run 120 /dev/null "$D/out" "$D/err" "$BIN/chkpt" "$@" -o "$FS/job.img" "$M"
	need clean_error "chkpt $* to a full disk" 1 || return 1
	echo "  (chkpt $*) $(head -n 1 "$D/err")"
	WHY="the message does not say the space ran out: $(one_line "$D/err")"
	need grep -q "No space left" "$D/err" &&
		WHY="the previous image changed" && need cmp -s "$FS/job.img" "$D/prev.img" &&
		WHY="temporary files left: $(ls "$FS" | grep tmp | tr '\n' ' ')" && need [ -z "$(ls "$FS" | grep tmp)" ] &&
		need untouched "$M" "chkpt $* failed"
}

TEST=default_mode
full && pass
TEST=stop_mode
full --stop && pass
TEST=kill_mode
full --kill && pass

TEST=periodic_first_generation
run 60 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --every 0.1 --keep 2 -o "$FS/gens" "$M"
need clean_error "chkpt --every to a full disk" 1 &&
	WHY="the message does not say the space ran out: $(one_line "$D/err")" && need grep -q "No space left" "$D/err" &&
	WHY="files left in $FS/gens: $(ls "$FS/gens" | tr '\n' ' ')" && need [ -z "$(ls "$FS/gens")" ] &&
	need untouched "$M" "chkpt --every failed" && pass

TEST=memsum_verifies
need verifies "$M" "$D/log" 60 && pass
reap "$M"
umount "$FS"
faults_done
