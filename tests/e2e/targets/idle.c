/* idle LOGFILE
 *
 * Maps a few distinctive regions, logs "ready" and then only sleeps, so the
 * driver can compare /proc/PID/maps before the checkpoint and after the
 * restore (nothing is mapped or allocated after "ready"):
 *  - a 4-page PROT_NONE guard region,
 *  - a 2-page read-only anonymous region (written, then mprotect'ed),
 *  - a MAP_SHARED mapping of LOGFILE.shared (2 pages, page 1 written
 *    through the mapping),
 *  - a MAP_PRIVATE mapping of LOGFILE.private (2 pages, page 0 written).
 * On SIGUSR2 it checks the contents, that the shared mapping is still the
 * file (a write through it shows up in the file) and that the private one is
 * not; logs "idle ok" (exit 0) or "idle FAIL <what>" (exit 1).
 */
#include "common.h"

static size_t page;
static char shared_path[4096], private_path[4096];

static void *map_file(const char *path, unsigned seed, int flags)
{
	int fd = make_file(path, 2 * page, seed);
	void *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED)
		die("idle: mmap %s: %s", path, strerror(errno));
	close(fd);
	return p;
}

static int all_bytes(const unsigned char *p, size_t len, unsigned char v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static const char *check_shared(unsigned char *m)
{
	if (!all_bytes(m + page, page, 0x5d))
		return "shared mapping lost its written page";
	for (size_t i = 0; i < page; i++)
		if (m[i] != file_byte(2, i))
			return "shared mapping page 0 differs from the file";
	int fd = open(shared_path, O_RDONLY | O_CLOEXEC);
	unsigned char c = 0;
	m[7] = 0xee;
	msync(m, page, MS_SYNC);
	int ok = fd >= 0 && pread(fd, &c, 1, page) == 1 && c == 0x5d &&
		 pread(fd, &c, 1, 7) == 1 && c == 0xee;
	if (fd >= 0)
		close(fd);
	return ok ? NULL : "shared mapping is no longer shared with its file";
}

static const char *check_private(const unsigned char *m)
{
	if (!all_bytes(m, page, 0x9a))
		return "private mapping lost its written page";
	for (size_t i = page; i < 2 * page; i++)
		if (m[i] != file_byte(3, i))
			return "private mapping page 1 differs from the file";
	return file_intact(private_path, 2 * page, 3) ? NULL : "private mapping wrote to its file";
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: idle LOGFILE");
	page = (size_t)sysconf(_SC_PAGESIZE);
	catch_usr2();

	if (mmap(NULL, 4 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		die("idle: mmap guard: %s", strerror(errno));
	unsigned char *ro = map_anon(2 * page);
	memset(ro, 0x3c, 2 * page);
	if (mprotect(ro, 2 * page, PROT_READ))
		die("idle: mprotect: %s", strerror(errno));
	snprintf(shared_path, sizeof shared_path, "%s.shared", argv[1]);
	snprintf(private_path, sizeof private_path, "%s.private", argv[1]);
	unsigned char *sh = map_file(shared_path, 2, MAP_SHARED);
	memset(sh + page, 0x5d, page);
	unsigned char *pr = map_file(private_path, 3, MAP_PRIVATE);
	memset(pr, 0x9a, page);

	log_line(argv[1], "ready");
	wait_usr2();

	const char *bad = all_bytes(ro, 2 * page, 0x3c) ? NULL : "read-only region changed";
	if (!bad)
		bad = check_shared(sh);
	if (!bad)
		bad = check_private(pr);
	if (bad) {
		log_line(argv[1], "idle FAIL %s", bad);
		return 1;
	}
	log_line(argv[1], "idle ok");
	return 0;
}
