/* timers LOGFILE
 *
 * POSIX timers (raw syscalls, so the ids are the kernel's under any libc) of
 * several clocks and notification kinds, with a gap in the ids (one timer
 * deleted), and the three interval timers:
 *   id 0  CLOCK_MONOTONIC      SIGEV_SIGNAL  SIGRTMIN+1 value 1000  one-shot 600 s
 *   id 1  CLOCK_REALTIME       SIGEV_NONE                           every 100 ms
 *   id 2  CLOCK_PROCESS_CPUTIME SIGEV_SIGNAL SIGRTMIN+2 value 1002  disarmed
 *   id 3  (deleted)
 *   id 4  CLOCK_BOOTTIME       SIGEV_SIGNAL  SIGRTMIN+3 value 1004  every 50 ms, counted
 *   id 5  CLOCK_MONOTONIC      SIGEV_THREAD_ID (itself) SIGRTMIN+5 value 1005  one-shot 300 s
 *   id 6  CLOCK_MONOTONIC      SIGEV_SIGNAL  SIGRTMIN+6 value 1006  expired, signal blocked: pending
 *   ITIMER_REAL 500 s; ITIMER_VIRTUAL 1000 s every 7 s; ITIMER_PROF 2000 s every 3 s
 * Logs "ready". On SIGUSR2 (after the restore) it checks every timer's id,
 * interval (exactly) and remaining time (armed, not above what was left at
 * the checkpoint), that the pending timer signal is still queued with its
 * value and SI_TIMER, and that the 50 ms timer goes on firing.
 * Logs "timers ok" (exit 0) or "timers FAIL <reason>" (exit 1).
 */
#include "common.h"

#include <sys/syscall.h>
#include <sys/time.h>

struct ksigevent {
	union sigval value;
	int signo, notify, tid;
	int pad[11];
};

#define SIGEV_THREAD_ID_ 4
#define NS 1000000000LL

static const char *log_path;
static volatile sig_atomic_t ticks;
static char why[300];

static void on_tick(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code == SI_TIMER && si->si_value.sival_int == 1004)
		ticks++;
}

static void on_other(int sig) {}

static int create(clockid_t clock, int notify, int signo, int value)
{
	struct ksigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.value.sival_int = value;
	ev.signo = signo;
	ev.notify = notify;
	ev.tid = (int)syscall(SYS_gettid);
	int id = -1;
	if (syscall(SYS_timer_create, clock, &ev, &id) < 0)
		die("timer_create clock %d: %s", (int)clock, strerror(errno));
	return id;
}

static void arm(int id, long long value_ns, long long interval_ns)
{
	struct itimerspec its = { { interval_ns / NS, interval_ns % NS }, { value_ns / NS, value_ns % NS } };
	if (syscall(SYS_timer_settime, id, 0, &its, NULL) < 0)
		die("timer_settime %d: %s", id, strerror(errno));
}

static long long ns(const struct timespec *t) { return t->tv_sec * NS + t->tv_nsec; }

static struct itimerval before[3];

/* Timer id: armed iff max_ns > 0, remaining in (0, max_ns], interval exact. */
static int check_posix(int id, long long max_ns, long long interval_ns)
{
	struct itimerspec its;
	if (syscall(SYS_timer_gettime, id, &its) < 0) {
		snprintf(why, sizeof why, "timer_gettime(%d): %s", id, strerror(errno));
		return 1;
	}
	long long v = ns(&its.it_value), iv = ns(&its.it_interval);
	if (iv != interval_ns || (max_ns == 0 ? v != 0 : (v <= 0 || v > max_ns))) {
		snprintf(why, sizeof why, "timer %d: remaining %lld ns interval %lld ns, want (0, %lld] and %lld", id,
			 v, iv, max_ns, interval_ns);
		return 1;
	}
	return 0;
}

/* Not above what it had left at the checkpoint; VIRTUAL and PROF may be one
 * kernel tick longer (kernel/time/itimer.c: set_cpu_itimer adds TICK_NSEC
 * whenever one is set, and a restore sets it again): 10 ms, HZ=100's. */
