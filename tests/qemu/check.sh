#!/bin/sh
# make check-qemu: the e2e suite inside a QEMU guest of one architecture, and
# the unit tests under qemu-user (natively for x86_64).
#
#   tests/qemu/check.sh ARCH BUILD_DIR      ARCH: x86_64 | aarch64 | ppc64le
#   tests/qemu/check.sh ppc64 BUILD_DIR NATIVE_BUILD_DIR
#
# Big-endian ppc64 has no guest (Debian's main archive has no kernel for it):
# there the unit tests run under qemu-ppc64-static, and images written in each
# byte order (tests/qemu/mkimage.cpp) are read by both builds' chkpt info.
#
# BUILD_DIR holds the static chkpt, the static musl e2e targets (e2e/), the
# unit tests (unit, static glibc when cross-built), and qemu/script, a
# stand-in for util-linux script(1), which the guest's busybox lacks.
# Debian's kernel and busybox for ARCH come from tests/qemu/fetch.sh, cached in
# $CHKPT_QEMU_CACHE (default ~/.cache/chkpt-qemu). The guest boots under TCG,
# bounded by $CHKPT_QEMU_TIMEOUT seconds (default 1500); a guest that hangs,
# panics or never reports counts as a failure, with the reason. Prints the
# guest's PASS/FAIL lines as they come and ends with one line
# "qemu-ARCH: N passed, N failed" (unit test cases + e2e tests); exit 1 if any
# failed. The guest's console log is kept in BUILD_DIR/qemu/console.log.
# Then the power cycle (power_cycle below, docs/KMOD.md): the crd module
# built for the guest's kernel, four boots on one persistent disk, each
# console in BUILD_DIR/qemu/power-N.log. CHKPT_QEMU_POWER_ONLY=1: no e2e suite;
# CHKPT_QEMU_E2E_TESTS="a b": only those e2e tests in the guest (debugging).
set -u
cd "$(dirname "$0")/../.." || exit 2
arch=${1:?usage: check.sh ARCH BUILD_DIR}
B=${2:?usage: check.sh ARCH BUILD_DIR}
Q=$B/qemu
cache=${CHKPT_QEMU_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/chkpt-qemu}
tmo=${CHKPT_QEMU_TIMEOUT:-1500}
passed=0 failed=0
mkdir -p "$Q"

