#!/bin/busybox sh
# /init of the QEMU guests (tests/qemu/check.sh builds the initramfs): mount
# the kernel filesystems, run the e2e suite as the native `make check` does
# with the static musl targets, print its closing line once more behind a
# marker the host looks for, and power off. Everything the suite needs comes
# from busybox but script(1): a small static stand-in (tests/qemu/script.c)
# is in /usr/local/bin.
/bin/busybox mkdir -p /proc /sys /dev /tmp /usr/bin /usr/sbin
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The initramfs holds no /dev/console (making one needs root on the host):
# take the console now, which devtmpfs provides.
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts
mount -t devpts -o ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
hostname chkpt-guest
# Loopback up: the socket tests serve and connect on 127.0.0.1 and ::1.
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
for m in $(cat /lib/modules/load-order); do
	insmod "/lib/modules/$m" || echo "guest: insmod $m failed"
done
echo
echo "guest: Linux $(uname -r) $(uname -m), $(nproc) CPUs, $(sed -n 's/^MemTotal: *//p' /proc/meminfo) RAM"

# check.sh power_cycle: one stage of the power-cycle test, on the virtio disk
stage=$(sed -n 's/.*chkpt\.power=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -z "$stage" ] || exec sh /chkpt/qemu/power-guest.sh "$stage"

# CHKPT_QEMU_SCRIPT=FILE on the host puts FILE here, to run instead (debugging).
if [ -f /chkpt/debug.sh ]; then
	sh -x /chkpt/debug.sh
	echo "CHKPT-GUEST-DEBUG: exit $?"
	poweroff -f
fi
# CHKPT_QEMU_E2E_TESTS on the host: only those tests (check.sh make_initramfs)
[ ! -f /chkpt/e2e-tests ] || export E2E_TESTS="$(cat /chkpt/e2e-tests)"
{
	sh /chkpt/run.sh /chkpt/bin /chkpt/e2e musl
	echo $? >/tmp/e2e.rc
} 2>&1 | tee /tmp/e2e.log
# libchkpt's tests (tests/api/), counted with the e2e ones
{
	sh /chkpt/api/run.sh /chkpt/bin /chkpt/api /chkpt/e2e musl
	echo $? >/tmp/api.rc
} 2>&1 | tee /tmp/api.log
set -- $(grep -hE '^[0-9]+ passed, [0-9]+ failed$' /tmp/e2e.log | tail -n 1 | tr -d ,) x x x x
set -- "$1" "$3" $(grep -hE '^[0-9]+ passed, [0-9]+ failed$' /tmp/api.log | tail -n 1 | tr -d ,) x x x x
rc=$(cat /tmp/e2e.rc)
[ "$rc" = 0 ] && rc=$(cat /tmp/api.rc)
case "$1$2$3$5" in
*[!0-9]*) echo "CHKPT-GUEST-E2E: $(grep -hE '^[0-9]+ passed, [0-9]+ failed$' /tmp/e2e.log | tail -n 1) (exit 1; libchkpt tests: no summary)" ;;
*) echo "CHKPT-GUEST-E2E: $(($1 + $3)) passed, $(($2 + $5)) failed (exit $rc)" ;;
esac
sync
poweroff -f
