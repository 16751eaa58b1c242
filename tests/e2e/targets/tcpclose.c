/* tcpclose LOGFILE
 *
 * Established TCP connections dropped on purpose (chkpt --tcp-close or
 * rstrt --tcp-close): a listener on 127.0.0.1 and a connection to it with
 * both ends held (c, the client end, and s, the accepted end), data queued
 * on s. On SIGUSR2, after the restore (by root: with repair mode): both
 * ends fail as an aborted connection does (ECONNABORTED; never data, never
 * success), and the listener still
 * accepts a new connection that carries data. Logs "tcpclose ok" (exit 0)
 * or "tcpclose FAIL <why>".
 */
#include "common.h"
#include <netinet/in.h>
#include <sys/socket.h>

static char why[256];

static int aborted(int fd, const char *what)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);
	if (n >= 0 || errno != ECONNABORTED) {
		snprintf(why, sizeof why, "%s: read gave %zd (%s), want ECONNABORTED", what, n, n < 0 ? strerror(errno) : "data");
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: tcpclose LOGFILE");
	catch_usr2();
	signal(SIGPIPE, SIG_IGN);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof a;
	int lsk = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
	if (lsk < 0 || c < 0 || bind(lsk, (struct sockaddr *)&a, sizeof a) || listen(lsk, 4) ||
	    getsockname(lsk, (struct sockaddr *)&a, &l) || connect(c, (struct sockaddr *)&a, sizeof a))
		die("tcpclose: %s", strerror(errno));
	int s = accept(lsk, NULL, NULL);
	if (s < 0 || write(c, "queued", 6) != 6)
		die("tcpclose: %s", strerror(errno));
	log_line(argv[1], "ready");
	wait_usr2();

	int ok = aborted(s, "the accepted end") && aborted(c, "the client end");
	if (ok && send(s, "x", 1, MSG_NOSIGNAL) >= 0) {
		snprintf(why, sizeof why, "a write on the dropped connection succeeded");
		ok = 0;
	}
	if (ok) {
		int n = socket(AF_INET, SOCK_STREAM, 0), t;
		char b = 0;
		if (n < 0 || connect(n, (struct sockaddr *)&a, sizeof a) || (t = accept(lsk, NULL, NULL)) < 0 ||
		    write(n, "q", 1) != 1 || read(t, &b, 1) != 1 || b != 'q') {
			snprintf(why, sizeof why, "the listener no longer accepts: %s", strerror(errno));
			ok = 0;
		}
	}
	if (!ok) {
		log_line(argv[1], "tcpclose FAIL %s", why);
		return 1;
	}
	log_line(argv[1], "tcpclose ok");
	return 0;
}
