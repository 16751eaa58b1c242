/* manyfds N FILE LOGFILE
 *
 * Opens FILE N times (N open file descriptions of one inode), logs "ready" and
 * sleeps; on SIGUSR2 checks that the N fds are still N different
 * descriptions (an lseek on one moves no other) and logs "verify ok" (exit 0).
 * For tests/faults/crafted.sh: telling N descriptions of one file apart must
 * not cost N^2 kcmp(2) calls.
 */
#include "common.h"
#include <sys/resource.h>

int main(int argc, char **argv)
{
	if (argc != 4)
		die("usage: manyfds N FILE LOGFILE");
	int n = atoi(argv[1]);
	struct rlimit rl = {(rlim_t)n + 64, (rlim_t)n + 64};
	if (n <= 0 || n > 100000 || setrlimit(RLIMIT_NOFILE, &rl))
		die("manyfds: bad N or RLIMIT_NOFILE: %s", strerror(errno));
	catch_usr2();
	int first = -1;
	for (int i = 0; i < n; i++) {
		int fd = open(argv[2], O_RDONLY);
		if (fd < 0)
			die("manyfds: open: %s", strerror(errno));
		if (first < 0)
			first = fd;
		lseek(fd, i, SEEK_SET);
	}
	log_line(argv[3], "ready");
	wait_usr2();
	for (int i = 0; i < n; i++)
		if (lseek(first + i, 0, SEEK_CUR) != i) {
			log_line(argv[3], "verify FAIL fd %d is at %ld", first + i, (long)lseek(first + i, 0, SEEK_CUR));
			return 1;
		}
	log_line(argv[3], "verify ok");
	return 0;
}
