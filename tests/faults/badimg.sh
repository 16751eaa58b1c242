#!/bin/sh
# Bad-input matrix: rstrt must refuse every damaged or foreign image with exit
# status 2 and one line on stderr naming the problem (and, for a problem in
# one record, that record's type and offset), and must leave no process with
# the image's PID behind.
#
#   tests/faults/badimg.sh BIN_DIR [TARGET_DIR [TOOLS_DIR]]     (see lib.sh)
#
# The image is a real one: the `sigs` target (pending signals, so it has every
# per-process record type) checkpointed with --kill. The cases:
#   - not an image: empty file, a directory, /dev/zero, random bytes, text, the
#     preamble alone;
#   - preamble and HEADER: magic, major version, another architecture (the
#     HEADER's arch field patched and its CRC fixed, as an image written on
#     that machine would say), byte order, page size, process count, absurd
#     record length, a short HEADER;
#   - truncation at every record boundary and inside every record (frame,
#     payload, checksum);
#   - one bit flipped in every record type (payload and length field);
#   - well-framed nonsense (CRC fixed, so the decoders see it): bad PIDs,
#     fds, counts, lengths, unaligned/overlapping/kernel-space mappings, pages
#     outside any mapping, wrong record count, unknown or misplaced records.
# Positive controls first: the untouched image restores, a newer minor version
# is accepted.
NAME=badimg
. "$(dirname "$0")/lib.sh"
faults_setup "$@"
set -u

D=$T/w
mkdir -p "$D/emptydir"
IMG=$D/good.img
BAD=$D/bad.img
tool() { "$FT/imgtool" "$@"; }

# --- the real image -----------------------------------------------------------

TEST=make_image
start "$D" sigs "$D/log"
need ready 10 "$D/log" && need ckpt_ok --kill -o "$IMG" "$PID" || { faults_done; exit 1; }
reap "$PID"
IPID=$PID
tool list "$IMG" >"$D/records"
pass

# Offset and length of the K-th (default first) record of type NAME.
rec_off() { awk -v n="$1" -v k="${2:-1}" '$3 == n && ++c == k { print $1; exit }' "$D/records"; }
rec_len() { awk -v n="$1" -v k="${2:-1}" '$3 == n && ++c == k { print $4; exit }' "$D/records"; }
# Little-endian u16/u32 at OFFSET of the good image.
u16_at() { od -An -tu2 -j "$1" -N 2 "$IMG" | tr -d ' '; }
u32_at() { od -An -tu4 -j "$1" -N 4 "$IMG" | tr -d ' '; }

# try CASE [WHERE [INPUT]]: rstrt INPUT (default the damaged image) exits 2
# with one line that says "bad image" or "not a chkpt image" (and contains
# WHERE, e.g. "record VMA at offset 6569"), and no process has the image's PID.
try() {
	TEST=$1
	run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" "${3:-$BAD}"
	need clean_error "rstrt of $1" 2 || return
	_msg=$(head -n 1 "$D/err")
	case $_msg in
	"rstrt: bad image"* | "rstrt: not a chkpt image"*) ;;
	*) fail "not a bad-image message: $_msg"; return ;;
	esac
	if [ -n "${2:-}" ]; then
		case $_msg in *"$2"*) ;; *) fail "message does not name '$2': $_msg"; return ;; esac
	fi
	WHY="process $IPID exists after rstrt of $1"
	need gone "$IPID" && pass
	# a wrongly accepted image must not spoil the cases after it
	if alive "$IPID"; then kill -KILL "$IPID"; poll 5 gone "$IPID"; fi
}

fresh() { cp "$IMG" "$BAD"; }
# poke_fixed OFFSET WIDTH VALUE: patch a field, then fix every CRC.
poke_fixed() { fresh && tool poke "$BAD" "$1" "$2" "$3" && tool fixcrc "$BAD"; }
at() { echo "record $1 at offset $(rec_off "$1" "${2:-1}")"; }

# --- positive controls ---------------------------------------------------------

TEST=good_image_restores
run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$IMG"
if need [ "$RC" = 0 ] && need [ "$(cat "$D/out")" = "$IPID" ]; then
	kill -KILL "$IPID"
	WHY="restored process $IPID did not go away"
	need poll 10 gone "$IPID" && pass
else
	fail "rstrt -d of the good image: exit $RC: $(one_line "$D/err")"
fi

TEST=newer_minor_version_accepted
fresh && tool poke "$BAD" 6 2 7
run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$BAD"
if need [ "$RC" = 0 ]; then
	kill -KILL "$IPID"
	WHY="restored process $IPID did not go away"
	need poll 10 gone "$IPID" && pass
