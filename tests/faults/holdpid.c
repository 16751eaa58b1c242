/* holdpid PID
 *
 * Makes PID taken: forks a child with exactly that PID (clone3 set_tid, needs
 * CAP_CHECKPOINT_RESTORE or root), which sleeps until it is killed (at most 10
 * minutes). Prints the PID once the child exists and exits; the child is
 * reaped by whichever subreaper adopts it. For the restore-fails-partway
 * tests: a process tree whose last PID is taken.
 */
#include "common.h"
#include <sys/syscall.h>

struct clone_args_v2 { /* include/uapi/linux/sched.h, CLONE_ARGS_SIZE_VER2 */
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
		cgroup;
};

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: holdpid PID");
	pid_t want = (pid_t)atol(argv[1]);
	struct clone_args_v2 a;
	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	a.set_tid = (uint64_t)(uintptr_t)&want;
	a.set_tid_size = 1;
	long r = syscall(SYS_clone3, &a, sizeof a);
	if (r < 0)
		die("holdpid: clone3 with PID %d: %s", (int)want, strerror(errno));
	if (r == 0) {
		for (int i = 0; i < 600 * 20; i++)
			sleep_ms(50);
		_exit(0);
	}
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", r);
	write_all(1, buf, (size_t)n);
	return 0;
}
