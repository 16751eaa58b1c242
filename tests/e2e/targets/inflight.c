/* inflight LOGFILE HOW
 *
 * What travels in a unix socket besides bytes (unix(7)):
 *  - HOW "rights": a stream socketpair with "ab" queued, then "c" carrying a
 *    pipe's read end (SCM_RIGHTS), not yet received;
 *  - HOW "creds": a datagram socketpair whose receiver has SO_PASSCRED, with
 *    one datagram queued (it carries the sender's credentials).
 * Neither can be queued again as it was: the checkpoint must be refused,
 * naming the fd. The target only sleeps (logs "ready").
 *  - HOW "passcred": the receiver has SO_PASSCRED, nothing is queued. On
 *    SIGUSR2 (after the restore) a datagram is sent and must arrive with the
 *    sender's credentials (its own pid, uid, gid): logs "inflight ok" (exit 0)
 *    or "inflight FAIL <why>" (exit 1).
 */
#include "common.h"
#include <sys/socket.h>

static void send_with_fd(int sk, const char *data, int fd)
{
	struct iovec iov = { (void *)data, strlen(data) };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh = { 0 };
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof ctl.buf;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	if (sendmsg(sk, &mh, 0) != (ssize_t)strlen(data))
		die("inflight: sendmsg: %s", strerror(errno));
}

/* The datagram from the restored sender arrives with its credentials. */
static const char *check_creds(int tx, int rx)
{
	if (send(tx, "hello", 5, 0) != 5)
		return "send";
	char buf[16];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = { buf, sizeof buf };
	struct msghdr mh = { 0 };
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof ctl.buf;
	if (recvmsg(rx, &mh, MSG_DONTWAIT) != 5 || memcmp(buf, "hello", 5))
		return "the datagram did not arrive";
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS)
		return "no credentials with the datagram: SO_PASSCRED was lost";
	struct ucred u;
	memcpy(&u, CMSG_DATA(c), sizeof u);
	if (u.pid != getpid() || u.uid != getuid() || u.gid != getgid())
		return "the credentials are not the sender's";
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		die("usage: inflight LOGFILE rights|creds|passcred");
	const char *log = argv[1], *how = argv[2];
	int rights = !strcmp(how, "rights");
	int sv[2], one = 1, p[2];
	if (socketpair(AF_UNIX, rights ? SOCK_STREAM : SOCK_DGRAM, 0, sv) || pipe(p))
		die("inflight: socketpair: %s", strerror(errno));
	if (!rights && setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one))
		die("inflight: SO_PASSCRED: %s", strerror(errno));
	if (rights) {
		if (send(sv[0], "ab", 2, 0) != 2)
			die("inflight: send: %s", strerror(errno));
		send_with_fd(sv[0], "c", p[0]);
		close(p[0]);
	} else if (!strcmp(how, "creds")) {
		if (send(sv[0], "x", 1, 0) != 1)
			die("inflight: send: %s", strerror(errno));
	} else if (strcmp(how, "passcred"))
		die("inflight: unknown HOW %s", how);
	catch_usr2();
	log_line(log, "ready");
	wait_usr2();
	const char *why = check_creds(sv[0], sv[1]);
	if (why) {
		log_line(log, "inflight FAIL %s", why);
		return 1;
	}
	log_line(log, "inflight ok");
	return 0;
}
