/* procattr LOGFILE   (run as root)
 *
 * Process and thread attributes that only the kernel holds. The parent forks
 * a child and waits; the child (a child subreaper) sets, in its main thread:
 * supplementary groups, real/effective/saved/fs gids all different, effective
 * and saved uid different from the real uid 0 (fs uid follows), securebits
 * NOROOT|NO_SETUID_FIXUP, a dropped bounding-set capability, smaller
 * permitted/effective/inheritable sets and an ambient capability,
 * no_new_privs, non-dumpable, a parent-death signal, SCHED_BATCH with
 * SCHED_RESET_ON_FORK at nice 5 and an affinity of CPU 0 only (when there are
 * several). A second thread keeps root's credentials and gets SCHED_IDLE and
 * nice 3 instead: all of these are per thread in the kernel. Each thread
 * snapshots what it sees (/proc/thread-self/status lines, prctl getters,
 * sched_getattr, affinity); "ready" is logged.
 *
 * On SIGUSR2 (to the parent, which passes it on) each thread compares what it
 * sees with its snapshot. Logs "procattr ok" (exit 0) or
 * "procattr FAIL <thread>: <what> was <before>, is <now>" (exit 1).
 */
#include "common.h"

#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define SNAP 4096
#define PDEATH_SIG (SIGRTMIN + 4)

struct sched_attr_v1 {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

/* The child opens its log before it gives up root: with fs uid 1001 it could
 * not reach the driver's root-owned work dir again. */
static int log_fd = -1;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[700];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	write_all(log_fd, buf, (size_t)n);
}
static char snap_main[SNAP], snap_thread[SNAP];
static char verdict_thread[600];
static volatile int thread_set, thread_snap, thread_go, thread_done, thread_ready;

static void add(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(char *out, const char *fmt, ...)
{
	size_t n = strlen(out);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + n, SNAP - n, fmt, ap);
	va_end(ap);
}

/* Everything this thread sees of itself, one "name: value" line each. */
static void snapshot(char *out)
{
	static const char *keys[] = { "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:",
				      "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:" };
	char status[8192];
	out[0] = 0;
	int fd = open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, status, sizeof status - 1) : -1;
	if (fd >= 0)
		close(fd);
	status[n > 0 ? n : 0] = 0;
	char *save;
	for (char *line = strtok_r(status, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
			if (!strncmp(line, keys[k], strlen(keys[k])))
				add(out, "%s\n", line);
	int sig = -1, sub = -1;
	prctl(PR_GET_PDEATHSIG, &sig);
	prctl(PR_GET_CHILD_SUBREAPER, &sub);
	add(out, "securebits: %d\npdeathsig: %d\ndumpable: %d\nsubreaper: %d\n",
	    prctl(PR_GET_SECUREBITS), sig, prctl(PR_GET_DUMPABLE), sub);
	struct sched_attr_v1 a;
	memset(&a, 0, sizeof a);
	syscall(SYS_sched_getattr, 0, &a, sizeof a, 0);
	add(out, "policy: %u\nsched_flags: %llu\nnice: %d\npriority: %u\ngetpriority: %d\n", a.policy,
	    (unsigned long long)a.flags, a.nice, a.priority, getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid)));
	cpu_set_t cpus;
	CPU_ZERO(&cpus);
	sched_getaffinity(0, sizeof cpus, &cpus);
	add(out, "cpus:");
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &cpus))
			add(out, " %d", c);
	add(out, "\n");
}

/* The first line that differs, as "<what> was <before>, is <now>". */
static int compare(const char *who, const char *before, char *why, size_t cap)
{
	char now[SNAP];
	snapshot(now);
	if (!strcmp(now, before))
		return 0;
	const char *b = before, *a = now;
	while (*b && *a) {
		size_t lb = strcspn(b, "\n"), la = strcspn(a, "\n");
		if (lb != la || strncmp(a, b, lb)) {
			snprintf(why, cap, "%s: '%.*s' is now '%.*s'", who, (int)lb, b, (int)la, a);
			return 1;
		}
		b += lb + (b[lb] != 0);
		a += la + (a[la] != 0);
	}
	snprintf(why, cap, "%s: attributes differ", who);
	return 1;
}

static void must(int ok, const char *what)
{
	if (!ok)
		die("procattr: %s: %s", what, strerror(errno));
}

