/* echosrv LOGFILE ADDR PORT          a TCP server on ADDR:PORT (IPv4): accepts
 *                                    one client and answers each line L with
 *                                    "echo L", until the client closes
 * echosrv LOGFILE ADDR PORT client   its client: one round trip, logs
 *                                    "ready"; on SIGUSR2 five more on the same
 *                                    connection (each answer within 20 s), then
 *                                    logs "client ok" (exit 0) or "client FAIL
 *                                    <why>"
 *
 * For migrating a server with a live connection (tests/migrate/run.sh): the
 * client must not notice that the server moved between two hosts.
 */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t k = read(fd, buf + n, 1);
		if (k <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
	return (int)n;
}

static int serve(const char *log, struct sockaddr_in *a)
{
	int one = 1, lsk = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lsk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lsk < 0 || bind(lsk, (struct sockaddr *)a, sizeof *a) || listen(lsk, 4))
		die("echosrv: listen: %s", strerror(errno));
	log_line(log, "listening");
	int c = accept(lsk, NULL, NULL), n = 0;
	char line[256], reply[300];
	if (c < 0)
		die("echosrv: accept: %s", strerror(errno));
	while (read_line(c, line, sizeof line) >= 0) {
		int len = snprintf(reply, sizeof reply, "echo %s\n", line);
		if (write_all(c, reply, (size_t)len))
			break;
		n++;
	}
	log_line(log, "served %d", n);
	return 0;
}

static const char *round_trip(int sk, int i)
{
	static char why[320];
	char msg[32], want[64], got[256];
	snprintf(msg, sizeof msg, "round %d\n", i);
	snprintf(want, sizeof want, "echo round %d", i);
	if (write_all(sk, msg, strlen(msg)))
		return "the connection broke (write)";
	if (read_line(sk, got, sizeof got) < 0) {
		snprintf(why, sizeof why, "no answer to round %d (%s)", i, strerror(errno));
		return why;
	}
	if (strcmp(got, want)) {
		snprintf(why, sizeof why, "round %d answered '%s'", i, got);
		return why;
	}
	return NULL;
}

static int client(const char *log, struct sockaddr_in *a)
{
	catch_usr2();
	int sk = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {20, 0};
	setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (sk < 0 || connect(sk, (struct sockaddr *)a, sizeof *a))
		die("echosrv client: connect: %s", strerror(errno));
	const char *bad = round_trip(sk, 1);
	if (bad)
		die("echosrv client: %s", bad);
	log_line(log, "ready");
	wait_usr2();
	for (int i = 2; i <= 6 && !bad; i++)
		bad = round_trip(sk, i);
	close(sk);
	log_line(log, bad ? "client FAIL %s" : "client ok", bad);
	return bad != NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "client")))
		die("usage: echosrv LOGFILE ADDR PORT [client]");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
	if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1)
		die("echosrv: bad address %s", argv[2]);
	return argc == 5 ? client(argv[1], &a) : serve(argv[1], &a);
}