fail() { echo "FAIL qemu-$arch: $*"; failed=$((failed + 1)); }
# add_counts LINE: add "N passed, N failed" found in LINE to the totals.
add_counts() {
	set -- $(echo "$1" | sed -n 's/.*\b\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\1 \2/p')
	[ $# = 2 ] || return 1
	passed=$((passed + $1))
	failed=$((failed + $2))
}
finish() {
	echo "qemu-$arch: $passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}

unit_tests() {
	runner=qemu-$arch-static
	[ "$arch" != "$(uname -m)" ] || runner=
	start=$(date +%s)
	$runner "$B/unit" >"$Q/unit.log" 2>&1
	rc=$?
	sum=$(sed -n 's/^\[doctest\] test cases: *[0-9]* *| *\([0-9]*\) passed *| *\([0-9]*\) failed.*/\1 passed, \2 failed/p' "$Q/unit.log")
	echo "unit ($arch${runner:+, $runner}): ${sum:-no doctest summary} in $(($(date +%s) - start)) s"
	add_counts "$sum" || { fail "unit tests: no summary (exit $rc): $(tail -n 3 "$Q/unit.log" | tr '\n' '|')"; return; }
	[ "$rc" = 0 ] || [ "${sum#*, }" != "0 failed" ] || fail "unit tests exited $rc"
	grep -E '^[^ ].*(ERROR|FATAL)' "$Q/unit.log" | head -n 20
}

# cross_endian NATIVE_BUILD_DIR (big-endian ppc64, no guest): an image written
# by the big-endian build and one written by the host's must read the same
# under both builds' `chkpt info`, and each rstrt must refuse the other's image.
cross_endian() {
	nb=$1 host=$(uname -m)
	[ -x "$nb/qemu/mkimage" ] && [ -x "$nb/chkpt" ] || { fail "$nb/chkpt or $nb/qemu/mkimage missing"; return; }
	qemu-ppc64-static "$B/qemu/mkimage" "$Q/be.img" && "$nb/qemu/mkimage" "$Q/le.img" ||
		{ fail "mkimage failed"; return; }
	info_both be "ppc64 (big-endian), page size 65536" ppc64
	info_both le "$host (little-endian), page size 65536" "$host"
	refused "$nb/rstrt" be "bad image: it is for ppc64, this is $host"
	refused "qemu-ppc64-static $B/rstrt" le "bad image: it is for $host, this is ppc64"
}

# info_both IMG ARCHLINE WRITER: chkpt info of IMG.img by the host and by the
# big-endian build: both succeed, print the same, and show what mkimage wrote.
info_both() {
	"$nb/chkpt" info "$Q/$1.img" >"$Q/$1.host" 2>&1 && qemu-ppc64-static "$B/chkpt" info "$Q/$1.img" >"$Q/$1.be" 2>&1
	rc=$?
	if [ $rc != 0 ]; then fail "chkpt info of the $1 image: $(cat "$Q/$1.host" "$Q/$1.be" | tr '\n' '|')"
	elif ! cmp -s "$Q/$1.host" "$Q/$1.be"; then fail "chkpt info of the $1 image differs: $(diff "$Q/$1.host" "$Q/$1.be" | tr '\n' '|')"
	elif ! grep -qx "arch: *$2" "$Q/$1.host" || ! grep -qx "process 4242 (mkimage)" "$Q/$1.host" ||
		! grep -qx "  command: *mkimage written-on $3 *" "$Q/$1.host" ||
		! grep -q "^  memory: *1 mappings, 64 KiB mapped, 64 KiB saved" "$Q/$1.host"; then
		fail "chkpt info of the $1 image does not show what mkimage wrote: $(tr '\n' '|' <"$Q/$1.host")"
	else
		passed=$((passed + 1))
		echo "PASS chkpt info of the $1 image, on $host and on ppc64: $(grep '^arch:' "$Q/$1.host")"
	fi
}

# refused RSTRT IMG WANT: restoring IMG.img fails with exit 2 and one line WANT.
refused() {
	$1 "$Q/$2.img" >"$Q/$2.out" 2>"$Q/$2.err"
	rc=$?
	if [ $rc = 2 ] && [ "$(wc -l <"$Q/$2.err")" = 1 ] && grep -q "$3" "$Q/$2.err"; then
		passed=$((passed + 1))
		echo "PASS rstrt refuses the $2 image: $(cat "$Q/$2.err")"
	else
		fail "rstrt of the $2 image: exit $rc, want 2 and '$3': $(tr '\n' '|' <"$Q/$2.err")"
	fi
}

# The initramfs: busybox, /init, the product, the musl targets, the driver.
make_initramfs() {
	root=$Q/root
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/chkpt/bin" "$root/chkpt/e2e" "$root/usr/local/bin" "$root/root"
	cp "$cache/$arch/busybox" "$root/bin/busybox"
	mkdir -p "$root/lib"
	cp -r "$cache/$arch/modules" "$root/lib/modules"
	cp tests/qemu/guest-init.sh "$root/init"
	cp "$B/chkpt" "$root/chkpt/bin/chkpt"
	for l in rstrt migrate restartd; do ln -s chkpt "$root/chkpt/bin/$l"; done
	# imgtool, where the e2e suite looks for it (BIN_DIR/faults/: the compress test)
	mkdir -p "$root/chkpt/bin/faults"
	[ ! -x "$B/faults/imgtool" ] || cp "$B/faults/imgtool" "$root/chkpt/bin/faults/"
	for t in "$B"/e2e/*; do
		case $t in *.glibc) continue ;; esac
		cp "$t" "$root/chkpt/e2e/"
	done
	cp tests/e2e/run.sh "$root/chkpt/run.sh"
	cp tests/e2e/lib.sh "$root/chkpt/lib.sh"
	# libchkpt's tests (tests/api/run.sh sources ../e2e/lib.sh)
	mkdir -p "$root/chkpt/api"
	for t in "$B"/api/*; do
		case $t in *.glibc) continue ;; esac
		cp "$t" "$root/chkpt/api/"
	done
	cp tests/api/run.sh "$root/chkpt/api/run.sh"
	cp tests/e2e/lib.sh "$root/chkpt/e2e/lib.sh"
	cp "$Q/script" "$root/usr/local/bin/"
	[ -z "${CHKPT_QEMU_SCRIPT:-}" ] || cp "$CHKPT_QEMU_SCRIPT" "$root/chkpt/debug.sh"
	# CHKPT_QEMU_E2E_TESTS="a b": the guest runs only these e2e tests (E2E_TESTS)
	[ -z "${CHKPT_QEMU_E2E_TESTS:-}" ] || echo "$CHKPT_QEMU_E2E_TESTS" >"$root/chkpt/e2e-tests"
	# the power-cycle test (power_cycle): the module, its tools, the init scripts
	mkdir -p "$root/lib/crd" "$root/chkpt/qemu"
	[ ! -f "$B/kmod/crd.ko" ] || cp "$B/kmod/crd.ko" "$root/lib/crd/"
	cp "$B/qemu/crdtest" tests/qemu/power-guest.sh tests/qemu/power-step.sh "$root/chkpt/qemu/"
	cp -r share/chkpt "$root/chkpt/share"
	chmod 755 "$root/init" "$root/bin/busybox"
	(cd "$root" && find . | cpio -o -H newc --owner=0:0 --quiet) | gzip -1 >"$Q/initrd.gz"
}

qemu_cmd() {
	k=$cache/$arch/kernel
	common="-m 3072 -smp 2 -nographic -no-reboot -kernel $k -initrd $Q/initrd.gz ${QEMU_EXTRA:-}"
	case $arch in
	x86_64) echo "qemu-system-x86_64 -accel tcg -cpu max $common -append 'console=ttyS0 panic=-1 quiet${QEMU_APPEND:-}'" ;;
	# pauth-impdef: pointer authentication with a cheap hash (QARMA is slow in TCG)
	aarch64) echo "qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on $common -append 'console=ttyAMA0 panic=-1 quiet${QEMU_APPEND:-}'" ;;
	# x-vof: QEMU's own small firmware instead of SLOF, which takes ~10 s to boot
	ppc64le) echo "qemu-system-ppc64 -M pseries,x-vof=on -vga none $common -append 'console=hvc0 panic=-1 quiet${QEMU_APPEND:-}'" ;;
	esac
}

guest_e2e() {
	start=$(date +%s)
	eval "timeout --kill-after=10 $tmo $(qemu_cmd)" </dev/null 2>&1 | sed -u 's/\r//g' | tee "$Q/console.log" |
		grep --line-buffered -E "^(guest:|PASS|FAIL|SKIP|e2e:|api:|logs kept|[0-9]+ passed)${CHKPT_QEMU_SCRIPT:+|}"
	secs=$(($(date +%s) - start))
	verdict=$(sed -n 's/^CHKPT-GUEST-E2E: //p' "$Q/console.log")
	if [ -n "${CHKPT_QEMU_SCRIPT:-}" ]; then # a debugging run: its script's exit status is the result
		verdict=$(sed -n 's/^CHKPT-GUEST-DEBUG: //p' "$Q/console.log")
		echo "guest ($arch): $CHKPT_QEMU_SCRIPT ${verdict:-did not finish} in $secs s"
		[ "$verdict" = "exit 0" ] && passed=$((passed + 1)) || fail "guest: $CHKPT_QEMU_SCRIPT ${verdict:-did not finish}"
		return
	fi
	echo "guest ($arch): e2e ${verdict:-did not report} in $secs s"
	[ -n "$verdict" ] || {
		if [ "$secs" -ge "$tmo" ]; then why="no result within $tmo s (hung; killed)"
		elif grep -q 'Kernel panic' "$Q/console.log"; then why="kernel panic: $(grep -m 1 'Kernel panic' "$Q/console.log")"
		else why="QEMU exited without a result: $(tail -n 3 "$Q/console.log" | tr '\n' '|')"; fi
		fail "guest: $why (log: $Q/console.log)"
		return
	}
	add_counts "$verdict" || { fail "guest e2e: $verdict"; return; }
	case $verdict in *" 0 failed (exit "[1-9]*) fail "guest e2e exited non-zero: $verdict" ;; esac
}

# The power cycle (issue 16): a persistent virtio disk made here (mke2fs -d),
# booted once per stage of tests/qemu/power-step.sh; the job must come back
# after a clean poweroff and after poweroff -f with the crd module, and start
# fresh after poweroff -f without it. The module is built against Debian's
# headers for the guest kernel (fetch.sh).
power_cycle() {
	start=$(date +%s)
	disk=$Q/disk.img
	rm -rf "$Q/disk" "$disk"
	mkdir -p "$Q/disk/bin"
	cp "$B/qemu/powerjob" "$Q/disk/bin/"
	mke2fs -q -t ext4 -d "$Q/disk" "$disk" 64M || { fail "mke2fs -d failed"; return; }
	rebooted=
	for stage in 1 2 3 4; do
		log=$Q/power-$stage.log
		power_boot $stage "$disk" "$log"
		# A guest whose kernel never reached our /init (no "guest:" line,
		# nothing of ours ran, the disk untouched) hung in the emulator:
		# boot it once more, and say so. Anything later is our failure.
		if [ -z "$rebooted" ] && ! grep -q '^guest: Linux' "$log"; then
			rebooted=1
			echo "guest ($arch): power-cycle stage $stage: the kernel did not reach /init in $boot_secs s ($(power_console_tail "$log")): booting it again"
			mv "$log" "$log.hung"
			power_boot $stage "$disk" "$log"
		fi
		grep -E '^(PASS|FAIL) ' "$log"
		p=$(grep -c '^PASS ' "$log") f=$(grep -c '^FAIL ' "$log")
		passed=$((passed + p)) failed=$((failed + f))
		grep -q "^CHKPT-POWER: stage $stage done" "$log" ||
			{ fail "power-cycle stage $stage did not finish in $boot_secs s: $(power_console_tail "$log") (log: $log)"; return; }
		power_kernel_said $stage "$log"
	done
	echo "guest ($arch): power cycle in $(($(date +%s) - start)) s"
}

# power_boot STAGE DISK LOG: one boot of the power-cycle guest, its console in
# LOG, its time in boot_secs
power_boot() {
	t0=$(date +%s)
	QEMU_EXTRA="-drive file=$2,format=raw,if=virtio" QEMU_APPEND=" chkpt.power=$1"
	eval "timeout --kill-after=10 120 $(qemu_cmd)" </dev/null 2>&1 | sed -u 's/\r//g' >"$3"
	QEMU_EXTRA= QEMU_APPEND=
	boot_secs=$(($(date +%s) - t0))
}

# power_console_tail LOG: the guest's last words, on one line
power_console_tail() {
	grep -v '^[[:space:]]*$' "$1" | tail -n 4 | tr '\n' '|' | cut -c 1-400
}

# power_kernel_said STAGE LOG: the module's log of the forced power-offs
# (the guest raised the console log level): stage 2's waited for the
# service's save, stage 4's gave up on a stopped service after timeout_ms.
power_kernel_said() {
	case $1 in
	2) want="crd: power-off: service saved the jobs in" what="poweroff -f waited for the service's save" ;;
	4) want="crd: power-off: no answer from service [0-9]* within 2000 ms: going on" what="poweroff -f with a stopped service went on after timeout_ms" ;;
	*) return ;;
	esac
	if grep -q "$want" "$2"; then
		passed=$((passed + 1))
		echo "PASS power-$1: $what: $(grep -o "$want.*" "$2" | head -n 1)"
	else
		fail "power-$1: $what: no '$want' on the console (log: $2)"
	fi
}

if [ "$arch" = ppc64 ]; then
	unit_tests
	cross_endian "${3:?usage: check.sh ppc64 BUILD_DIR NATIVE_BUILD_DIR}"
	finish
fi
for f in "$B/chkpt" "$B/unit" "$B/e2e/reaper" "$Q/script"; do
	[ -e "$f" ] || { fail "$f missing (make check-qemu ARCH=$arch builds it)"; finish; }
done
command -v "$(qemu_cmd | cut -d' ' -f1)" >/dev/null || { fail "no $(qemu_cmd | cut -d' ' -f1) (sh scripts/install-deps.sh cross)"; finish; }
fetched=$(sh tests/qemu/fetch.sh "$arch" "$cache") || { fail "cannot fetch Debian's kernel/busybox"; finish; }
echo "$fetched"
unit_tests
if make -s kmod ARCH="$arch" KDIR="$(cat "$cache/$arch/kdir")" >"$Q/kmod.log" 2>&1; then :; else
	fail "make kmod for the guest kernel: $(grep -i error "$Q/kmod.log" | head -n 3 | tr '\n' '|')"
fi
make_initramfs
[ -n "${CHKPT_QEMU_POWER_ONLY:-}" ] || guest_e2e
power_cycle
finish
