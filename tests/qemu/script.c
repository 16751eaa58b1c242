/* script -q -c COMMAND [TYPESCRIPT]
 *
 * Just enough of util-linux script(1) for tests/e2e/run.sh inside the QEMU
 * guests, whose busybox has no script: run COMMAND with $SHELL (or /bin/sh)
 * on a new pseudo-terminal that is its controlling terminal, and copy what it
 * writes there to stdout until no process has the terminal open any more.
 * The typescript file is ignored and stdin is not forwarded (the driver gives
 * /dev/null). Exits with COMMAND's status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(void)
{
	fputs("usage: script [-q] -c COMMAND [TYPESCRIPT]\n", stderr);
	exit(2);
}

static int open_master(char **slave)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m) || !(*slave = ptsname(m))) {
		perror("script: pseudo-terminal");
		exit(1);
	}
	return m;
}

/* In the child: a new session whose controlling terminal is the slave. */
static void run_on_slave(const char *slave, const char *cmd)
{
	setsid();
	int s = open(slave, O_RDWR);
	if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0) {
		perror("script: slave terminal");
		_exit(127);
	}
	dup2(s, 0);
	dup2(s, 1);
	dup2(s, 2);
	if (s > 2)
		close(s);
	const char *sh = getenv("SHELL");
	if (!sh || !*sh)
		sh = "/bin/sh";
	execl(sh, sh, "-c", cmd, (char *)NULL);
	perror("script: exec");
	_exit(127);
}

/* Copy until read fails with EIO: the last slave fd is closed. */
static void copy_output(int m)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(m, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(1, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return;
			off += w;
		}
	}
}

int main(int argc, char **argv)
{
	const char *cmd = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q"))
			continue;
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			cmd = argv[++i];
		else if (argv[i][0] == '-')
			usage();
	}
	if (!cmd)
		usage();
	char *slave;
	int m = open_master(&slave);
	pid_t pid = fork();
	if (pid < 0) {
		perror("script: fork");
		return 1;
	}
	if (pid == 0)
		run_on_slave(slave, cmd);
	copy_output(m);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
