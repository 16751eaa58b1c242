/* epollmoved LOGFILE
 *
 * epoll registrations whose fd number no longer refers to their target, as an
 * event loop that dup2s or closes fds behind epoll's back leaves them (the
 * registration lasts while its file is open anywhere, epoll(7) Q6):
 *  - pipe A's read end added as fd n (data 1), then dup'd elsewhere and n
 *    closed;
 *  - pipe B's read end then opened at that same number n and added too
 *    (data 2): two registrations with one fd number;
 *  - an eventfd added (data 3) and then closed here: only the child, which
 *    inherited it, still holds it.
 * On SIGUSR2 the epoll's fdinfo shows the same registrations (fd numbers,
 * events, data) as before the checkpoint, and each target still wakes it with
 * its own data: "epollmoved ok" (exit 0) or "epollmoved FAIL <why>" (exit 1).
 */
#include "common.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

static int by_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The "tfd: events: data:" part of each registration line of epoll fd ep,
 * sorted (fdinfo lists them in the kernel's order of file addresses). */
static void registrations(int ep, char *out, size_t cap)
{
	char path[64], buf[4096], *line[16];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", ep);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	size_t lines = 0;
	for (char *l = buf; lines < 16 && (l = strstr(l, "tfd:")); l++) {
		char *end = strstr(l, " pos:");
		if (end)
			*end = 0;
		line[lines++] = l;
		l = end ? end : l;
	}
	qsort(line, lines, sizeof line[0], by_text);
	out[0] = 0;
	for (size_t i = 0; i < lines; i++)
		if (strlen(out) + strlen(line[i]) + 2 < cap) {
			strcat(out, line[i]);
			strcat(out, "|");
		}
}

/* Within 1 s, an event with data `want`? */
static int woke(int ep, uint64_t want)
{
	struct epoll_event ev[4];
	for (int i = 0; i < 100; i++) {
		int n = epoll_wait(ep, ev, 4, 10);
		for (int j = 0; j < n; j++)
			if (ev[j].data.u64 == want)
				return 1;
	}
	return 0;
}

static void add(int ep, int fd, uint64_t data)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = data};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		die("epollmoved: epoll_ctl: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: epollmoved LOGFILE");
	catch_usr2();
	int ep = epoll_create1(0), a[2], b[2];
	int efd = eventfd(0, EFD_NONBLOCK);
	if (ep < 0 || efd < 0 || pipe(a))
		die("epollmoved: setup: %s", strerror(errno));
	int n = a[0];
	add(ep, n, 1);
	int a_read = dup(n);
	close(n);
	if (pipe(b) || b[0] != n)
		die("epollmoved: pipe B's read end is not at fd %d", n);
	add(ep, b[0], 2);
	add(ep, efd, 3);
	pid_t child = fork();
	if (child < 0)
		die("epollmoved: fork: %s", strerror(errno));
	if (child == 0) { /* holds the eventfd; SIGUSR1: signal it once, then keep it open */
		signal(SIGUSR1, SIG_DFL);
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGUSR1);
		sigprocmask(SIG_BLOCK, &s, NULL);
		int sig;
		sigwait(&s, &sig);
		uint64_t one = 1;
		if (write(efd, &one, 8) != 8)
			_exit(1);
		sigwait(&s, &sig); /* the last holder: the registration lasts until it exits */
		_exit(0);
	}
	close(efd);
	char before[1024], after[1024];
	registrations(ep, before, sizeof before);
	log_line(argv[1], "ready");
	wait_usr2();
	registrations(ep, after, sizeof after);
	const char *bad = NULL;
	int status = -1;
	if (strcmp(before, after))
		bad = "the registrations changed";
	else if (write(a[1], "x", 1) != 1 || !woke(ep, 1))
		bad = "pipe A (added by a number closed since) does not wake the epoll";
	else if (write(b[1], "x", 1) != 1 || !woke(ep, 2))
		bad = "pipe B (at that number now) does not wake the epoll";
	else if (kill(child, SIGUSR1) || !woke(ep, 3))
		bad = "the eventfd only the child holds does not wake the epoll";
	else if (kill(child, SIGUSR1) || waitpid(child, &status, 0) != child || status != 0)
		bad = "the child failed";
	else if (fcntl(n, F_GETFD) < 0 || fcntl(a_read, F_GETFD) < 0)
		bad = "an fd is missing";
	if (bad) {
		log_line(argv[1], "epollmoved FAIL %s (before %s after %s)", bad, before, after);
		return 1;
	}
	log_line(argv[1], "epollmoved ok");
	return 0;
}
