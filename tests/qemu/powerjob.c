/* powerjob STATEFILE LOGFILE
 *
 * The job of the power-cycle test (tests/qemu/power-guest.sh): it must come
 * back after a power-off exactly where it was saved. Every 50 ms it bumps a
 * counter kept only in memory, rewrites a 256 KiB buffer with a pattern of the
 * counter, and appends the counter's line to STATEFILE, open O_APPEND since
 * its fresh start (which truncates it and logs "fresh start").
 *
 * On SIGUSR2 (checked between steps) it verifies that the buffer holds the
 * counter's pattern and that STATEFILE reads back exactly "1\n" .. "N\n",
 * logs "verify ok N" or "verify FAIL <what>" and goes on.
 */
#include "common.h"

#define WORDS (256 * 1024 / 8)

static uint64_t word(uint64_t n, size_t i)
{
	uint64_t s = (n * 0x9e3779b97f4a7c15ULL) ^ (i * 0xbf58476d1ce4e5b9ULL) ^ 1;
	return xorshift64(&s);
}

static const char *check_file(const char *path, uint64_t n)
{
	static char data[4 << 20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "cannot reopen STATEFILE";
	ssize_t got = read(fd, data, sizeof data); /* a small regular file: all of it */
	close(fd);
	size_t pos = 0;
	for (uint64_t i = 1; i <= n; i++) {
		char line[32];
		int len = snprintf(line, sizeof line, "%llu\n", (unsigned long long)i);
		if (got < 0 || pos + (size_t)len > (size_t)got || memcmp(data + pos, line, (size_t)len))
			return "STATEFILE is not 1..N";
		pos += (size_t)len;
	}
	return pos == (size_t)got ? NULL : "STATEFILE has lines past N";
}

int main(int argc, char **argv)
{
	if (argc != 3)
		die("usage: powerjob STATEFILE LOGFILE");
	int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("powerjob: open %s: %s", argv[1], strerror(errno));
	uint64_t *buf = map_anon(WORDS * 8);
	catch_usr2();
	log_line(argv[2], "fresh start");
	for (uint64_t n = 1;; n++) {
		for (size_t i = 0; i < WORDS; i++)
			buf[i] = word(n, i);
		char line[32];
		int len = snprintf(line, sizeof line, "%llu\n", (unsigned long long)n);
		if (write_all(fd, line, (size_t)len))
			die("powerjob: write: %s", strerror(errno));
		sleep_ms(50);
		if (!got_usr2)
			continue;
		got_usr2 = 0;
		const char *bad = check_file(argv[1], n);
		for (size_t i = 0; !bad && i < WORDS; i++)
			if (buf[i] != word(n, i))
				bad = "memory does not hold the counter's pattern";
		if (bad)
			log_line(argv[2], "verify FAIL %s (counter %llu)", bad, (unsigned long long)n);
		else
			log_line(argv[2], "verify ok %llu", (unsigned long long)n);
	}
}
