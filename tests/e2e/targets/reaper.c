/* reaper CMD ARGS...
 *
 * Runs CMD as a child subreaper: every orphan below it (a process restored
 * with `rstrt -d` once rstrt exits) is reparented here and reaped at once,
 * so a test can restore the same PID again right away (PID 1 on the test
 * machines reaps only every few seconds). When CMD exits, whatever is left
 * below is killed and reaped for about a second, then reaper exits with
 * CMD's status (128+signal if it was killed).
 *
 * With $CHKPT_REAPER_LOG set, a line "PID STATUS" is appended there for
 * every other process it reaps: the driver's way to learn the exit status
 * of a detached restored process.
 *
 * CMD gets only fds 0, 1 and 2: anything else would be inherited by every
 * target, and chkpt rightly refuses fds it cannot save (a pipe leaked by a CI
 * runner or a terminal multiplexer).
 */
#include "common.h"
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static pid_t child;

static void forward(int sig) { kill(child, sig); }

static int status_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* SIGKILL every process whose parent we are; returns how many. */
static int kill_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d))) {
		char path[64], buf[512];
		int pid = atoi(e->d_name), ppid = 0;
		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof buf - 1);
		close(fd);
		buf[len > 0 ? len : 0] = 0;
		char *p = strrchr(buf, ')'); /* comm may hold spaces and parens */
		if (p && sscanf(p, ") %*c %d", &ppid) == 1 && ppid == getpid()) {
			kill(pid, SIGKILL);
			n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

static void close_extra_fds(void)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3, ~0U, 0) == 0)
		return;
#endif
	for (int fd = 3; fd < 65536; fd++)
		close(fd);
}

static void reaped(pid_t pid, int st)
{
	const char *log = getenv("CHKPT_REAPER_LOG");
	if (log && *log)
		log_line(log, "%d %d", (int)pid, status_code(st));
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: reaper CMD ARGS...");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		die("reaper: PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	child = fork();
	if (child < 0)
		die("reaper: fork: %s", strerror(errno));
	if (child == 0) {
		close_extra_fds();
		execvp(argv[1], argv + 1);
		die("reaper: exec %s: %s", argv[1], strerror(errno));
	}
	/* Ctrl-C or a kill of the reaper stops CMD; the cleanup below still runs. */
	signal(SIGINT, forward);
	signal(SIGTERM, forward);
	signal(SIGHUP, forward);

	int st, code = -1;
	while (code < 0) {
		pid_t pid = waitpid(-1, &st, 0);
		if (pid == child)
			code = status_code(st);
		else if (pid > 0)
			reaped(pid, st);
		else if (errno != EINTR)
			die("reaper: lost child: %s", strerror(errno));
	}
	for (int i = 0; i < 20; i++) {
		kill_children();
		pid_t pid;
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			reaped(pid, st);
		if (pid < 0 && errno == ECHILD && i >= 1)
			break;
		sleep_ms(50);
	}
	return code;
}
