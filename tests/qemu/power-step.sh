#!/bin/sh
# The checks of one stage of the power-cycle test (power-guest.sh), then its
# power-off. Prints PASS/FAIL lines and "CHKPT-POWER: stage N done".
#   1  fresh disk: the job starts fresh; clean `poweroff` (init scripts save it)
#   2  (a) it resumed and verifies; a refused and a permitted request through
#      /dev/crd; `poweroff -f` with the module: the kernel waits for the save
#   3  (b) it resumed and verifies; the service ends, the module is unloaded;
#      `poweroff -f` without the module: nothing saves it
#   4  (c) the boot script says it was not saved and starts it fresh
stage=$1
job=/data/powerjob.log
pass() { echo "PASS power-$stage: $*"; }
fail() { echo "FAIL power-$stage: $*"; }
logs() { tr '\n' '|' <"$1" 2>/dev/null | tail -c 600; }

# wait_for CMD...: up to 20 s for CMD to succeed
wait_for() {
	i=0
	while ! "$@"; do
		i=$((i + 1))
		[ $i -lt 200 ] || return 1
		sleep 0.1
	done
}
lines() { wc -l <"$job" 2>/dev/null || echo 0; }
job_alive() { [ -s /run/powerjob.pid ] && kill -0 "$(cat /run/powerjob.pid)" 2>/dev/null; }
state_lines() { [ "$(wc -l </data/powerjob.state 2>/dev/null || echo 0)" -ge "$1" ]; }

# verify: SIGUSR2, then its answer; prints the counter it verified
verify() {
	before=$(lines)
	kill -USR2 "$(cat /run/powerjob.pid)"
	wait_for sh -c "[ \$(wc -l <$job) -gt $before ]" || { fail "the job did not answer SIGUSR2: $(logs $job)"; return 1; }
	v=$(tail -n 1 "$job")
	case $v in "verify ok "*) echo "${v#verify ok }" ;; *) fail "the job says: $v"; return 1 ;; esac
}

boot_said() { grep -q "$1" /tmp/chkpt-jobs.log; }

wait_for job_alive || fail "the job is not running: $(logs /tmp/chkpt-jobs.log)"
case $stage in
1|4)
	want="no saved state in /data/powerjob.d (not saved at the last power-off): starting it fresh"
	boot_said "$want" && pass "the boot script: 'powerjob: $want'" || fail "the boot script said: $(logs /tmp/chkpt-jobs.log)"
	n=$(verify) && [ "$n" -lt "$(cat /data/count 2>/dev/null || echo 999999)" ] && [ "$(tail -n 2 $job | head -n 1)" = "fresh start" ] &&
		pass "the job started fresh and verifies (counter $n)" || fail "fresh job: counter '$n', log $(logs $job)"
	;;
2|3)
	boot_said "powerjob: restored from /data/powerjob.d" && pass "the boot script restored the job" || fail "the boot script said: $(logs /tmp/chkpt-jobs.log)"
	n=$(verify)
	[ -n "$n" ] && [ "$n" -ge "$(cat /data/count)" ] && ! tail -n 2 $job | grep -q "fresh start" &&
		pass "$([ $stage = 2 ] && echo "(a) after a clean poweroff" || echo "(b) after poweroff -f with the module"): the job resumed and verifies (counter $n, at least $(cat /data/count) before the power-off)" ||
		fail "resumed job: counter '$n', want at least $(cat /data/count): $(logs $job)"
	;;
esac
if [ "$stage" = 4 ]; then
	# a service that never answers: the power-off goes on after timeout_ms
	# (check.sh finds the kernel's words on the console)
	insmod /lib/crd/crd.ko timeout_ms=2000 || fail "insmod crd.ko"
	chkpt serve --job "$(cat /run/powerjob.pid):/data/stuck.d" 2>/dev/null &
	wait_for sh -c "grep -q '^crd ' /proc/modules && [ \$(cat /sys/module/crd/refcnt) -gt 0 ]"
	sleep 0.5
	kill -STOP $!
	dmesg -n 7
	echo "CHKPT-POWER: stage 4 done"
	poweroff -f
fi
wait_for state_lines $(($(wc -l </data/powerjob.state) + 20))
wc -l </data/powerjob.state >/data/count
sync
case $stage in
1)
	echo "CHKPT-POWER: stage 1 done"
	poweroff
	;;
2)
	wait_for sh -c "chkpt-jobs status | grep -q running" && [ -e /dev/crd ] || fail "no service or device"
	/chkpt/qemu/crdtest refused "$(cat /run/powerjob.pid)" | sed 's/^crdtest refused: ok/PASS power-2: uid 1000 asking for a checkpoint of root'"'"'s job: refused by the kernel (EPERM)/; s/^crdtest /FAIL power-2: crdtest /'
	if /chkpt/qemu/crdtest child /tmp/child.img >/tmp/child.out && chkpt info /tmp/child.img >/tmp/child.info 2>&1 &&
		grep -q '^process .*(crdtest)' /tmp/child.info; then
		pass "uid 1000 asking for a checkpoint of its own child: the service wrote it to the fd passed"
	else
		fail "request for its child: $(cat /tmp/child.out) $(logs /tmp/child.info)"
	fi
	if /chkpt/qemu/crdtest self /tmp/self.img >/tmp/self.out && chkpt info /tmp/self.img >/tmp/self.info 2>&1 &&
		grep -q '^process .*(crdtest)' /tmp/self.info; then
		pass "uid 1000 asking for a checkpoint of itself: frozen inside the request, answered once"
	else
		fail "request for itself: $(cat /tmp/self.out) $(logs /tmp/self.info)"
	fi
	wc -l </data/powerjob.state >/data/count
	sync
	dmesg -n 7 # the module's words on the console, for check.sh
	echo "CHKPT-POWER: stage 2 done"
	poweroff -f
	;;
3)
	kill "$(cat /run/chkpt-jobs/serve.pid)"
	wait_for sh -c "! kill -0 $(cat /run/chkpt-jobs/serve.pid) 2>/dev/null"
	rmmod crd && [ ! -e /dev/crd ] && pass "the service ended, rmmod crd" || fail "rmmod crd after the service: $(cat /proc/modules | grep crd)"
	echo "CHKPT-POWER: stage 3 done"
	poweroff -f
	;;
esac
