/* fifo LOGFILE [N]
 *
 * A named FIFO (LOGFILE.fifo) between a parent (writer) and its child (reader):
 * the parent writes 1..N (default 3000) as fixed-size numbers in bursts, the
 * child reads them slowly, so unread data sits in the FIFO; the child checks
 * that every number arrives once and in order and exits 0, the parent checks
 * the child's exit status. Logs "ready" once data flows, then "fifo ok" (exit 0)
 * or "fifo FAIL <why>" (exit 1).
 */
#include "common.h"
#include <sys/stat.h>
#include <sys/wait.h>

static int reader(const char *path, unsigned n)
{
	int fd = open(path, O_RDONLY);
	unsigned v, expect = 1;
	while (read(fd, &v, sizeof v) == sizeof v) {
		if (v != expect++)
			return 1;
		if (expect % 16 == 0)
			sleep_ms(2);
	}
	return expect == n + 1 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: fifo LOGFILE [N]");
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 3000;
	char path[4096];
	snprintf(path, sizeof path, "%s.fifo", argv[1]);
	unlink(path);
	if (mkfifo(path, 0600))
		die("fifo: mkfifo: %s", strerror(errno));
	pid_t c = fork();
	if (c == 0)
		_exit(reader(path, n));
	int fd = open(path, O_WRONLY);
	for (unsigned i = 1; i <= n; i++) {
		if (write_all(fd, &i, sizeof i))
			die("fifo: write: %s", strerror(errno));
		if (i == 400)
			log_line(argv[1], "ready");
		if (i % 64 == 0)
			sleep_ms(5);
	}
	close(fd);
	int st;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) {
		log_line(argv[1], "fifo FAIL the reader saw numbers lost, repeated or out of order");
		return 1;
	}
	log_line(argv[1], "fifo ok");
	return 0;
}
