/* bigmemfd LOGFILE
 *
 * memfds of any size, as Wayland clients and browsers hold them:
 *  - "big": 24 MiB with data in 0-5 MiB and 12-12.5 MiB, holes elsewhere,
 *    sealed against shrinking and growing, held by an fd and mapped shared;
 *  - "mapped": 2 MiB of data, mapped shared, its fd closed;
 *  - "small": 4 KiB, held by an fd.
 * On SIGUSR2 each has its contents (read through its fd and its mapping),
 * seals and size, the holes are still holes, and a write through a mapping
 * shows through the fd (one object): "bigmemfd ok" (exit 0) or
 * "bigmemfd FAIL <why>" (exit 1).
 */
#include "common.h"
#include <sys/stat.h>

#define MiB (1024 * 1024)

static uint8_t byte_at(uint64_t seed, uint64_t off) { return (uint8_t)((off * 2654435761u) >> 13 ^ seed); }

static void fill(int fd, uint64_t seed, off_t from, off_t to)
{
	static uint8_t buf[64 * 1024];
	for (off_t off = from; off < to; off += sizeof buf) {
		size_t n = to - off < (off_t)sizeof buf ? (size_t)(to - off) : sizeof buf;
		for (size_t i = 0; i < n; i++)
			buf[i] = byte_at(seed, (uint64_t)off + i);
		if (pwrite(fd, buf, n, off) != (ssize_t)n)
			die("bigmemfd: pwrite: %s", strerror(errno));
	}
}

/* [from, to) holds the pattern (through the fd and, if map, the mapping). */
static int holds(int fd, const uint8_t *map, uint64_t seed, off_t from, off_t to)
{
	static uint8_t buf[64 * 1024];
	for (off_t off = from; off < to; off += sizeof buf) {
		size_t n = to - off < (off_t)sizeof buf ? (size_t)(to - off) : sizeof buf;
		if (pread(fd, buf, n, off) != (ssize_t)n)
			return 0;
		for (size_t i = 0; i < n; i++)
			if (buf[i] != byte_at(seed, (uint64_t)off + i) || (map && map[off + i] != buf[i]))
				return 0;
	}
	return 1;
}

static int zeros(int fd, off_t from, off_t to)
{
	static uint8_t buf[64 * 1024];
	for (off_t off = from; off < to; off += sizeof buf) {
		size_t n = to - off < (off_t)sizeof buf ? (size_t)(to - off) : sizeof buf;
		if (pread(fd, buf, n, off) != (ssize_t)n)
			return 0;
		for (size_t i = 0; i < n; i++)
			if (buf[i])
				return 0;
	}
	return 1;
}

static const char *check(int big, uint8_t *bigmap, uint8_t *mapped, int small)
{
	struct stat st;
	if (fstat(big, &st) || st.st_size != 24 * MiB)
		return "big: size";
	if (fcntl(big, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW))
		return "big: seals";
	if (!holds(big, bigmap, 1, 0, 5 * MiB) || !holds(big, bigmap, 1, 12 * MiB, 12 * MiB + MiB / 2))
		return "big: contents";
	if (!zeros(big, 5 * MiB, 12 * MiB) || !zeros(big, 12 * MiB + MiB / 2, 24 * MiB))
		return "big: the holes are not zero";
	if ((uint64_t)st.st_blocks * 512 > 8 * MiB)
		return "big: the holes were filled";
	if (lseek(big, 0, SEEK_CUR) != 4096)
		return "big: offset";
	bigmap[100] ^= 0xff;
	uint8_t b;
	if (pread(big, &b, 1, 100) != 1 || b != bigmap[100])
		return "big: the mapping and the fd are not one object";
	bigmap[100] ^= 0xff;
	for (size_t i = 0; i < 2 * MiB; i++)
		if (mapped[i] != byte_at(2, i))
			return "mapped: contents";
	if (!holds(small, NULL, 3, 0, 4096))
		return "small: contents";
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: bigmemfd LOGFILE");
	catch_usr2();
	int big = memfd_create("big", MFD_ALLOW_SEALING), m = memfd_create("mapped", 0), small = memfd_create("small", 0);
	if (big < 0 || m < 0 || small < 0 || ftruncate(big, 24 * MiB) || ftruncate(m, 2 * MiB))
		die("bigmemfd: memfd_create: %s", strerror(errno));
	fill(big, 1, 0, 5 * MiB);
	fill(big, 1, 12 * MiB, 12 * MiB + MiB / 2);
	fill(m, 2, 0, 2 * MiB);
	fill(small, 3, 0, 4096);
	if (fcntl(big, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		die("bigmemfd: seals: %s", strerror(errno));
	lseek(big, 4096, SEEK_SET);
	uint8_t *bigmap = mmap(NULL, 24 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, big, 0);
	uint8_t *mapped = mmap(NULL, 2 * MiB, PROT_READ, MAP_SHARED, m, 0);
	if (bigmap == MAP_FAILED || mapped == MAP_FAILED)
		die("bigmemfd: mmap: %s", strerror(errno));
	close(m);
	log_line(argv[1], "ready");
	wait_usr2();
	const char *bad = check(big, bigmap, mapped, small);
	if (bad) {
		log_line(argv[1], "bigmemfd FAIL %s", bad);
		return 1;
	}
	log_line(argv[1], "bigmemfd ok");
	return 0;
}
