/* ticker N [FD]
 *
 * Writes the lines 1..N to fd FD (default 1), one every 20 ms, with write(2)
 * (no stdio buffer to lose), then exits 0. As the job of `ticker | tee log`:
 * checkpointed with its stdout a pipe to a process outside the checkpoint, it
 * must go on, after `rstrt IMAGE | tee -a log`, so that log ends up 1..N.
 */
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: ticker N [FD]");
	int n = atoi(argv[1]), fd = argc > 2 ? atoi(argv[2]) : 1;
	for (int i = 1; i <= n; i++) {
		char line[32];
		int len = snprintf(line, sizeof line, "%d\n", i);
		if (write_all(fd, line, (size_t)len))
			return 1;
		sleep_ms(20);
	}
	return 0;
}
