/* tree3 LOGFILE [N]
 *
 * Three generations and three kinds of channel, all with data in flight:
 *   root --pipe--> child --stream socketpair--> grandchild --seqpacket socketpair--> root
 * The root sends the numbers 1..N (default 3000) in bursts; child and
 * grandchild forward them at a slower pace, so queues fill up in all three
 * channels. The root checks that every number comes back exactly once and in
 * order, then closes its end; each parent wait()s for its child and checks that
 * it exited 0 (parent/child links survive, PIDs too: each waits for the PID
 * fork gave it, and the root checks its own). Logs "ready" once the ring is busy,
 * then "tree ok N" (exit 0) or "tree FAIL <why>" (exit 1).
 */
#include "common.h"
#include <sys/socket.h>
#include <sys/wait.h>

static int wait_ok(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Forward fixed-size numbers from in to out until end of file, slowly. */
static int relay(int in, int out, long pace_every)
{
	unsigned v;
	for (long i = 1;; i++) {
		if (read_all(in, &v, sizeof v))
			return 0;
		if (write_all(out, &v, sizeof v))
			return 1;
		if (i % pace_every == 0)
			sleep_ms(5);
	}
}

static void grandchild(int from_child, int to_root)
{
	_exit(relay(from_child, to_root, 10));
}

static void child(int from_root, int to_grandchild_sp[2], int to_root)
{
	pid_t g = fork();
	if (g < 0)
		_exit(3);
	if (g == 0) {
		close(from_root);
		close(to_grandchild_sp[0]);
		grandchild(to_grandchild_sp[1], to_root);
	}
	close(to_grandchild_sp[1]);
	close(to_root);
	int rc = relay(from_root, to_grandchild_sp[0], 7);
	close(to_grandchild_sp[0]);
	_exit(rc || !wait_ok(g) ? 1 : 0);
}

static const char *run_root(int to_child, int from_ring, unsigned n, const char *log)
{
	unsigned sent = 0, expect = 1, v;
	while (expect <= n) {
		for (int k = 0; k < 40 && sent < n; k++) { /* a burst */
			sent++;
			if (write_all(to_child, &sent, sizeof sent))
				return "write to the pipe failed";
		}
		if (sent == n)
			close(to_child);
		while (expect <= sent - (sent < n ? 20 : 0)) { /* leave some in flight */
			if (read(from_ring, &v, sizeof v) != sizeof v)
				return "ring closed early";
			if (v != expect)
				return "out of order or lost";
			if (++expect == 400)
				log_line(log, "ready");
		}
	}
	return read(from_ring, &v, sizeof v) == 0 ? NULL : "extra data after the last number";
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: tree3 LOGFILE [N]");
	const char *log = argv[1];
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 3000;
	int p[2], sp[2], back[2];
	if (pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, back))
		die("tree3: channels: %s", strerror(errno));
	pid_t c = fork();
	if (c < 0)
		die("fork");
	if (c == 0) {
		close(p[1]);
		close(back[0]);
		child(p[0], sp, back[1]);
	}
	close(p[0]);
	close(sp[0]);
	close(sp[1]);
	close(back[1]);
	pid_t me = getpid();
	const char *bad = run_root(p[1], back[0], n, log);
	if (!bad && getpid() != me)
		bad = "PID changed";
	if (!bad && !wait_ok(c))
		bad = "child did not exit 0";
	if (bad) {
		log_line(log, "tree FAIL %s", bad);
		return 1;
	}
	log_line(log, "tree ok %u", n);
	return 0;
}
