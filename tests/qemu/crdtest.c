/* crdtest abi | refused PID | child IMAGE | self IMAGE
 *
 * The /dev/crd ABI as a program sees it (tests/qemu/power-guest.sh), one line
 * "crdtest WHAT: ok" or "crdtest WHAT: FAIL <what>" and exit 0/1:
 *   abi       as root, no service running: the version query, ENOTTY for an
 *             unknown ioctl, EINVAL/ESRCH/ENOENT for bad jobs, EPERM for
 *             service calls from a non-service, EAGAIN for a request.
 *   refused   as uid 1000 (the device opened before): a checkpoint request for
 *             PID (root's) is refused by the kernel (EPERM), so is a job.
 *   child     as uid 1000: a request for its own child, written to IMAGE,
 *             succeeds (the service, chkpt serve, must be running).
 *   self      as uid 1000: a request for itself (target 0), written to IMAGE:
 *             the service freezes it inside the request, which goes on
 *             waiting for the answer afterwards and returns 0 once.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../kmod/crd_ioctl.h"

static const char *what;
static int failed;

static void expect(const char *call, int r, int want_errno)
{
	int got = r < 0 ? errno : 0;
	if (got != want_errno) {
		printf("crdtest %s: FAIL %s: got %s, want %s\n", what, call, got ? strerror(got) : "success",
		       want_errno ? strerror(want_errno) : "success");
		failed = 1;
	}
}

static int finish(void)
{
	if (!failed)
		printf("crdtest %s: ok\n", what);
	return failed;
}

static int job_add(int dev, int pid, unsigned mode, const char *path)
{
	struct crd_job j;
	memset(&j, 0, sizeof j);
	j.pid = pid;
	j.mode = mode;
	snprintf(j.path, sizeof j.path, "%s", path);
	return ioctl(dev, CRD_IOC_JOB_ADD, &j);
}

static int abi(int dev)
{
	struct crd_version v;
	memset(&v, 0, sizeof v);
	expect("CRD_IOC_VERSION", ioctl(dev, CRD_IOC_VERSION, &v), 0);
	if (v.abi != CRD_ABI_VERSION || v.timeout_ms == 0 || v.service_pid != 0) {
		printf("crdtest abi: FAIL version: abi %u, timeout %u ms, service %d\n", v.abi, v.timeout_ms, v.service_pid);
		failed = 1;
	}
	expect("unknown ioctl", ioctl(dev, _IO(CRD_IOC_TYPE, 0x7f)), ENOTTY);
	expect("unknown ioctl of another type", ioctl(dev, _IOR('T', 0x40, struct crd_version), &v), ENOTTY);
	expect("job with an unknown mode", job_add(dev, getpid(), 0x80, "/data"), EINVAL);
	expect("job with a relative path", job_add(dev, getpid(), CRD_MODE_GENERATIONS, "data"), EINVAL);
	expect("job of no process", job_add(dev, 0x3ffffff0, CRD_MODE_GENERATIONS, "/data"), ESRCH);
	unsigned id = 999999;
	expect("deleting no job", ioctl(dev, CRD_IOC_JOB_DEL, &id), ENOENT);
	struct crd_event ev;
	expect("wait by a non-service", ioctl(dev, CRD_IOC_WAIT, &ev), EPERM);
	struct crd_done d = {CRD_EVENT_SHUTDOWN, 1, 0, 0};
	expect("done by a non-service", ioctl(dev, CRD_IOC_DONE, &d), EPERM);
	struct crd_request rq = {0, 1, 0, 0};
	expect("request without a service", ioctl(dev, CRD_IOC_REQUEST, &rq), EAGAIN);
	rq.flags = 0x100;
	expect("request with unknown flags", ioctl(dev, CRD_IOC_REQUEST, &rq), EINVAL);
	return finish();
}

static int as_user(void)
{
	/* a change of uid makes the process non-dumpable (commit_creds), which
	 * ptrace_may_access refuses to anyone without CAP_SYS_PTRACE */
	if (setgid(1000) || setuid(1000) || prctl(PR_SET_DUMPABLE, 1)) {
		printf("crdtest %s: FAIL setuid: %s\n", what, strerror(errno));
		return -1;
	}
	return 0;
}

static int request(int dev, int target, const char *image, int *result)
{
	int fd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		printf("crdtest %s: FAIL open %s: %s\n", what, image, strerror(errno));
		exit(1);
	}
	struct crd_request rq = {target, fd, 0, -1};
	int r = ioctl(dev, CRD_IOC_REQUEST, &rq);
	*result = rq.result;
	close(fd);
	return r;
}

static int refused(int dev, int pid)
{
	int result;
	if (as_user())
		return 1;
	expect("request for root's process", request(dev, pid, "/tmp/crdtest-refused.img", &result), EPERM);
	expect("job as a user", job_add(dev, getpid(), CRD_MODE_GENERATIONS, "/tmp"), EPERM);
	expect("serve as a user", ioctl(dev, CRD_IOC_SERVE), EPERM);
	return finish();
}

static int child(int dev, const char *image)
{
	int result = -1;
	if (as_user())
		return 1;
	pid_t c = fork();
	if (c == 0) {
		close(dev);
		for (;;)
			pause();
	}
	expect("request for its child", request(dev, c, image, &result), 0);
	if (!failed && result != 0) {
		printf("crdtest child: FAIL the service answered %s\n", strerror(result));
		failed = 1;
	}
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	return finish();
}

static int self(int dev, const char *image)
{
	int result = -1;
	if (as_user())
		return 1;
	expect("request for itself", request(dev, 0, image, &result), 0);
	if (!failed && result != 0) {
		printf("crdtest self: FAIL the service answered %s\n", strerror(result));
		failed = 1;
	}
	return finish();
}

int main(int argc, char **argv)
{
	what = argc > 1 ? argv[1] : "?";
	int dev = open(CRD_DEVICE, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		printf("crdtest %s: FAIL open %s: %s\n", what, CRD_DEVICE, strerror(errno));
		return 1;
	}
	if (argc == 2 && !strcmp(what, "abi"))
		return abi(dev);
	if (argc == 3 && !strcmp(what, "refused"))
		return refused(dev, atoi(argv[2]));
	if (argc == 3 && !strcmp(what, "child"))
		return child(dev, argv[2]);
	if (argc == 3 && !strcmp(what, "self"))
		return self(dev, argv[2]);
	fprintf(stderr, "usage: crdtest abi | refused PID | child IMAGE | self IMAGE\n");
	return 2;
}
