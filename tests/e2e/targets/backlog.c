/* backlog LOGFILE PORT DELAY_MS   (the server, checkpointed)
 * backlog LOGFILE PORT peer       (its client, outside the checkpoint)
 *
 * A connection waiting in a listener's accept queue when the checkpoint
 * comes: the server listens on 127.0.0.1:PORT and, once a connection is
 * pending, waits DELAY_MS before it accepts it (-1: never), logging
 * "accepted". The peer connects and logs "ready" (it is in the queue then),
 * and on SIGUSR2 sends "again" on that connection and must get "again-ack".
 * The server, on SIGUSR2 after the restore, answers on the accepted
 * connection. Each logs "backlog ok" (exit 0) or "backlog FAIL <why>".
 */
#include "common.h"
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static struct sockaddr_in addr_of(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	return a;
}

static int expect(int sk, const char *want)
{
	char buf[32] = {0};
	size_t n = strlen(want);
	return read_all(sk, buf, n) == 0 && memcmp(buf, want, n) == 0;
}

static int peer(const char *log, int port)
{
	struct sockaddr_in a = addr_of(port);
	int sk = socket(AF_INET, SOCK_STREAM, 0);
	if (sk < 0 || connect(sk, (struct sockaddr *)&a, sizeof a))
		die("backlog peer: connect: %s", strerror(errno));
	log_line(log, "ready");
	wait_usr2();
	const char *bad = write_all(sk, "again", 5) || !expect(sk, "again-ack") ? "no again-ack on the connection" : NULL;
	log_line(log, bad ? "backlog FAIL %s" : "backlog ok", bad);
	return bad != NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		die("usage: backlog LOGFILE PORT DELAY_MS|peer");
	catch_usr2();
	int port = atoi(argv[2]);
	if (!strcmp(argv[3], "peer"))
		return peer(argv[1], port);
	int delay = atoi(argv[3]), one = 1;
	struct sockaddr_in a = addr_of(port);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 8))
		die("backlog: listen on %d: %s", port, strerror(errno));
	log_line(argv[1], "listening");
	struct pollfd p = {ls, POLLIN, 0};
	while (poll(&p, 1, -1) != 1)
		;
	if (delay < 0)
		for (;;)
			pause();
	struct timespec d = {delay / 1000, (delay % 1000) * 1000000L};
	while (nanosleep(&d, &d) && errno == EINTR)
		;
	int c = accept(ls, NULL, NULL);
	if (c < 0)
		die("backlog: accept: %s", strerror(errno));
	log_line(argv[1], "accepted");
	wait_usr2();
	const char *bad = !expect(c, "again") || write_all(c, "again-ack", 9) ? "no again on the accepted connection" : NULL;
	log_line(argv[1], bad ? "backlog FAIL %s" : "backlog ok", bad);
	return bad != NULL;
}
