/* servers LOGFILE
 *
 * Sockets a server holds while it waits for clients, each checked after the
 * restore by being used:
 *  - a TCP listener on 127.0.0.1 (an ephemeral port) with SO_REUSEADDR,
 *    SO_KEEPALIVE, TCP_NODELAY and a backlog of 7: same address, options and
 *    backlog (TCP_INFO), and a new connection to it is accepted and carries data;
 *  - the same on ::1 with IPV6_V6ONLY, where the host has IPv6 loopback;
 *  - two UDP sockets on 127.0.0.1 connected to each other: a datagram each way;
 *  - a unix stream listener at LOGFILE.sock (mode 0700) and one in the
 *    abstract namespace: each accepts a new connection;
 *  - a TCP socket made but never bound, and one bound but not listening.
 * On SIGUSR2 it checks and logs "servers ok" (exit 0) or "servers FAIL <why>".
 */
#include "common.h"
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static int opt(int sk, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof v;
	getsockopt(sk, level, name, &v, &l);
	return v;
}

static int set(int sk, int level, int name, int v) { return setsockopt(sk, level, name, &v, sizeof v); }

/* Connect a new client to listener lsk's address, accept it, pass a byte. */
static const char *round_trip(int lsk)
{
	struct sockaddr_storage a;
	socklen_t l = sizeof a;
	if (getsockname(lsk, (struct sockaddr *)&a, &l))
		return "getsockname";
	int c = socket(a.ss_family, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, l))
		return "cannot connect to the restored listener";
	int s = accept(lsk, NULL, NULL);
	char b = 0;
	if (s < 0 || write(c, "q", 1) != 1 || read(s, &b, 1) != 1 || b != 'q')
		return "the accepted connection carries no data";
	close(s);
	close(c);
	return NULL;
}

static int tcp_listener(int family, const char **why)
{
	int sk = socket(family, SOCK_STREAM, 0);
	struct sockaddr_storage a = {0};
	socklen_t l;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		l = sizeof *in;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		l = sizeof *in6;
		set(sk, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	}
	set(sk, SOL_SOCKET, SO_REUSEADDR, 1);
	set(sk, SOL_SOCKET, SO_KEEPALIVE, 1);
	set(sk, IPPROTO_TCP, TCP_NODELAY, 1);
	if (sk < 0 || bind(sk, (struct sockaddr *)&a, l) || listen(sk, 7)) {
		*why = strerror(errno);
		close(sk);
		return -1;
	}
	return sk;
}

static const char *check_tcp(int sk, struct sockaddr_storage *was, int v6)
{
	struct sockaddr_storage now;
	socklen_t l = sizeof now;
	if (getsockname(sk, (struct sockaddr *)&now, &l) || memcmp(&now, was, l))
		return "the listener's address changed";
	if (opt(sk, SOL_SOCKET, SO_REUSEADDR) != 1 || opt(sk, SOL_SOCKET, SO_KEEPALIVE) != 1 ||
	    opt(sk, IPPROTO_TCP, TCP_NODELAY) != 1 || (v6 && opt(sk, IPPROTO_IPV6, IPV6_V6ONLY) != 1))
		return "the listener lost an option";
	if (opt(sk, SOL_SOCKET, SO_ACCEPTCONN) != 1)
		return "the socket no longer listens";
	struct tcp_info ti;
	l = sizeof ti;
	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l) || ti.tcpi_sacked != 7)
		return "the backlog changed";
	return round_trip(sk);
}

static int unix_listener(const char *path, int abstract)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t l;
	if (abstract) {
		int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "chkpt-test-%d", (int)getpid());
		l = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	} else {
		snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
		l = sizeof a;
	}
	int sk = socket(AF_UNIX, SOCK_STREAM, 0);
	if (sk < 0 || bind(sk, (struct sockaddr *)&a, l) || listen(sk, 5))
		die("servers: unix listener: %s", strerror(errno));
	return sk;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: servers LOGFILE");
	catch_usr2();
	const char *why = NULL;
	int t4 = tcp_listener(AF_INET, &why);
	if (t4 < 0)
		die("servers: TCP listener: %s", why);
	int t6 = tcp_listener(AF_INET6, &why); /* -1 where there is no ::1 */
	struct sockaddr_storage a4, a6;
	socklen_t l = sizeof a4;
	getsockname(t4, (struct sockaddr *)&a4, &l);
	l = sizeof a6;
	if (t6 >= 0)
		getsockname(t6, (struct sockaddr *)&a6, &l);

	int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in b1, b2;
	socklen_t bl = sizeof b1;
	if (bind(u1, (struct sockaddr *)&lo, sizeof lo) || bind(u2, (struct sockaddr *)&lo, sizeof lo) ||
	    getsockname(u1, (struct sockaddr *)&b1, &bl) || (bl = sizeof b2, getsockname(u2, (struct sockaddr *)&b2, &bl)) ||
	    connect(u1, (struct sockaddr *)&b2, sizeof b2) || connect(u2, (struct sockaddr *)&b1, sizeof b1))
		die("servers: UDP: %s", strerror(errno));

	char path[4096];
	snprintf(path, sizeof path, "%s.sock", argv[1]);
	unlink(path);
	int us = unix_listener(path, 0), ua = unix_listener(NULL, 1);
	chmod(path, 0700);
	int fresh = socket(AF_INET, SOCK_STREAM, 0), bound = socket(AF_INET, SOCK_STREAM, 0);
	if (fresh < 0 || bound < 0 || bind(bound, (struct sockaddr *)&lo, sizeof lo))
		die("servers: %s", strerror(errno));

	log_line(argv[1], "ready");
	wait_usr2();
	const char *bad = check_tcp(t4, &a4, 0);
	if (!bad && t6 >= 0)
		bad = check_tcp(t6, &a6, 1);
	char b = 0;
	if (!bad && (send(u1, "u", 1, 0) != 1 || recv(u2, &b, 1, 0) != 1 || b != 'u' || send(u2, "v", 1, 0) != 1 ||
		     recv(u1, &b, 1, 0) != 1 || b != 'v'))
		bad = "the UDP sockets are no longer connected to each other";
	struct stat st;
	if (!bad && (stat(path, &st) || !S_ISSOCK(st.st_mode) || (st.st_mode & 0777) != 0700))
		bad = "the unix socket's file is gone or changed mode";
	if (!bad)
		bad = round_trip(us);
	if (!bad)
		bad = round_trip(ua);
	struct sockaddr_in got;
	bl = sizeof got;
	if (!bad && (getsockname(bound, (struct sockaddr *)&got, &bl) || got.sin_port == 0))
		bad = "the bound socket lost its port";
	if (bad) {
		log_line(argv[1], "servers FAIL %s", bad);
		return 1;
	}
	log_line(argv[1], "servers ok");
	return 0;
}
