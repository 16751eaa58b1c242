/* shmem LOGFILE [ROUNDS]
 *
 * Parent and child share one MAP_SHARED|MAP_ANONYMOUS page and play ping-pong
 * through it: the parent writes an odd number, the child answers with the next
 * even one, ROUNDS (default 3000) times, each side sleeping a little while it
 * waits. Writes by either side must be seen by the other after a restore, or
 * the game stalls. Both also keep a private (copy-on-write) counter that must
 * not leak between them. Logs "ready" after 50 rounds, then "shmem ok" (exit 0)
 * or "shmem FAIL <why>" (exit 1); the parent checks the child's exit status.
 */
#include "common.h"
#include <sys/wait.h>

static volatile unsigned *ball;
static unsigned private_count;

/* Wait until the ball holds `want`; false after ~20 s without it. */
static int wait_ball(unsigned want)
{
	for (int i = 0; i < 20000; i++) {
		if (*ball == want)
			return 1;
		sleep_ms(1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: shmem LOGFILE [ROUNDS]");
	const char *log = argv[1];
	unsigned rounds = argc > 2 ? (unsigned)atoi(argv[2]) : 3000;
	ball = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ball == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	pid_t c = fork();
	if (c < 0)
		die("fork");
	if (c == 0) {
		for (unsigned r = 0; r < rounds; r++, private_count += 2) {
			if (!wait_ball(2 * r + 1))
				_exit(1);
			*ball = 2 * r + 2;
		}
		_exit(private_count == 2 * rounds ? 0 : 1);
	}
	const char *bad = NULL;
	for (unsigned r = 0; r < rounds && !bad; r++, private_count++) {
		*ball = 2 * r + 1;
		if (!wait_ball(2 * r + 2))
			bad = "the child's answer never came";
		if (r == 50)
			log_line(log, "ready");
	}
	int st;
	if (!bad && (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)))
		bad = "the child failed";
	if (!bad && private_count != rounds)
		bad = "private counter changed";
	if (bad) {
		kill(c, SIGKILL);
		log_line(log, "shmem FAIL %s", bad);
		return 1;
	}
	log_line(log, "shmem ok");
	return 0;
}
