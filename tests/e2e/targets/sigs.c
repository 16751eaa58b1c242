/* sigs LOGFILE
 *
 * Sets up signal state that only the process itself can show: a SIGUSR1
 * handler (SA_SIGINFO|SA_RESTART|SA_ONSTACK, sa_mask {SIGHUP}) on an
 * alternate stack, SIGUSR2, SIGWINCH and a real-time signal blocked, SIGUSR2
 * queued to itself with value 42 and the RT signal twice (values 7 then 8)
 * so they stay pending, SIGTERM ignored. Logs "ready", then sleeps.
 *
 * The driver sends SIGTERM (must be ignored) and SIGUSR1 after the restore.
 * The SIGUSR1 handler records whether it ran on the alternate stack with
 * SIGHUP blocked; main then checks mask, pending set, dispositions and the
 * alt stack, unblocks the queued signals and checks their siginfo and order.
 * Logs "sigs ok" (exit 0) or "sigs FAIL <reason>" (exit 1).
 */
#include "common.h"

#define SIGRT (SIGRTMAX - 1)

static char altstack[64 << 10] __attribute__((aligned(16)));
static volatile sig_atomic_t usr1_seen, usr1_onstack, usr1_ss_flag, usr1_hup, usr1_self;
static volatile int q_count, q_value, q_code, q_pid, q_uid;
static volatile int rt_n, rt_vals[4];

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	char local;
	sigset_t cur;
	stack_t ss;
	usr1_onstack = &local >= altstack && &local < altstack + sizeof altstack;
	sigaltstack(NULL, &ss);
	usr1_ss_flag = (ss.ss_flags & SS_ONSTACK) != 0;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr1_hup = sigismember(&cur, SIGHUP);
	usr1_self = sigismember(&cur, SIGUSR1);
	usr1_seen = 1;
}

static void on_queued(int sig, siginfo_t *si, void *uc)
{
	q_count++;
	q_value = si->si_value.sival_int;
	q_code = si->si_code;
	q_pid = si->si_pid;
	q_uid = (int)si->si_uid;
}

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	if (rt_n < 4)
		rt_vals[rt_n] = si->si_value.sival_int;
	rt_n++;
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), int flags, int masked)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (masked)
		sigaddset(&sa.sa_mask, masked);
	if (sigaction(sig, &sa, NULL))
		die("sigs: sigaction %d: %s", sig, strerror(errno));
}

static void queue(int sig, int value)
{
	union sigval v = { .sival_int = value };
	if (sigqueue(getpid(), sig, v))
		die("sigs: sigqueue: %s", strerror(errno));
}

/* State as seen by main after the SIGUSR1 handler, before unblocking. */
static const char *check_state(void)
{
	sigset_t cur, pend;
	struct sigaction sa;
	stack_t ss;
	if (!usr1_onstack || !usr1_ss_flag)
		return "SIGUSR1 handler not on the alternate stack";
	if (!usr1_hup)
		return "sa_mask (SIGHUP) not blocked in the SIGUSR1 handler";
	if (!usr1_self)
		return "SIGUSR1 not blocked in its own handler";
	sigprocmask(SIG_BLOCK, NULL, &cur);
	if (!sigismember(&cur, SIGUSR2) || !sigismember(&cur, SIGWINCH) || !sigismember(&cur, SIGRT))
		return "blocked mask lost SIGUSR2/SIGWINCH/SIGRT";
	if (sigismember(&cur, SIGHUP) || sigismember(&cur, SIGUSR1))
		return "blocked mask has SIGHUP/SIGUSR1 after the handler";
	sigpending(&pend);
	if (!sigismember(&pend, SIGUSR2) || !sigismember(&pend, SIGRT))
		return "queued SIGUSR2/SIGRT no longer pending";
	if (sigismember(&pend, SIGWINCH) || sigismember(&pend, SIGTERM))
		return "spurious pending SIGWINCH/SIGTERM";
	sigaction(SIGTERM, NULL, &sa);
	if (sa.sa_handler != SIG_IGN)
		return "SIGTERM no longer ignored";
	sigaction(SIGUSR1, NULL, &sa);
	int want = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	if (sa.sa_sigaction != on_usr1 || (sa.sa_flags & want) != want)
		return "SIGUSR1 sigaction handler/flags changed";
	if (!sigismember(&sa.sa_mask, SIGHUP) || sigismember(&sa.sa_mask, SIGINT))
		return "SIGUSR1 sa_mask changed";
	sigaltstack(NULL, &ss);
	if (ss.ss_sp != altstack || ss.ss_size != sizeof altstack || ss.ss_flags)
		return "sigaltstack changed";
	return NULL;
}

/* Deliver the queued signals and check what their handlers saw. */
static const char *check_queued(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	sigaddset(&s, SIGRT);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	if (q_count != 1)
		return "SIGUSR2 not delivered exactly once";
	if (q_value != 42 || q_code != SI_QUEUE)
		return "SIGUSR2 siginfo lost (value/si_code)";
	if (q_pid != getpid() || q_uid != (int)getuid())
		return "SIGUSR2 siginfo lost (si_pid/si_uid)";
	if (rt_n != 2 || rt_vals[0] != 7 || rt_vals[1] != 8)
		return "real-time signal queue lost or reordered";
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: sigs LOGFILE");
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
	if (sigaltstack(&ss, NULL))
		die("sigs: sigaltstack: %s", strerror(errno));
	handle(SIGUSR1, on_usr1, SA_RESTART | SA_ONSTACK, SIGHUP);
	handle(SIGUSR2, on_queued, 0, 0);
	handle(SIGRT, on_rt, 0, 0);
	signal(SIGTERM, SIG_IGN);
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIGRT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	queue(SIGUSR2, 42);
	queue(SIGRT, 7);
	queue(SIGRT, 8);

	log_line(argv[1], "ready");
	while (!usr1_seen)
		sleep_ms(50);
	const char *bad = check_state();
	if (!bad)
		bad = check_queued();
	if (bad) {
		log_line(argv[1], "sigs FAIL %s", bad);
		return 1;
	}
	log_line(argv[1], "sigs ok");
	return 0;
}
