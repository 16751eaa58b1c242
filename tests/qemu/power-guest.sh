#!/bin/busybox sh
# One boot of the power-cycle test (tests/qemu/check.sh power_cycle boots the
# same virtio disk, /dev/vda, once per stage; the kernel command line says
# which: chkpt.power=N). As PID 1: mount the disk, set up the job
# (share/chkpt/chkpt-jobs and its config), load the crd module where the
# stage wants it, then exec busybox init, whose inittab runs the jobs' rc
# script at boot (start) and at shutdown (stop), and power-step.sh, which
# checks the stage and powers off the stage's way.
stage=$1
mkdir -p /data /etc/init.d /etc/chkpt /run /usr/bin
mount -t ext4 /dev/vda /data || { echo "FAIL power-$stage: cannot mount /dev/vda"; poweroff -f; }
for a in chkpt rstrt; do ln -sf /chkpt/bin/chkpt /usr/bin/$a; done
cp /chkpt/share/chkpt-jobs /usr/bin/chkpt-jobs
cp /chkpt/share/init/busybox/S90chkpt-jobs /etc/init.d/
mkdir -p /data/powerjob.d
chmod 700 /data/powerjob.d
echo "powerjob /run/powerjob.pid /data/powerjob.d 2 /data/bin/powerjob /data/powerjob.state /data/powerjob.log" \
	>/etc/chkpt/jobs.conf
if [ "$stage" = 1 ]; then
	# the module alone: what modinfo shows (its .modinfo section: busybox
	# modinfo wants a modules.dep), load, the ABI, unload
	m=/lib/crd/crd.ko
	info=
	for w in version=1.0 license=GPL parm=timeout_ms: parm=max_jobs:; do
		grep -a -q "$w" "$m" && info="$info $w"
	done
	[ "$info" = " version=1.0 license=GPL parm=timeout_ms: parm=max_jobs:" ] &&
		echo "PASS power-1: crd.ko shows modinfo its version, license and parameters:$info" ||
		echo "FAIL power-1: crd.ko's .modinfo has only:$info"
	insmod "$m" timeout_ms=7000 && [ -c /dev/crd ] && [ "$(stat -c %a /dev/crd)" = 600 ] &&
		[ "$(cat /sys/module/crd/version)" = 1.0 ] && [ "$(cat /sys/module/crd/parameters/timeout_ms)" = 7000 ] &&
		echo "PASS power-1: insmod crd.ko timeout_ms=7000: /dev/crd mode 0600, version and parameter in /sys/module/crd" ||
		echo "FAIL power-1: insmod crd.ko: $(ls -l /dev/crd; cat /sys/module/crd/version /sys/module/crd/parameters/timeout_ms)"
	/chkpt/qemu/crdtest abi | sed 's/^crdtest abi: ok/PASS power-1: the ioctl ABI (version, ENOTTY, bad jobs, non-service calls)/; s/^crdtest /FAIL power-1: crdtest /'
	rmmod crd && [ ! -e /dev/crd ] && ! grep -q '^crd ' /proc/modules &&
		echo "PASS power-1: rmmod crd: gone" || echo "FAIL power-1: rmmod crd"
fi
case $stage in 2|3) insmod /lib/crd/crd.ko timeout_ms=20000 || echo "FAIL power-$stage: insmod crd.ko" ;; esac
cat >/etc/inittab <<EOT
::sysinit:/etc/init.d/S90chkpt-jobs start
::once:/bin/sh /chkpt/qemu/power-step.sh $stage
::shutdown:/etc/init.d/S90chkpt-jobs stop
::shutdown:/bin/umount -r /data
EOT
export CHKPT_JOBS_LOG=/tmp/chkpt-jobs.log PATH=/usr/bin:/bin
exec /bin/busybox init
