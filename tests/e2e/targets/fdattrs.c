/* fdattrs LOGFILE
 *
 * What file descriptions carry besides their data, each checked after the
 * restore against what was set before the checkpoint:
 *  - a signalfd (SFD_NONBLOCK) for SIGUSR1, which is blocked: a SIGUSR1 raised
 *    after the restore is read from it, and a second read says EAGAIN;
 *  - a pipe with O_ASYNC, owned (F_SETOWN) by this process, signalling with
 *    F_SETSIG SIGRTMIN+1: a byte written after the restore must bring that
 *    signal with si_fd naming the read end;
 *  - a memfd reopened with O_APPEND: a write after a seek to 0 must append;
 *  - a stream socketpair whose sending end has a 4 MiB SO_SNDBUF (forced, as
 *    root may) and about 600 KB queued, more than a default buffer holds:
 *    every byte comes back in order (rstrt must neither hang nor lose any);
 *  - an eventfd counting past 2^32.
 * On SIGUSR2 it checks and logs "fdattrs ok" (exit 0) or "fdattrs FAIL <why>".
 */
#include "common.h"
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

static volatile sig_atomic_t io_signals, io_fd = -1;

static void on_io(int sig, siginfo_t *si, void *ctx)
{
	io_signals++;
	io_fd = si->si_fd;
}

static const uint64_t kBigCount = (1ull << 40) + 5;
#define kQueue ((size_t)600 << 10)

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + i / 4096); }

static const char *check_signalfd(int sfd)
{
	if (!(fcntl(sfd, F_GETFL) & O_NONBLOCK))
		return "signalfd lost O_NONBLOCK";
	struct signalfd_siginfo si;
	if (read(sfd, &si, sizeof si) >= 0 || errno != EAGAIN)
		return "signalfd had a signal before one was sent";
	raise(SIGUSR1);
	if (read(sfd, &si, sizeof si) != sizeof si || si.ssi_signo != SIGUSR1)
		return "signalfd did not deliver SIGUSR1";
	return NULL;
}

static const char *check_async(int r, int w)
{
	if (fcntl(r, F_GETOWN) != getpid() || fcntl(r, F_GETSIG) != SIGRTMIN + 1)
		return "pipe lost its SIGIO owner or signal";
	if (!(fcntl(r, F_GETFL) & O_ASYNC))
		return "pipe lost O_ASYNC";
	if (write(w, "x", 1) != 1)
		return "pipe write";
	for (int i = 0; i < 100 && !io_signals; i++)
		sleep_ms(10);
	if (!io_signals || io_fd != r)
		return "no SIGRTMIN+1 for the pipe's read end";
	return NULL;
}

static const char *check_append(int afd)
{
	if (!(fcntl(afd, F_GETFL) & O_APPEND))
		return "memfd lost O_APPEND";
	lseek(afd, 0, SEEK_SET);
	char buf[4] = {0};
	if (write(afd, "b", 1) != 1 || pread(afd, buf, 3, 0) != 2 || memcmp(buf, "ab", 2))
		return "memfd write did not append";
	return NULL;
}

static const char *check_queue(int sk, size_t queued)
{
	static unsigned char buf[64 << 10];
	size_t got = 0;
	while (got < queued) {
		ssize_t n = recv(sk, buf, sizeof buf, MSG_DONTWAIT);
		if (n <= 0)
			return "socket queue came back short";
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(got + (size_t)i))
				return "socket queue came back wrong";
		got += (size_t)n;
	}
	if (recv(sk, buf, sizeof buf, MSG_DONTWAIT) >= 0 || errno != EAGAIN)
		return "socket queue came back longer";
	return NULL;
}

static size_t fill_queue(int from)
{
	int big = 2 << 20;  /* the kernel doubles it: 4 MiB */
	if (setsockopt(from, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big))
		setsockopt(from, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	static unsigned char buf[kQueue];
	for (size_t i = 0; i < kQueue; i++)
		buf[i] = pattern(i);
	size_t sent = 0;
	while (sent < kQueue) {
		ssize_t n = send(from, buf + sent, kQueue - sent, MSG_DONTWAIT);
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	return sent;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: fdattrs LOGFILE");
	catch_usr2();
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	int sfd = signalfd(-1, &usr1, SFD_NONBLOCK);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_io;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN + 1, &sa, NULL);
	int p[2];
	if (sfd < 0 || pipe(p))
		die("fdattrs: setup: %s", strerror(errno));
	fcntl(p[0], F_SETOWN, getpid());
	fcntl(p[0], F_SETSIG, SIGRTMIN + 1);
	fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK);

	int mfd = memfd_create("append", 0);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", mfd);
	int afd = open(path, O_RDWR | O_APPEND);
	if (mfd < 0 || afd < 0 || write(afd, "a", 1) != 1)
		die("fdattrs: memfd: %s", strerror(errno));
	close(mfd);

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("fdattrs: socketpair: %s", strerror(errno));
	size_t queued = fill_queue(sv[0]);
	if (queued < (400 << 10))
		die("fdattrs: could queue only %zu bytes", queued);

	int efd = eventfd(0, EFD_NONBLOCK);
	uint64_t count = kBigCount;
	if (efd < 0 || write(efd, &count, 8) != 8)
		die("fdattrs: eventfd: %s", strerror(errno));

	log_line(argv[1], "ready");
	wait_usr2();
	const char *bad = check_signalfd(sfd);
	if (!bad)
		bad = check_async(p[0], p[1]);
	if (!bad)
		bad = check_append(afd);
	if (!bad)
		bad = check_queue(sv[1], queued);
	if (!bad && (read(efd, &count, 8) != 8 || count != kBigCount))
		bad = "eventfd count lost";
	if (bad) {
		log_line(argv[1], "fdattrs FAIL %s", bad);
		return 1;
	}
	log_line(argv[1], "fdattrs ok");
	return 0;
}
