/* movable N
 *
 * A job whose files all live in its working directory, run as ./movable from
 * there, so that the directory can be moved between checkpoint and restore
 * (rstrt --map-path). It opens data.txt and writes N bytes to it, one every
 * ~20 ms, and maps map.dat (2 pages, MAP_PRIVATE, page 0 written); it also
 * listens on the unix socket sock there (bound by its absolute path).
 *
 * Verdict (exit 0/1, reason on stderr): the working directory, the open
 * file, the mapped file and /proc/self/exe must still be the very files they
 * were (same inodes: a moved directory keeps them), reached by the same
 * relative names; the fd's offset must be the bytes written, data.txt must
 * hold exactly them, the mapping its written page 0 and the file's page 1;
 * the listener is bound to sock in the working directory, wherever that is
 * now, and accepts a connection made to it.
 */
#include "common.h"
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

/* A unix socket address for NAME in the working directory (absolute). */
static socklen_t here(const char *name, struct sockaddr_un *a)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (!getcwd(a->sun_path, sizeof a->sun_path - 8))
		return 0;
	strcat(a->sun_path, "/");
	strcat(a->sun_path, name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1);
}

static const char *check_listener(int l)
{
	struct sockaddr_un want, got;
	socklen_t wl = here("sock", &want), gl = sizeof got;
	if (getsockname(l, (struct sockaddr *)&got, &gl) || gl != wl || strcmp(got.sun_path, want.sun_path))
		return "the listener is not bound to sock here";
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&want, wl))
		return "cannot connect to sock here";
	struct pollfd p = {l, POLLIN, 0};
	int a = poll(&p, 1, 5000) == 1 ? accept(l, NULL, NULL) : -1;
	if (a < 0 || write(c, "x", 1) != 1 || read(a, &p.revents, 1) != 1)
		return "the listener does not accept a connection to sock";
	return NULL;
}

static ino_t ino_of(const char *path)
{
	struct stat st;
	return stat(path, &st) ? 0 : st.st_ino;
}

static const char *check_data(int fd, unsigned n)
{
	struct stat a, b;
	if (fstat(fd, &a) || stat("data.txt", &b) || a.st_ino != b.st_ino)
		return "the open fd is not data.txt";
	if (lseek(fd, 0, SEEK_CUR) != (off_t)n)
		return "fd offset is not the number of bytes written";
	static char buf[1 << 16];
	int r = open("data.txt", O_RDONLY | O_CLOEXEC);
	ssize_t got = r < 0 ? -1 : read(r, buf, sizeof buf);
	if (r >= 0)
		close(r);
	if (got != (ssize_t)n)
		return "data.txt does not hold N bytes";
	for (unsigned i = 0; i < n; i++)
		if (buf[i] != (char)('a' + i % 26))
			return "data.txt holds other bytes";
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 0;
	if (n == 0 || n > 60000)
		die("usage: movable N (1..60000)");
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	ino_t cwd = ino_of("."), exe = ino_of("/proc/self/exe");
	int mfd = make_file("map.dat", 2 * page, 5);
	ino_t map_ino = ino_of("map.dat");
	unsigned char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
	if (m == MAP_FAILED)
		die("movable: mmap: %s", strerror(errno));
	close(mfd);
	memset(m, 'w', page);
	struct sockaddr_un sa;
	socklen_t sl = here("sock", &sa);
	int lsk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink("sock");
	if (lsk < 0 || !sl || bind(lsk, (struct sockaddr *)&sa, sl) || listen(lsk, 4))
		die("movable: listening on %s: %s", sa.sun_path, strerror(errno));
	int fd = open("data.txt", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("movable: open data.txt: %s", strerror(errno));
	for (unsigned i = 0; i < n; i++) {
		char c = (char)('a' + i % 26);
		if (write_all(fd, &c, 1))
			die("movable: write: %s", strerror(errno));
		sleep_ms(20);
	}
	const char *bad = NULL;
	if (ino_of(".") != cwd)
		bad = "the working directory is another one";
	else if (ino_of("/proc/self/exe") != exe || ino_of("movable") != exe)
		bad = "/proc/self/exe is not ./movable";
	else if (ino_of("map.dat") != map_ino)
		bad = "map.dat is another file";
	else if (m[0] != 'w' || m[page - 1] != 'w' || m[page] != file_byte(5, page) ||
		 m[2 * page - 1] != file_byte(5, 2 * page - 1))
		bad = "the mapping of map.dat lost its data";
	else if (!(bad = check_data(fd, n)))
		bad = check_listener(lsk);
	if (bad) {
		dprintf(2, "movable FAIL: %s\n", bad);
		return 1;
	}
	return 0;
}