static void *second_thread(void *arg)
{
	struct sched_param sp = { 0 };
	/* per thread: setpriority on a tid, the raw sched_setscheduler(0) (musl's
	 * wrapper refuses with ENOSYS) */
	must(setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 3) == 0, "setpriority thread");
	must(syscall(SYS_sched_setscheduler, 0, SCHED_IDLE, &sp) == 0, "SCHED_IDLE");
	thread_set = 1;
	while (!thread_snap) /* after main's per-process changes (dumpable, subreaper) */
		sleep_ms(20);
	snapshot(snap_thread);
	thread_ready = 1;
	while (!thread_go)
		sleep_ms(20);
	verdict_thread[0] = 0;
	compare("thread", snap_thread, verdict_thread, sizeof verdict_thread);
	thread_done = 1;
	return NULL;
}

/* Raw syscalls: the libc wrappers would set the ids of every thread. */
static void set_main_attrs(void)
{
	gid_t groups[] = { 5, 100, 1234 };
	struct sched_param sp = { 0 };
	must(syscall(SYS_sched_setscheduler, 0, SCHED_BATCH | SCHED_RESET_ON_FORK, &sp) == 0, "SCHED_BATCH");
	must(setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5) == 0, "setpriority");
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		must(sched_setaffinity(0, sizeof one, &one) == 0, "sched_setaffinity");
	}
	must(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "PR_SET_CHILD_SUBREAPER");
	must(syscall(SYS_setgroups, 3, groups) == 0, "setgroups");
	must(syscall(SYS_setresgid, 1234, 1235, 1236) == 0, "setresgid");
	syscall(SYS_setfsgid, 1237);
	must(prctl(PR_CAPBSET_DROP, 22 /* CAP_SYS_BOOT */) == 0, "PR_CAPBSET_DROP");
	must(prctl(PR_SET_SECUREBITS, 1 /* NOROOT */ | 4 /* NO_SETUID_FIXUP */) == 0, "PR_SET_SECUREBITS");
	must(syscall(SYS_setresuid, 0, 1001, 1002) == 0, "setresuid");
	/* capset: effective NET_BIND_SERVICE, KILL; permitted + CHOWN; inheritable NET_BIND_SERVICE */
	struct { uint32_t version; int pid; } hdr = { 0x20080522, 0 };
	struct { uint32_t eff, prm, inh; } data[2] = {
		{ 1u << 10 | 1u << 5, 1u << 10 | 1u << 5 | 1u << 0, 1u << 10 }, { 0, 0, 0 } };
	must(syscall(SYS_capset, &hdr, data) == 0, "capset");
	must(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 10, 0, 0) == 0, "PR_CAP_AMBIENT_RAISE");
	must(prctl(PR_SET_DUMPABLE, 0) == 0, "PR_SET_DUMPABLE");
	must(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "PR_SET_NO_NEW_PRIVS");
	must(prctl(PR_SET_PDEATHSIG, PDEATH_SIG) == 0, "PR_SET_PDEATHSIG");
}

static int child_main(void)
{
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigaddset(&usr2, PDEATH_SIG);
	pthread_sigmask(SIG_BLOCK, &usr2, NULL); /* the thread inherits it blocked */
	pthread_t t;
	if (pthread_create(&t, NULL, second_thread, NULL))
		die("procattr: pthread_create failed");
	while (!thread_set)
		sleep_ms(20);
	set_main_attrs();
	thread_snap = 1;
	while (!thread_ready)
		sleep_ms(20);
	snapshot(snap_main);
	say("ready");
	int sig;
	sigdelset(&usr2, PDEATH_SIG);
	sigwait(&usr2, &sig);
	thread_go = 1;
	char why[600] = "";
	compare("main thread", snap_main, why, sizeof why);
	while (!thread_done)
		sleep_ms(20);
	pthread_join(t, NULL);
	sigset_t pend;
	sigpending(&pend);
	if (!why[0] && verdict_thread[0])
		snprintf(why, sizeof why, "%s", verdict_thread);
	if (!why[0] && sigismember(&pend, PDEATH_SIG))
		snprintf(why, sizeof why, "the parent-death signal came");
	if (why[0]) {
		say("procattr FAIL %s", why);
		return 1;
	}
	say("procattr ok");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: procattr LOGFILE");
	if (getuid() != 0)
		die("procattr: must run as root");
	log_fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		die("procattr: %s: %s", argv[1], strerror(errno));
	catch_usr2();
	pid_t c = fork();
	if (c < 0)
		die("fork: %s", strerror(errno));
	if (c == 0)
		_exit(child_main());
	wait_usr2();
	kill(c, SIGUSR2);
	int st;
	while (waitpid(c, &st, 0) < 0 && errno == EINTR) {
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
