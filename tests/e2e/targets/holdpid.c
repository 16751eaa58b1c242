/* holdpid PID
 *
 * Takes PID for a test (a "PID taken" restore): a child is cloned with that
 * PID (clone3 set_tid, needs CAP_CHECKPOINT_RESTORE) and waits until it is
 * killed; the parent waits for it. Exits 1 at once if PID cannot be had.
 */
#include "common.h"
#include <sys/syscall.h>
#include <sys/wait.h>

/* struct clone_args up to set_tid_size (include/uapi/linux/sched.h): the
 * musl build has no kernel headers. */
struct clone_args_v1 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size;
};

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: holdpid PID");
	pid_t want = (pid_t)atoi(argv[1]);
	struct clone_args_v1 a;
	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	a.set_tid = (uint64_t)(uintptr_t)&want;
	a.set_tid_size = 1;
	long c = syscall(SYS_clone3, &a, sizeof a);
	if (c < 0)
		die("holdpid: clone3 PID %d: %s", (int)want, strerror(errno));
	if (c == 0)
		for (;;)
			pause();
	int st;
	while (waitpid((pid_t)c, &st, 0) < 0 && errno == EINTR) {
	}
	return 0;
}
