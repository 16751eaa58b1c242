/* tcpconn LOGFILE PORT      (the server, checkpointed)
 * tcpconn LOGFILE PORT peer (its client, outside the checkpoint)
 *
 * Established TCP connections must survive a checkpoint, a kill and a
 * restore without the other end noticing:
 *  - the server listens on 127.0.0.1:PORT and accepts the peer, which sends
 *    "hello" and gets "hello-ack";
 *  - inside the server, a second connection to itself with data queued both
 *    ways and not read: 200 KB one way, "pong" the other;
 * then both log "ready". On SIGUSR2 (after the restore), the peer sends
 * "again" on the same connection and must get "again-ack"; the server answers
 * it, reads the queued data back and checks it. Each logs "tcpconn ok" (exit
 * 0) or "tcpconn FAIL <why>" (exit 1).
 */
#include "common.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define kQueued (200u << 10)

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
		die("tcpconn peer: connect: %s", strerror(errno));
	if (write_all(sk, "hello", 5) || !expect(sk, "hello-ack"))
		die("tcpconn peer: no hello-ack");
	log_line(log, "ready");
	wait_usr2();
	const char *bad = write_all(sk, "again", 5) || !expect(sk, "again-ack") ? "no again-ack on the same connection" : NULL;
	log_line(log, bad ? "tcpconn FAIL %s" : "tcpconn ok", bad);
	return bad != NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		die("usage: tcpconn LOGFILE PORT [peer]");
	catch_usr2();
	int port = atoi(argv[2]);
	if (argc > 3)
		return peer(argv[1], port);
	struct sockaddr_in a = addr_of(port);
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4))
		die("tcpconn: listen: %s", strerror(errno));
	log_line(argv[1], "listening");
	int c = accept(ls, NULL, NULL);
	if (c < 0 || !expect(c, "hello") || write_all(c, "hello-ack", 9))
		die("tcpconn: no hello");
	/* a connection to itself: both ends in this process */
	int x = socket(AF_INET, SOCK_STREAM, 0);
	if (x < 0 || connect(x, (struct sockaddr *)&a, sizeof a))
		die("tcpconn: self connect: %s", strerror(errno));
	int y = accept(ls, NULL, NULL);
	static unsigned char buf[kQueued];
	for (unsigned i = 0; i < kQueued; i++)
		buf[i] = (unsigned char)(i * 7);
	if (y < 0 || write_all(x, buf, kQueued) || write_all(y, "pong", 4))
		die("tcpconn: self queue: %s", strerror(errno));
	sleep_ms(200); /* let the queued bytes reach the other end */
	log_line(argv[1], "ready");
	wait_usr2();
	const char *bad = NULL;
	if (!expect(c, "again") || write_all(c, "again-ack", 9))
		bad = "the peer's connection broke";
	memset(buf, 0, kQueued);
	if (!bad && read_all(y, buf, kQueued))
		bad = "the queued bytes are gone";
	for (unsigned i = 0; !bad && i < kQueued; i++)
		if (buf[i] != (unsigned char)(i * 7))
			bad = "the queued bytes changed";
	if (!bad && !expect(x, "pong"))
		bad = "the other way's bytes are gone";
	log_line(argv[1], bad ? "tcpconn FAIL %s" : "tcpconn ok", bad);
	return bad != NULL;
}
