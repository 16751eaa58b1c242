/* sharedfd OUTFILE LOGFILE [N]
 *
 * Parent and child write to one open file description (opened once, before
 * the fork, without O_APPEND), taking turns passed over two pipes: parent
 * "P 000001\n", child "C 000001\n", ... N (default 1000) times each. Their
 * writes land one after the other only if the two fds still share one file
 * offset; after a restore that gave each its own offset, lines would overwrite
 * each other. The parent then reads the file back and checks every line.
 * Logs "ready" after 40 turns, then "sharedfd ok" (exit 0) or "sharedfd FAIL
 * <why>" (exit 1).
 */
#include "common.h"
#include <sys/wait.h>

#define LINE 9 /* "P 000001\n" */

static int pass(int fd)
{
	char t = 't';
	return write_all(fd, &t, 1);
}

static int take(int fd)
{
	char t;
	for (;;) {
		ssize_t n = read(fd, &t, 1);
		if (n == 1)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

static int turn(int out, char who, unsigned i)
{
	char line[LINE + 1];
	snprintf(line, sizeof line, "%c %06u\n", who, i);
	sleep_ms(2);
	return write_all(out, line, LINE);
}

static const char *check_file(const char *path, unsigned n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return "cannot reopen the file";
	char want[LINE + 1], got[LINE];
	for (unsigned i = 1; i <= n; i++)
		for (int k = 0; k < 2; k++) {
			snprintf(want, sizeof want, "%c %06u\n", k ? 'C' : 'P', i);
			if (read(fd, got, LINE) != LINE || memcmp(got, want, LINE)) {
				close(fd);
				return "lines lost or overwritten";
			}
		}
	int extra = read(fd, got, 1);
	close(fd);
	return extra == 0 ? NULL : "extra bytes at the end";
}

int main(int argc, char **argv)
{
	if (argc < 3)
		die("usage: sharedfd OUTFILE LOGFILE [N]");
	unsigned n = argc > 3 ? (unsigned)atoi(argv[3]) : 1000;
	int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int to_child[2], to_parent[2];
	if (out < 0 || pipe(to_child) || pipe(to_parent))
		die("sharedfd: setup: %s", strerror(errno));
	pid_t c = fork();
	if (c < 0)
		die("fork");
	if (c == 0) {
		for (unsigned i = 1; i <= n; i++)
			if (take(to_child[0]) || turn(out, 'C', i) || pass(to_parent[1]))
				_exit(1);
		_exit(0);
	}
	const char *bad = NULL;
	for (unsigned i = 1; i <= n && !bad; i++) {
		if (turn(out, 'P', i) || pass(to_child[1]) || take(to_parent[0]))
			bad = "the turn was lost";
		if (i == 40)
			log_line(argv[2], "ready");
	}
	int st;
	if (!bad && (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)))
		bad = "the child failed";
	if (!bad)
		bad = check_file(argv[1], n);
	if (bad) {
		log_line(argv[2], "sharedfd FAIL %s", bad);
		return 1;
	}
	log_line(argv[2], "sharedfd ok");
	return 0;
}
