/* dgram LOGFILE [named]
 *
 * Bound unix datagram sockets, as a syslog-style server holds them:
 *  - srv, bound to the path DIR/srv.sock (DIR: the test directory), with "one"
 *    (from client a, unbound and connected to srv) and "two" (from b,
 *    unbound, sendto) queued;
 *  - abs, bound to an abstract name, with "three" (from b) queued.
 * On SIGUSR2 (after the restore) the queued datagrams come first, in order,
 * from nameless senders; then a's send and b's sendto still reach srv and
 * abs, and srv still has its name. Logs "dgram ok" (exit 0) or
 * "dgram FAIL <why>" (exit 1).
 * With "named", a datagram from a bound client is left queued as well: the
 * checkpoint must be refused (its sender's name could not be given again).
 */
#include "common.h"
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

static socklen_t addr_of(struct sockaddr_un *a, const char *name, int abstract)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + abstract, name, strlen(name));
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + strlen(name));
}

static int bound(const char *name, int abstract)
{
	struct sockaddr_un a;
	socklen_t len = addr_of(&a, name, abstract);
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, len))
		die("dgram: bind %s: %s", name, strerror(errno));
	return s;
}

static void send_to(int s, const char *name, int abstract, const char *msg)
{
	struct sockaddr_un a;
	socklen_t len = addr_of(&a, name, abstract);
	if (sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, len) != (ssize_t)strlen(msg))
		die("dgram: sendto %s: %s", name, strerror(errno));
}

/* The next datagram at s is msg, from a nameless sender. */
static int got(int s, const char *msg)
{
	char buf[64];
	struct sockaddr_un from;
	socklen_t flen = sizeof from;
	ssize_t n = recvfrom(s, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
	return n == (ssize_t)strlen(msg) && !memcmp(buf, msg, (size_t)n) && flen <= sizeof(sa_family_t); /* nameless: 0 or just the family */
}

static char abs_name[64];
static const char *srv_path;

static const char *check(int srv, int abs, int a, int b)
{
	if (!got(srv, "one") || !got(srv, "two"))
		return "srv lost its queued datagrams";
	if (!got(abs, "three"))
		return "abs lost its queued datagram";
	if (send(a, "four", 4, 0) != 4 || !got(srv, "four"))
		return "a is no longer connected to srv";
	send_to(b, abs_name, 1, "five");
	if (!got(abs, "five"))
		return "abs no longer has its abstract name";
	send_to(b, srv_path, 0, "six");
	if (!got(srv, "six"))
		return "srv no longer has its path";
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: dgram LOGFILE [named]");
	const char *log = argv[1];
	snprintf(abs_name, sizeof abs_name, "chkpt-e2e-dgram-%d", (int)getpid());
	static char path[108], cli[108];
	char cwd[64];
	if (!getcwd(cwd, sizeof cwd))
		die("dgram: the test directory's name is too long");
	snprintf(path, sizeof path, "%s/srv.sock", cwd);
	snprintf(cli, sizeof cli, "%s/cli.sock", cwd);
	srv_path = path;
	unlink(path);
	unlink(cli);
	int srv = bound(path, 0), abs = bound(abs_name, 1);
	int a = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), b = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa;
	socklen_t len = addr_of(&sa, path, 0);
	if (a < 0 || b < 0 || connect(a, (struct sockaddr *)&sa, len) || send(a, "one", 3, 0) != 3)
		die("dgram: client a: %s", strerror(errno));
	send_to(b, path, 0, "two");
	send_to(b, abs_name, 1, "three");
	if (argc > 2) {
		int c = bound(cli, 0);
		send_to(c, path, 0, "from a name");
	}
	catch_usr2();
	log_line(log, "ready");
	wait_usr2();
	const char *why = check(srv, abs, a, b);
	if (why) {
		log_line(log, "dgram FAIL %s", why);
		return 1;
	}
	log_line(log, "dgram ok");
	return 0;
}
