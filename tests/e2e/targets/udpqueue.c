/* udpqueue LOGFILE            the server: UDP sockets with datagrams queued
 * udpqueue LOGFILE send PORT  a sender outside the checkpoint: sends "outside"
 *                             to 127.0.0.1:PORT, logs "sent MYPORT" and stays,
 *                             holding its port
 *
 * The server holds, when it logs "ready" (after the outside sender's
 * datagram has arrived, named in LOGFILE.port by the driver):
 *  - srv, bound to 127.0.0.1, not connected, with four datagrams queued from
 *    three senders: "one" and a 9000-byte pattern from s1, an empty one from
 *    s2, "outside" from the outside sender;
 *  - u1 connected to u2 (both bound to 127.0.0.1) with "a" and "bb" queued;
 *  - where the host has IPv6: d6, bound to [::] (dual stack), with "v4" from
 *    s1 (its sender is ::ffff:127.0.0.1) and, on ::1, "v6" from s6.
 * On SIGUSR2 it reads every queue back: the same datagrams in the same order
 * from the same addresses, and nothing more; then a new datagram still
 * arrives. Logs "udpqueue ok" (exit 0) or "udpqueue FAIL <why>".
 */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static char big[9000];

static int udp4(struct sockaddr_in *a)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t l = sizeof *a;
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)a, sizeof *a) || getsockname(s, (struct sockaddr *)a, &l))
		die("udpqueue: %s", strerror(errno));
	return s;
}

static void send_to(int s, const void *p, size_t n, const void *to, socklen_t tl)
{
	if (sendto(s, p, n, 0, (const struct sockaddr *)to, tl) != (ssize_t)n)
		die("udpqueue: sendto: %s", strerror(errno));
}

static const char *why;
static char whybuf[256];

/* The next datagram on s must be want[0..n) from a sender on port `port`
 * (network order) at IPv4 address v4 (host order), or IPv6 address v6. */