else
	fail "rstrt -d of a 1.7 image: exit $RC: $(one_line "$D/err")"
fi

# A record marked optional (type bit 31) is skipped by a reader that does not
# know it (FORMAT.md): here the process's first SIGINFO, which it may lack.
TEST=optional_record_skipped
poke_fixed "$(rec_off SIGINFO)" 4 $((0x80000009))
run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$BAD"
if need [ "$RC" = 0 ]; then
	kill -KILL "$IPID"
	WHY="restored process $IPID did not go away"
	need poll 10 gone "$IPID" && pass
else
	fail "rstrt -d of an image with an optional record: exit $RC: $(one_line "$D/err")"
fi

# --- not an image ----------------------------------------------------------------

: >"$BAD"
try empty_file "too short"
try directory "directory" "$D/emptydir"
try dev_zero "bad magic" /dev/zero
head -c 65536 /dev/urandom >"$BAD"
try random_bytes
i=0
while [ $i -lt 200 ]; do echo "this is not a checkpoint image"; i=$((i + 1)); done >"$BAD"
try text_file "bad magic"
head -c 8 "$IMG" >"$BAD"
try preamble_only "at offset 8: truncated"

# --- preamble and HEADER ---------------------------------------------------------

H=$(rec_off HEADER)
HP=$((H + 8))
fresh && tool poke "$BAD" 0 1 0x58
try wrong_magic "bad magic"
fresh && tool poke "$BAD" 4 2 3
try major_version_3 "format version 3"
fresh && tool poke "$BAD" 4 2 0
try major_version_0 "format version 0"

# Another architecture: every one chkpt knows but this machine's.
own_arch=$(u16_at $HP)
for a in 1:x86_64 2:aarch64 3:ppc64le 4:ppc64; do
	[ "${a%%:*}" = "$own_arch" ] && continue
	poke_fixed $HP 2 "${a%%:*}"
	try "arch_${a#*:}" "for ${a#*:}"
done
poke_fixed $HP 2 99
try arch_unknown "unknown"
poke_fixed $((HP + 2)) 1 $((1 - $(od -An -tu1 -j $((HP + 2)) -N 1 "$IMG" | tr -d ' ')))
try byte_order "byte order"
own_ps=$(u32_at $((HP + 4)))
other_ps=65536
[ "$own_ps" = 65536 ] && other_ps=4096
poke_fixed $((HP + 4)) 4 $other_ps
try "page_size_$other_ps" "page size $other_ps"
poke_fixed $((HP + 4)) 4 0
try page_size_0 "page size 0"
poke_fixed $((HP + 16)) 4 0
try zero_processes
poke_fixed $((HP + 16)) 4 1000000
try million_processes
poke_fixed $((HP + 24)) 4 100000
try header_kernel_string_too_long "$(at HEADER)"
fresh && tool poke "$BAD" $((H + 4)) 4 0x7fffffff
try absurd_header_length "$(at HEADER): length"
fresh && tool poke "$BAD" $((H + 4)) 4 $(($(rec_len HEADER) - 1)) && tool setcrc "$BAD" "$H"
try short_header "$(at HEADER)"

# --- truncation at every record boundary and inside every record ------------------

while read -r off type name len; do
	head -c "$off" "$IMG" >"$BAD"
	try "cut_before_${name}_at_$off" "offset $off: truncated"
	head -c $((off + 5)) "$IMG" >"$BAD"
	try "cut_in_frame_of_${name}_at_$off" "offset $off: truncated"
	if [ "$len" -gt 1 ]; then
		head -c $((off + 8 + len / 2)) "$IMG" >"$BAD"
		try "cut_in_payload_of_${name}_at_$off" "record $name at offset $off: truncated"
	fi
	head -c $((off + 8 + len + 2)) "$IMG" >"$BAD"
	try "cut_in_crc_of_${name}_at_$off" "record $name at offset $off: truncated"
done <"$D/records"

# --- one bit flipped in every record type ---------------------------------------

for name in $(awk '{ print $3 }' "$D/records" | uniq); do
	off=$(rec_off "$name")
	len=$(rec_len "$name")
	fresh && tool flip "$BAD" $(((off + 8 + len / 2) * 8 + 3))
	try "flip_payload_of_$name" "record $name at offset $off"
	fresh && tool flip "$BAD" $(((off + 6) * 8 + 4)) # length + 1 MiB
	try "flip_length_of_$name" "offset $off"
	fresh && tool flip "$BAD" $(((off + 8 + len + 1) * 8))
	try "flip_crc_of_$name" "record $name at offset $off: checksum mismatch"
