/* evmem LOGFILE
 *
 * An eventfd and two memfds shared by a parent and its child:
 *  - an eventfd (EFD_NONBLOCK) holding the count 7;
 *  - memfd "chkpt-test" (sealed against shrinking), open in both and mapped
 *    MAP_SHARED, holding "hello memfd";
 *  - memfd "mapped-only", mapped MAP_SHARED and closed: only the mapping keeps it;
 *  - a SOCK_DGRAM socketpair holding three queued datagrams of different sizes
 *    for the child, which must get them back one by one, boundaries intact.
 * On SIGUSR2 the parent tells the child (SIGUSR2) to write 'C' through both
 * mappings and exit; then it checks that it sees the child's writes through
 * its own mappings and through the memfd's fd, that the memfd kept its name and
 * seal, and that the eventfd still counts 7 (a second read: EAGAIN).
 * Logs "evmem ok" (exit 0) or "evmem FAIL <why>" (exit 1).
 */
#include "common.h"
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

static const char *verify(int efd, int mfd, const char *shared, const char *only)
{
	uint64_t v = 0;
	if (read(efd, &v, sizeof v) != sizeof v || v != 7)
		return "eventfd count lost";
	if (read(efd, &v, sizeof v) >= 0 || errno != EAGAIN)
		return "eventfd not non-blocking, or counted twice";
	char buf[128];
	if (pread(mfd, buf, sizeof buf, 0) != sizeof buf || memcmp(buf, "hello memfd", 11) || buf[100] != 'C')
		return "memfd contents (through the fd)";
	if (shared[100] != 'C' || only[100] != 'C' || only[0] != 'o')
		return "memfd mappings are not shared with the child";
	if (!(fcntl(mfd, F_GET_SEALS) & F_SEAL_SHRINK))
		return "memfd lost its seal";
	char link[64], path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", mfd);
	ssize_t n = readlink(path, link, sizeof link - 1);
	link[n > 0 ? n : 0] = 0;
	return strstr(link, "memfd:chkpt-test") ? NULL : "memfd lost its name";
}

static const char *const grams[] = {"one", "two, longer", "3"};

static int check_grams(int sk)
{
	char buf[64];
	for (int i = 0; i < 3; i++) {
		ssize_t n = recv(sk, buf, sizeof buf, MSG_DONTWAIT);
		if (n != (ssize_t)strlen(grams[i]) || memcmp(buf, grams[i], (size_t)n))
			return 1;
	}
	return recv(sk, buf, sizeof buf, MSG_DONTWAIT) < 0 && errno == EAGAIN ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: evmem LOGFILE");
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	catch_usr2();
	int efd = eventfd(0, EFD_NONBLOCK);
	int mfd = memfd_create("chkpt-test", MFD_ALLOW_SEALING);
	int ofd = memfd_create("mapped-only", 0);
	uint64_t seven = 7;
	if (efd < 0 || mfd < 0 || ofd < 0 || write(efd, &seven, 8) != 8 || ftruncate(mfd, page) || ftruncate(ofd, page))
		die("evmem: setup: %s", strerror(errno));
	pwrite(mfd, "hello memfd", 11, 0);
	fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK);
	char *shared = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	char *only = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, ofd, 0);
	if (shared == MAP_FAILED || only == MAP_FAILED)
		die("evmem: mmap: %s", strerror(errno));
	close(ofd);
	only[0] = 'o';
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		die("evmem: socketpair: %s", strerror(errno));
	for (int i = 0; i < 3; i++)
		send(sv[0], grams[i], strlen(grams[i]), 0);
	pid_t c = fork();
	if (c == 0) {
		wait_usr2();
		shared[100] = 'C';
		only[100] = 'C';
		_exit(check_grams(sv[1]));
	}
	log_line(argv[1], "ready");
	wait_usr2();
	kill(c, SIGUSR2);
	int st;
	const char *bad = waitpid(c, &st, 0) == c && WIFEXITED(st) && !WEXITSTATUS(st)
				  ? NULL
				  : "the child failed (or its datagrams came back wrong)";
	if (!bad)
		bad = verify(efd, mfd, shared, only);
	if (bad) {
		log_line(argv[1], "evmem FAIL %s", bad);
		return 1;
	}
	log_line(argv[1], "evmem ok");
	return 0;
}
