/* ghost LOGFILE [DATA_KIB]
 *
 * Deleted files the process still uses, as tempfile.TemporaryFile() leaves
 * them:
 *  - LOGFILE.tmp, mode 0640: "hello" at 0 and "world" at 512 KiB (a hole
 *    between), open read-write at offset 100 as fd A, dup'ed as fd B, and open
 *    a second time read-only at offset 3 as fd C; then unlinked;
 *  - LOGFILE.map: 4 pages mapped MAP_SHARED and written, its fd closed, then
 *    unlinked: only the mapping keeps it;
 *  - with DATA_KIB, also LOGFILE.big holding that much data (for the
 *    --ghost-limit refusal).
 * On SIGUSR2 it checks that A, B and C are one deleted file again (a write
 * through A shows through C; A and B share their offset, C has its own), with
 * its data, hole, size and mode; that the mapping kept its pages; logs
 * "ghost ok" (exit 0) or "ghost FAIL <why>" (exit 1).
 */
#include "common.h"
#include <sys/stat.h>

static const char *check(int a, int b, int c, char *map, size_t page)
{
	struct stat st;
	char buf[8];
	if (fstat(a, &st) || st.st_nlink != 0 || (st.st_mode & 0777) != 0640 || st.st_size != (512 << 10) + 5)
		return "fd A is not the deleted file it was (links, mode or size)";
	if (lseek(a, 0, SEEK_CUR) != 100 || lseek(c, 0, SEEK_CUR) != 3)
		return "offsets lost";
	if (pread(a, buf, 5, 0) != 5 || memcmp(buf, "hello", 5) || pread(a, buf, 5, 512 << 10) != 5 || memcmp(buf, "world", 5))
		return "data lost";
	if (pread(a, buf, 1, 4096) != 1 || buf[0] != 0)
		return "the hole is not zeros";
	if (lseek(b, 200, SEEK_SET) != 200 || lseek(a, 0, SEEK_CUR) != 200)
		return "A and B no longer share their offset";
	if (pwrite(a, "X", 1, 0) != 1 || pread(c, buf, 1, 0) != 1 || buf[0] != 'X')
		return "A and C are not one file";
	struct stat sc;
	if (fstat(c, &sc) || sc.st_ino != st.st_ino)
		return "A and C are different inodes";
	for (int i = 0; i < 4; i++)
		if (map[i * page] != (char)('m' + i))
			return "the mapped deleted file lost its pages";
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: ghost LOGFILE [DATA_KIB]");
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	catch_usr2();
	char path[4096];
	snprintf(path, sizeof path, "%s.tmp", argv[1]);
	int a = open(path, O_RDWR | O_CREAT | O_TRUNC, 0640);
	int c = open(path, O_RDONLY);
	if (a < 0 || c < 0 || pwrite(a, "hello", 5, 0) != 5 || pwrite(a, "world", 5, 512 << 10) != 5)
		die("ghost: %s: %s", path, strerror(errno));
	fchmod(a, 0640);
	lseek(a, 100, SEEK_SET);
	lseek(c, 3, SEEK_SET);
	int b = dup(a);
	unlink(path);
	snprintf(path, sizeof path, "%s.map", argv[1]);
	int m = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (m < 0 || ftruncate(m, 4 * page))
		die("ghost: %s: %s", path, strerror(errno));
	char *map = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	if (map == MAP_FAILED)
		die("ghost: mmap: %s", strerror(errno));
	for (int i = 0; i < 4; i++)
		map[i * page] = (char)('m' + i);
	close(m);
	unlink(path);
	if (argc > 2) {
		snprintf(path, sizeof path, "%s.big", argv[1]);
		int big = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		static char chunk[1024];
		memset(chunk, 'b', sizeof chunk);
		for (int i = 0; big >= 0 && i < atoi(argv[2]); i++)
			write_all(big, chunk, sizeof chunk);
		unlink(path);
	}
	log_line(argv[1], "ready");
	wait_usr2();
	const char *bad = check(a, b, c, map, page);
	if (bad) {
		log_line(argv[1], "ghost FAIL %s", bad);
		return 1;
	}
	log_line(argv[1], "ghost ok");
	return 0;
}
