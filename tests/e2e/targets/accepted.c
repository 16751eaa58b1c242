/* accepted LOGFILE
 *
 * Connections accepted on named unix listeners, as a daemon and its clients
 * hold them: a stream listener bound to DIR/l.sock (DIR: the test directory)
 * and a seqpacket listener with an abstract name, each with one accepted
 * connection from a nameless client, "c2s" queued towards the server end and
 * "s2c" towards the client end. On SIGUSR2 (after the restore) each end reads
 * what was queued for it, the accepted end still has the listener's name and
 * the client still sees it as its peer's, and the listeners still accept.
 * Logs "accepted ok" (exit 0) or "accepted FAIL <why>" (exit 1).
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

struct conn {
	int type, abstract;
	char name[108];
	int l, srv, cli;
};

static int client(struct conn *c)
{
	struct sockaddr_un a;
	socklen_t len = addr_of(&a, c->name, c->abstract);
	int s = socket(AF_UNIX, c->type | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, len))
		return -1;
	return s;
}

static void set_up(struct conn *c)
{
	struct sockaddr_un a;
	socklen_t len = addr_of(&a, c->name, c->abstract);
	c->l = socket(AF_UNIX, c->type | SOCK_CLOEXEC, 0);
	if (c->l < 0 || bind(c->l, (struct sockaddr *)&a, len) || listen(c->l, 4))
		die("accepted: listen %s: %s", c->name, strerror(errno));
	c->cli = client(c);
	c->srv = accept4(c->l, NULL, NULL, SOCK_CLOEXEC);
	if (c->cli < 0 || c->srv < 0 || send(c->cli, "c2s", 3, 0) != 3 || send(c->srv, "s2c", 3, 0) != 3)
		die("accepted: connect %s: %s", c->name, strerror(errno));
}

static int reads(int s, const char *want)
{
	char buf[16];
	return recv(s, buf, sizeof buf, MSG_DONTWAIT) == 3 && !memcmp(buf, want, 3);
}

/* The socket's own name (peer = 0) or its peer's is the listener's. */
static int named(int s, const struct conn *c, int peer)
{
	struct sockaddr_un a, want;
	socklen_t len = sizeof a, wlen = addr_of(&want, c->name, c->abstract);
	int r = peer ? getpeername(s, (struct sockaddr *)&a, &len) : getsockname(s, (struct sockaddr *)&a, &len);
	/* the kernel counts a path name's NUL (net/unix/af_unix.c unix_mkname_bsd) */
	return !r && len == wlen + !c->abstract && !memcmp(&a, &want, wlen);
}

static const char *check(struct conn *c)
{
	if (!reads(c->srv, "c2s") || !reads(c->cli, "s2c"))
		return "the queued data was lost";
	if (!named(c->srv, c, 0) || !named(c->cli, c, 1))
		return "the accepted end lost the listener's name";
	if (send(c->cli, "more", 4, 0) != 4 || recv(c->srv, (char[8]){ 0 }, 8, MSG_DONTWAIT) != 4)
		return "the connection no longer carries data";
	int n = client(c);
	int s = n < 0 ? -1 : accept4(c->l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (s < 0)
		return "the listener no longer accepts";
	close(n);
	close(s);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: accepted LOGFILE");
	const char *log = argv[1];
	char cwd[64];
	if (!getcwd(cwd, sizeof cwd))
		die("accepted: the test directory's name is too long");
	struct conn c[2] = { { SOCK_STREAM, 0, "", -1, -1, -1 }, { SOCK_SEQPACKET, 1, "", -1, -1, -1 } };
	snprintf(c[0].name, sizeof c[0].name, "%s/l.sock", cwd);
	snprintf(c[1].name, sizeof c[1].name, "chkpt-e2e-accepted-%d", (int)getpid());
	unlink(c[0].name);
	set_up(&c[0]);
	set_up(&c[1]);
	catch_usr2();
	log_line(log, "ready");
	wait_usr2();
	for (int k = 0; k < 2; k++) {
		const char *why = check(&c[k]);
		if (why) {
			log_line(log, "accepted FAIL %s %s", k ? "seqpacket" : "stream", why);
			return 1;
		}
	}
	log_line(log, "accepted ok");
	return 0;
}