static int expect(int s, const char *what, const void *want, size_t n, uint16_t port, uint32_t v4, const struct in6_addr *v6)
{
	static char buf[10000];
	struct sockaddr_storage from;
	socklen_t fl = sizeof from;
	ssize_t got = recvfrom(s, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (got < 0) {
		snprintf(whybuf, sizeof whybuf, "%s: no datagram (%s)", what, strerror(errno));
		return 0;
	}
	if ((size_t)got != n || memcmp(buf, want, n)) {
		snprintf(whybuf, sizeof whybuf, "%s: got %zd bytes, want %zu", what, got, n);
		return 0;
	}
	int addr_ok;
	if (from.ss_family == AF_INET) {
		struct sockaddr_in *f = (struct sockaddr_in *)&from;
		addr_ok = !v6 && f->sin_port == port && f->sin_addr.s_addr == htonl(v4);
	} else {
		struct sockaddr_in6 *f = (struct sockaddr_in6 *)&from;
		struct in6_addr m = IN6ADDR_ANY_INIT;
		if (!v6) { /* an IPv4 sender as a dual-stack socket sees it */
			m.s6_addr[10] = m.s6_addr[11] = 0xff;
			uint32_t b = htonl(v4);
			memcpy(m.s6_addr + 12, &b, 4);
			v6 = &m;
		}
		addr_ok = f->sin6_port == port && !memcmp(&f->sin6_addr, v6, sizeof *v6);
	}
	if (!addr_ok) {
		snprintf(whybuf, sizeof whybuf, "%s: from another sender (port %u, want %u)", what,
			 ntohs(from.ss_family == AF_INET ? ((struct sockaddr_in *)&from)->sin_port
							 : ((struct sockaddr_in6 *)&from)->sin6_port),
			 ntohs(port));
		return 0;
	}
	return 1;
}

static int empty(int s, const char *what)
{
	char b;
	if (recv(s, &b, 1, MSG_DONTWAIT) >= 0 || errno != EAGAIN) {
		snprintf(whybuf, sizeof whybuf, "%s: more queued than was", what);
		return 0;
	}
	return 1;
}

static int outside_sender(const char *log, int port)
{
	struct sockaddr_in me, to = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = udp4(&me);
	send_to(s, "outside", 7, &to, sizeof to);
	log_line(log, "sent %u", ntohs(me.sin_port));
	for (;;)
		pause();
	return 0;
}

static int outside_port(const char *log)
{
	char path[4096], line[64];
	snprintf(path, sizeof path, "%s.port", log);
	FILE *f = fopen(path, "r");
	int port = f && fgets(line, sizeof line, f) ? atoi(line) : 0;
	if (f)
		fclose(f);
	return port;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[2], "send"))
		return outside_sender(argv[1], atoi(argv[3]));
	if (argc != 2)
		die("usage: udpqueue LOGFILE [send PORT]");
	catch_usr2();
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7 + 3);

	struct sockaddr_in as, a1, a2, au1, au2;
	int srv = udp4(&as), s1 = udp4(&a1), s2 = udp4(&a2), u1 = udp4(&au1), u2 = udp4(&au2);
	if (connect(u1, (struct sockaddr *)&au2, sizeof au2) || connect(u2, (struct sockaddr *)&au1, sizeof au1))
		die("udpqueue: connect: %s", strerror(errno));
	int rcv = 1 << 20;
	setsockopt(srv, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	send_to(s1, "one", 3, &as, sizeof as);
	send_to(s2, "", 0, &as, sizeof as);
	send_to(s1, big, sizeof big, &as, sizeof as);
	send(u2, "a", 1, 0);
	send(u2, "bb", 2, 0);

	int d6 = socket(AF_INET6, SOCK_DGRAM, 0), s6 = -1;
	struct sockaddr_in6 ad6 = {.sin6_family = AF_INET6}, as6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int off = 0;
	socklen_t l = sizeof ad6;
	if (d6 >= 0 && (setsockopt(d6, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) ||
			bind(d6, (struct sockaddr *)&ad6, sizeof ad6) || getsockname(d6, (struct sockaddr *)&ad6, &l)))
		die("udpqueue: IPv6: %s", strerror(errno));
	if (d6 >= 0) {
		struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = ad6.sin6_port, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		send_to(s1, "v4", 2, &v4, sizeof v4);
		s6 = socket(AF_INET6, SOCK_DGRAM, 0);
		l = sizeof as6;
		struct sockaddr_in6 to6 = ad6;
		to6.sin6_addr = in6addr_loopback;
		if (s6 >= 0 && bind(s6, (struct sockaddr *)&as6, sizeof as6) == 0 && getsockname(s6, (struct sockaddr *)&as6, &l) == 0)
			send_to(s6, "v6", 2, &to6, sizeof to6);
		else { /* no ::1 here: IPv4 only */
			close(s6);
			s6 = -1;
		}
	}

	log_line(argv[1], "port %u", ntohs(as.sin_port));
	int oport = 0;
	for (int i = 0; i < 2000 && !(oport = outside_port(argv[1])); i++)
		sleep_ms(10);
	if (!oport)
		die("udpqueue: the driver never named the outside sender");
	log_line(argv[1], "ready");
	wait_usr2();

	int ok = expect(srv, "srv 1", "one", 3, a1.sin_port, INADDR_LOOPBACK, NULL) &&
		 expect(srv, "srv 2", "", 0, a2.sin_port, INADDR_LOOPBACK, NULL) &&
		 expect(srv, "srv 3", big, sizeof big, a1.sin_port, INADDR_LOOPBACK, NULL) &&
		 expect(srv, "srv 4", "outside", 7, htons(oport), INADDR_LOOPBACK, NULL) && empty(srv, "srv") &&
		 expect(u1, "u1 1", "a", 1, au2.sin_port, INADDR_LOOPBACK, NULL) &&
		 expect(u1, "u1 2", "bb", 2, au2.sin_port, INADDR_LOOPBACK, NULL) && empty(u1, "u1");
	if (ok && d6 >= 0)
		ok = expect(d6, "d6 v4", "v4", 2, a1.sin_port, INADDR_LOOPBACK, NULL) &&
		     (s6 < 0 || expect(d6, "d6 v6", "v6", 2, as6.sin6_port, 0, &in6addr_loopback)) && empty(d6, "d6");
	if (ok) { /* still a working server */
		send_to(s2, "later", 5, &as, sizeof as);
		sleep_ms(50);
		ok = expect(srv, "srv after", "later", 5, a2.sin_port, INADDR_LOOPBACK, NULL);
	}
	why = ok ? NULL : whybuf;
	if (why) {
		log_line(argv[1], "udpqueue FAIL %s", why);
		return 1;
	}
	log_line(argv[1], "udpqueue ok");
	return 0;
}