static int check_itimer(int which, long long interval_us)
{
	long long max_us = before[which].it_value.tv_sec * 1000000LL + before[which].it_value.tv_usec +
			   (which == ITIMER_REAL ? 0 : 10000);
	struct itimerval it;
	getitimer(which, &it);
	long long v = it.it_value.tv_sec * 1000000LL + it.it_value.tv_usec;
	long long iv = it.it_interval.tv_sec * 1000000LL + it.it_interval.tv_usec;
	if (iv != interval_us || v <= 0 || v > max_us) {
		snprintf(why, sizeof why, "itimer %d: remaining %lld us interval %lld us, want (0, %lld] and %lld",
			 which, v, iv, max_us, interval_us);
		return 1;
	}
	return 0;
}

static int check_pending(void)
{
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, SIGRTMIN + 6);
	siginfo_t si;
	struct timespec zero = { 0, 0 };
	if (sigtimedwait(&one, &si, &zero) != SIGRTMIN + 6) {
		snprintf(why, sizeof why, "the expired timer's signal is no longer pending");
		return 1;
	}
	if (si.si_code != SI_TIMER || si.si_value.sival_int != 1006) {
		snprintf(why, sizeof why, "pending timer signal: code %d value %d, want SI_TIMER and 1006", si.si_code,
			 si.si_value.sival_int);
		return 1;
	}
	return 0;
}

static int keeps_firing(void)
{
	int start = ticks;
	for (int i = 0; i < 200 && ticks < start + 3; i++)
		sleep_ms(50);
	if (ticks < start + 3) {
		snprintf(why, sizeof why, "the 50 ms timer fired %d times in 10 s", ticks - start);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: timers LOGFILE");
	log_path = argv[1];
	catch_usr2();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_tick;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGRTMIN + 3, &sa, NULL);
	signal(SIGALRM, on_other);
	signal(SIGVTALRM, on_other);
	signal(SIGPROF, on_other);
	signal(SIGRTMIN + 1, on_other);
	signal(SIGRTMIN + 2, on_other);
	signal(SIGRTMIN + 5, on_other);
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGRTMIN + 6);
	sigprocmask(SIG_BLOCK, &block, NULL);

	int ids[7];
	ids[0] = create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 1, 1000);
	ids[1] = create(CLOCK_REALTIME, SIGEV_NONE, 0, 1001);
	ids[2] = create(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGRTMIN + 2, 1002);
	ids[3] = create(CLOCK_MONOTONIC, SIGEV_NONE, 0, 1003);
	ids[4] = create(CLOCK_BOOTTIME, SIGEV_SIGNAL, SIGRTMIN + 3, 1004);
	ids[5] = create(CLOCK_MONOTONIC, SIGEV_SIGNAL | SIGEV_THREAD_ID_, SIGRTMIN + 5, 1005);
	ids[6] = create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 6, 1006);
	syscall(SYS_timer_delete, ids[3]);
	arm(ids[0], 600 * NS, 0);
	arm(ids[1], NS / 10, NS / 10);
	arm(ids[4], NS / 20, NS / 20);
	arm(ids[5], 300 * NS, 0);
	arm(ids[6], 1000000, 0);
	struct itimerval real = { { 0, 0 }, { 500, 0 } }, virt = { { 7, 0 }, { 1000, 0 } },
			 prof = { { 3, 0 }, { 2000, 0 } };
	setitimer(ITIMER_REAL, &real, NULL);
	setitimer(ITIMER_VIRTUAL, &virt, NULL);
	setitimer(ITIMER_PROF, &prof, NULL);
	sleep_ms(20); /* the 1 ms timer has expired: its signal is pending */
	for (int w = 0; w < 3; w++)
		getitimer(w, &before[w]);
	log_line(log_path, "ready");
	wait_usr2();

	int bad = check_posix(ids[0], 600 * NS, 0) || check_posix(ids[1], NS / 10, NS / 10) ||
		  check_posix(ids[2], 0, 0) || check_posix(ids[4], NS / 20, NS / 20) ||
		  check_posix(ids[5], 300 * NS, 0) || check_posix(ids[6], 0, 0) ||
		  check_itimer(ITIMER_REAL, 0) || check_itimer(ITIMER_VIRTUAL, 7000000) ||
		  check_itimer(ITIMER_PROF, 3000000) || check_pending() || keeps_firing();
	if (!bad && syscall(SYS_timer_gettime, ids[3], &(struct itimerspec){ { 0, 0 }, { 0, 0 } }) == 0) {
		snprintf(why, sizeof why, "deleted timer %d exists", ids[3]);
		bad = 1;
	}
	if (bad) {
		log_line(log_path, "timers FAIL %s", why);
		return 1;
	}
	log_line(log_path, "timers ok");
	return 0;
}
