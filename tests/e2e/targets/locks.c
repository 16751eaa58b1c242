/* locks LOGFILE
 *
 * File locks held across a checkpoint, as sqlite (POSIX record locks), lock
 * files (flock) and newer code (open file description locks) take them:
 *  - lock.a (also mapped, so a restore that reopens it for the mapping and
 *    closes that fd would drop POSIX locks taken before): a POSIX write lock
 *    on bytes 0-99 and a read lock from 200 to EOF; the child, which shares
 *    the fd, holds its own POSIX write lock on 150-159;
 *  - lock.b: flock(LOCK_EX), through an fd the child shares;
 *  - lock.c: an OFD read lock on bytes 10-19.
 * On SIGUSR2 a new process (forked then) looks at each with F_GETLK,
 * F_OFD_GETLK and flock(LOCK_NB) on fds of its own: every lock is still held,
 * by the right process, and nothing more; "locks ok" (exit 0) or
 * "locks FAIL <why>" (exit 1).
 */
#include "common.h"
#include <sys/file.h>
#include <sys/wait.h>

static int open_file(const char *name)
{
	int fd = open(name, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 4096))
		die("locks: %s: %s", name, strerror(errno));
	return fd;
}

static int set_lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

/* Who holds a lock that keeps a write lock on [start, start+len) from fd:
 * *type F_UNLCK if nobody. */
static int probe(int fd, int cmd, off_t start, off_t len, short *type, pid_t *pid)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	if (fcntl(fd, cmd, &fl))
		return -1;
	*type = fl.l_type;
	*pid = fl.l_pid;
	return 0;
}

/* In a process of its own, which holds no lock: what is held and by whom. */
static const char *check(pid_t parent, pid_t child)
{
	int a = open("lock.a", O_RDWR), b = open("lock.b", O_RDWR), c = open("lock.c", O_RDWR);
	short t;
	pid_t p;
	if (a < 0 || b < 0 || c < 0)
		return "cannot open the files";
	if (probe(a, F_GETLK, 0, 100, &t, &p) || t != F_WRLCK || p != parent)
		return "lock.a 0-99: not write-locked by the parent";
	if (probe(a, F_GETLK, 200, 1000, &t, &p) || t != F_RDLCK || p != parent)
		return "lock.a 200-EOF: not read-locked by the parent";
	if (probe(a, F_GETLK, 150, 10, &t, &p) || t != F_WRLCK || p != child)
		return "lock.a 150-159: not write-locked by the child";
	if (probe(a, F_GETLK, 100, 50, &t, &p) || t != F_UNLCK)
		return "lock.a 100-149: locked";
	if (probe(c, F_OFD_GETLK, 10, 10, &t, &p) || t != F_RDLCK)
		return "lock.c 10-19: no OFD read lock";
	if (probe(c, F_OFD_GETLK, 20, 100, &t, &p) || t != F_UNLCK)
		return "lock.c 20-119: locked";
	if (flock(b, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		return "lock.b: not flocked";
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: locks LOGFILE");
	catch_usr2();
	int a = open_file("lock.a"), b = open_file("lock.b"), c = open_file("lock.c");
	volatile char *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, a, 0);
	if (map == MAP_FAILED)
		die("locks: mmap: %s", strerror(errno));
	map[0] = 'm';
	if (set_lock(a, F_SETLK, F_WRLCK, 0, 100) || set_lock(a, F_SETLK, F_RDLCK, 200, 0) ||
	    flock(b, LOCK_EX | LOCK_NB) || set_lock(c, F_OFD_SETLK, F_RDLCK, 10, 10))
		die("locks: taking the locks: %s", strerror(errno));
	int ready[2];
	if (pipe(ready))
		die("locks: pipe: %s", strerror(errno));
	pid_t child = fork();
	if (child < 0)
		die("locks: fork: %s", strerror(errno));
	if (child == 0) {
		char x = set_lock(a, F_SETLK, F_WRLCK, 150, 10) ? 'n' : 'y';
		write(ready[1], &x, 1);
		for (;;)
			pause(); /* until the parent kills it */
	}
	char x = 0;
	if (read(ready[0], &x, 1) != 1 || x != 'y')
		die("locks: the child could not take its lock");
	close(ready[0]);
	close(ready[1]);
	log_line(argv[1], "ready");
	wait_usr2();
	pid_t checker = fork();
	if (checker == 0) {
		const char *bad = check(getppid(), child);
		if (bad)
			log_line(argv[1], "locks FAIL %s", bad);
		_exit(bad ? 1 : 0);
	}
	int status = -1;
	waitpid(checker, &status, 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (!WIFEXITED(status))
			log_line(argv[1], "locks FAIL the checker died");
		return 1;
	}
	if (map[0] != 'm') {
		log_line(argv[1], "locks FAIL the mapping of lock.a lost its byte");
		return 1;
	}
	log_line(argv[1], "locks ok");
	return 0;
}
