/* stopped LOGFILE
 *
 * Logs "ready" and then a line "tick N" every 20 ms; the driver stops it
 * (SIGSTOP) and checkpoints it stopped. After the restore it must still be
 * stopped (the driver checks its state and that no tick comes), and go on
 * when the driver sends SIGCONT: the SIGCONT handler must run exactly once
 * in all (the one SIGCONT after the restore). On SIGUSR2 it logs
 * "stopped ok" (exit 0) or "stopped FAIL <reason>" (exit 1).
 */
#include "common.h"

static volatile sig_atomic_t conts;

static void on_cont(int sig) { conts++; }

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: stopped LOGFILE");
	catch_usr2();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_cont;
	sigaction(SIGCONT, &sa, NULL);
	log_line(argv[1], "ready");
	for (int n = 1; !got_usr2; n++) {
		log_line(argv[1], "tick %d", n);
		sleep_ms(20);
	}
	if (conts != 1) {
		log_line(argv[1], "stopped FAIL the SIGCONT handler ran %d times, want 1", (int)conts);
		return 1;
	}
	log_line(argv[1], "stopped ok");
	return 0;
}
