/* counter OUTFILE [append] [N]
 *
 * Writes "1\n" .. "N\n" (N = 200) to OUTFILE, one write(2) every ~20 ms,
 * keeping the count only in memory. OUTFILE is opened O_TRUNC, or O_APPEND
 * with "append"; "-" means stdout (the terminal test).
 *
 * Verdict (exit 0/1, reason on stderr): at the end the fd must still have the
 * flags it was opened with and the offset of the bytes written, the PID and
 * the cwd must be unchanged, and OUTFILE must read back exactly 1..N. A restored copy with
 * a wrong offset shows as overwritten or missing lines, or NUL holes.
 */
#include "common.h"
#include <limits.h>

static int fmt_line(char *buf, unsigned v)
{
	char tmp[16];
	int n = 0, len = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		buf[len++] = tmp[--n];
	buf[len++] = '\n';
	return len;
}

/* Does path hold exactly the lines 1..n? */
static const char *check_file(const char *path, unsigned n)
{
	static char data[1 << 20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "cannot reopen OUTFILE";
	ssize_t got = read(fd, data, sizeof data);
	close(fd);
	if (got < 0)
		return "cannot read OUTFILE";
	size_t pos = 0;
	for (unsigned i = 1; i <= n; i++) {
		char line[16];
		int len = fmt_line(line, i);
		if (pos + (size_t)len > (size_t)got || memcmp(data + pos, line, (size_t)len))
			return "OUTFILE is not 1..N";
		pos += (size_t)len;
	}
	return pos == (size_t)got ? NULL : "OUTFILE has extra bytes";
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: counter OUTFILE [append] [N]");
	const char *path = argv[1];
	int append = 0;
	unsigned n = 200;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "append"))
			append = 1;
		else if ((n = (unsigned)atoi(argv[i])) == 0)
			die("counter: bad N '%s'", argv[i]);
	}
	int to_stdout = !strcmp(path, "-");
	int oflags = O_WRONLY | (append ? O_APPEND : 0);
	int fd = to_stdout ? 1 : open(path, oflags | O_CREAT | (append ? 0 : O_TRUNC), 0644);
	if (fd < 0)
		die("counter: open %s: %s", path, strerror(errno));
	static char cwd[PATH_MAX], cwd_now[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		die("counter: getcwd: %s", strerror(errno));

	pid_t me = getpid();
	off_t written = 0;
	for (unsigned i = 1; i <= n; i++) {
		char line[16];
		int len = fmt_line(line, i);
		if (write_all(fd, line, (size_t)len))
			die("counter: write %u: %s", i, strerror(errno));
		written += len;
		sleep_ms(20);
	}

	const char *bad = NULL;
	if (getpid() != me)
		bad = "PID changed";
	else if (!getcwd(cwd_now, sizeof cwd_now) || strcmp(cwd, cwd_now))
		bad = "cwd changed";
	else if (!to_stdout && (fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND)) != oflags)
		bad = "fd flags changed";
	else if (!to_stdout && lseek(fd, 0, SEEK_CUR) != written)
		bad = "fd offset is not the number of bytes written";
	else if (!to_stdout)
		bad = check_file(path, n);
	if (bad) {
		dprintf(2, "counter FAIL: %s\n", bad);
		return 1;
	}
	return 0;
}
