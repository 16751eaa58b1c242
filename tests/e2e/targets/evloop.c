/* evloop LOGFILE
 *
 * An event loop's descriptors, as asyncio, libuv or Go's runtime hold them:
 *  - an epoll holding a pipe's read end (EPOLLIN|EPOLLET, data 42), an
 *    eventfd (EPOLLIN|EPOLLONESHOT, data 7), a periodic timerfd (EPOLLIN,
 *    data 9) and a second epoll (EPOLLIN, data 11), which holds a signalfd;
 *  - the periodic timerfd (CLOCK_MONOTONIC, every 100 ms) has expired a few
 *    times unread before the checkpoint: those expirations are still there;
 *  - a CLOCK_REALTIME timerfd set with TFD_TIMER_ABSTIME for 1 h from now: it
 *    still expires at that absolute time (timerfd_gettime says about 1 h
 *    minus the time since it was set);
 *  - a disarmed CLOCK_BOOTTIME timerfd stays disarmed.
 * On SIGUSR2 it checks each through epoll_wait and logs "evloop ok" (exit 0)
 * or "evloop FAIL <why>" (exit 1).
 */
#include "common.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

static int tfd;

/* Events within ms (the periodic timer's are counted and read off): was one
 * with data `want` among them? */
static int saw(int ep, uint64_t want, int ms, int *timer_events)
{
	struct epoll_event ev[8];
	for (int waited = 0; waited <= ms; waited += 10) {
		int n = epoll_wait(ep, ev, 8, 10);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u64 == 9) {
				uint64_t v;
				read(tfd, &v, 8);
				(*timer_events)++;
			}
			if (ev[i].data.u64 == want)
				return 1;
		}
	}
	return 0;
}

static time_t set_abs;

static const char *check(int ep, int p[2], int efd, int abs_fd, int idle_fd)
{
	uint64_t v;
	int timer = 0;
	/* the timerfd kept its unread expirations */
	if (read(tfd, &v, 8) != 8 || v < 3)
		return "periodic timerfd lost its unread expirations";
	if (write(p[1], "x", 1) != 1)
		return "pipe write";
	if (!saw(ep, 42, 1000, &timer))
		return "no EPOLLIN for the pipe";
	if (saw(ep, 42, 200, &timer))
		return "the pipe is no longer edge-triggered";
	uint64_t one = 1;
	if (write(efd, &one, 8) != 8 || !saw(ep, 7, 1000, &timer))
		return "no event for the eventfd";
	if (saw(ep, 7, 200, &timer))
		return "the eventfd is no longer one-shot";
	raise(SIGUSR1);
	if (!saw(ep, 11, 1000, &timer))
		return "no event from the nested epoll's signalfd";
	if (!timer && !saw(ep, 9, 1000, &timer))
		return "the periodic timerfd does not fire";
	struct itimerspec it;
	if (timerfd_gettime(abs_fd, &it) || it.it_value.tv_sec > 3600 ||
	    it.it_value.tv_sec < 3600 - (time(NULL) - set_abs) - 60)
		return "the absolute timerfd moved";
	if (timerfd_gettime(idle_fd, &it) || it.it_value.tv_sec || it.it_value.tv_nsec)
		return "the disarmed timerfd is armed";
	return NULL;
}

static void add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		die("evloop: epoll_ctl: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: evloop LOGFILE");
	catch_usr2();
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	int p[2];
	int ep = epoll_create1(0), inner = epoll_create1(0), efd = eventfd(0, EFD_NONBLOCK);
	int sfd = signalfd(-1, &usr1, SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	int abs_fd = timerfd_create(CLOCK_REALTIME, 0), idle_fd = timerfd_create(CLOCK_BOOTTIME, 0);
	if (pipe(p) || ep < 0 || inner < 0 || efd < 0 || sfd < 0 || tfd < 0 || abs_fd < 0 || idle_fd < 0)
		die("evloop: setup: %s", strerror(errno));
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	struct itimerspec per = {{0, 100000000}, {0, 100000000}};
	timerfd_settime(tfd, 0, &per, NULL);
	struct itimerspec abs = {{0, 0}, {0, 0}};
	set_abs = time(NULL);
	abs.it_value.tv_sec = set_abs + 3600;
	timerfd_settime(abs_fd, TFD_TIMER_ABSTIME, &abs, NULL);
	add(ep, p[0], EPOLLIN | EPOLLET, 42);
	add(ep, efd, EPOLLIN | EPOLLONESHOT, 7);
	add(ep, tfd, EPOLLIN, 9);
	add(ep, inner, EPOLLIN, 11);
	add(inner, sfd, EPOLLIN, 5);
	sleep_ms(450); /* four expirations, unread */
	log_line(argv[1], "ready");
	wait_usr2();
	const char *bad = check(ep, p, efd, abs_fd, idle_fd);
	if (bad) {
		log_line(argv[1], "evloop FAIL %s", bad);
		return 1;
	}
	log_line(argv[1], "evloop ok");
	return 0;
}
