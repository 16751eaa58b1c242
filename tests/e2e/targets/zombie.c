/* zombie
 *
 * Forks a child that exits at once and never reaps it: prints the child's
 * PID on stdout, then sleeps (at most 10 minutes, so a forgotten one goes
 * away). The driver checks that checkpointing a zombie fails cleanly.
 */
#include "common.h"

int main(void)
{
	pid_t pid = fork();
	if (pid < 0)
		die("zombie: fork: %s", strerror(errno));
	if (pid == 0)
		_exit(0);
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%d\n", (int)pid);
	write_all(1, buf, (size_t)n);
	for (int i = 0; i < 600 * 20; i++)
		sleep_ms(50);
	return 0;
}