done

# A VMA's type turned into PAGES (bit 0): the metadata seems to end there, so
# the process would be built from a partial layout; the record's CRC must be
# checked before that.
first_vma=$(rec_off VMA)
last_vma=$(awk '$3 == "VMA" { o = $1 } END { print o }' "$D/records")
for o in "$first_vma" "$last_vma"; do
	fresh && tool flip "$BAD" $((o * 8))
	try "flip_type_of_VMA_at_${o}_to_PAGES" "record PAGES at offset $o: checksum mismatch"
done

# --- well-framed nonsense: the decoders and cross-record checks -------------------

p() { echo $(($(rec_off "$1" "${2:-1}") + 8)); } # payload offset
poke_fixed "$(p TREE)" 4 0
try tree_count_0 "$(at TREE)"
poke_fixed "$(p PROCESS)" 4 0
try process_pid_0 "$(at PROCESS)"
poke_fixed "$(p PROCESS)" 4 0x7fffffff
try process_pid_huge "$(at PROCESS)"
PP=$(p PROCESS) # pid ppid pgid sid umask uid gid nr_threads (u32), tty (u64), str comm, str cwd
poke_fixed $((PP + 44 + $(u32_at $((PP + 40))) + 4)) 1 0x78
try process_cwd_relative "$(at PROCESS)"
poke_fixed $(($(p VMA) + 70)) 1 0x78 # the first mapping is the program's file; its path made relative
try vma_file_path_relative "$(at VMA)"
poke_fixed "$(p FILE)" 4 0xffffffff
try file_fd_negative "$(at FILE)"
poke_fixed "$(p RLIMITS)" 4 15
try rlimits_count "$(at RLIMITS)"
poke_fixed "$(p SIGACTS)" 4 65
try sigacts_count "$(at SIGACTS)"
poke_fixed $(($(p MM) + 88)) 4 4096
try mm_auxv_too_long "$(at MM)"
poke_fixed "$(p THREAD)" 4 0
try thread_tid_0 "$(at THREAD)"
poke_fixed $(($(p SIGINFO) + 4)) 4 0
try siginfo_signo_0 "$(at SIGINFO)"
poke_fixed $(($(p SIGINFO) + 4)) 4 65
try siginfo_signo_65 "$(at SIGINFO)"
V1=$(p VMA)
V2=$(p VMA 2)
poke_fixed "$V1" 8 $(($(od -An -tu8 -j "$V1" -N 8 "$IMG" | tr -d ' ') + 1))
try vma_unaligned "$(at VMA)"
poke_fixed $((V1 + 24)) 4 8
try vma_prot "$(at VMA)"
poke_fixed $((V1 + 32)) 1 9
try vma_kind "$(at VMA)"
poke_fixed $((V1 + 8)) 8 "$(od -An -tu8 -j "$V1" -N 8 "$IMG" | tr -d ' ')"
try vma_empty "$(at VMA)"
fresh && tool poke "$BAD" "$V1" 8 0xfff0000000000000 && tool poke "$BAD" $((V1 + 8)) 8 0xfff0000000001000 &&
	tool fixcrc "$BAD"
try vma_kernel_space "$(at VMA)"
poke_fixed "$V2" 8 "$(od -An -tu8 -j "$V1" -N 8 "$IMG" | tr -d ' ')"
try vma_overlap "$(at VMA 2)"
poke_fixed "$(p PAGES)" 8 4096
try pages_outside_mappings "$(at PAGES)"
poke_fixed "$(p PAGES)" 8 0xfff0000000000000 # above every mapping, not only below the first
try pages_above_mappings "$(at PAGES)"
poke_fixed $(($(p PAGES) + 8)) 4 0
try pages_count_0 "$(at PAGES)"
poke_fixed $(($(p PAGES) + 8)) 4 0x7fffffff
try pages_count_huge "$(at PAGES)"
poke_fixed "$(p END)" 8 1
try end_record_count "$(at END)"
poke_fixed "$(rec_off THREAD)" 4 99
try unknown_record_type "at offset $(rec_off THREAD): unknown record type 99"
poke_fixed "$(rec_off SIGACTS)" 4 4 # a FILE after RLIMITS
try record_out_of_order "record FILE at offset $(rec_off SIGACTS)"
poke_fixed "$(rec_off MM)" 4 $((0x80000007)) # MM turned into an unknown optional record
try missing_mm
poke_fixed "$(rec_off THREAD)" 4 $((0x80000008))
try missing_thread

faults_done
