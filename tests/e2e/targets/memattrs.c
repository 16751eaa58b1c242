/* memattrs LOGFILE
 *
 * Memory whose attributes, not only contents, must come back:
 *  - one shared anonymous object of 4 pages seen through two mappings at
 *    different offsets (pages 0-1 at one address, pages 2-3 moved elsewhere
 *    with mremap), and through a child that inherited both: a write through
 *    any of them shows through the others and the object keeps all 4 pages;
 *  - mappings with VmFlags set by mlock (lo), madvise MADV_SEQUENTIAL (sr),
 *    MADV_RANDOM (rr), MADV_DONTDUMP (dd) and MADV_DONTFORK (dc): each still
 *    shows its flag in /proc/self/smaps.
 * On SIGUSR2 the parent tells the child (SIGUSR2), checks, and logs
 * "memattrs ok" (exit 0) or "memattrs FAIL <why>" (exit 1).
 */
#include "common.h"
#include <sys/wait.h>

static size_t page;

/* Does the smaps entry of the mapping starting at addr list VmFlag flag? */
static int has_vmflag(void *addr, const char *flag)
{
	static char buf[1 << 20];
	int fd = open("/proc/self/smaps", O_RDONLY);
	size_t n = 0;
	for (ssize_t r = 1; fd >= 0 && r > 0 && n < sizeof buf - 1; n += (size_t)(r > 0 ? r : 0))
		r = read(fd, buf + n, sizeof buf - 1 - n);
	if (fd >= 0)
		close(fd);
	buf[n] = 0;
	if (!n)
		return 0;
	char head[32];
	snprintf(head, sizeof head, "\n%lx-", (unsigned long)addr);
	char *at = strstr(buf, head);
	char *flags = at ? strstr(at, "\nVmFlags:") : NULL;
	if (!flags)
		return 0;
	char *end = strchr(flags + 1, '\n');
	char want[8];
	snprintf(want, sizeof want, " %s", flag);
	for (char *s = flags; (s = strstr(s, want)) && (!end || s < end); s++)
		if (s[3] == ' ' || s[3] == '\n')
			return 1;
	return 0;
}

static void *anon(int extra_flags)
{
	void *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);
	if (p == MAP_FAILED)
		die("memattrs: mmap: %s", strerror(errno));
	memset(p, 0x33, 2 * page);
	return p;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: memattrs LOGFILE");
	page = (size_t)sysconf(_SC_PAGESIZE);
	catch_usr2();
	char *a = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *hole = mmap(NULL, 4 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED || hole == MAP_FAILED)
		die("memattrs: mmap: %s", strerror(errno));
	for (int i = 0; i < 4; i++)
		a[i * page] = (char)('A' + i);
	/* pages 2-3 of the object to another place: two mappings, offsets 0 and 2 */
	char *b = mremap(a + 2 * page, 2 * page, 2 * page, MREMAP_MAYMOVE | MREMAP_FIXED, hole + page);
	if (b == MAP_FAILED)
		die("memattrs: mremap: %s", strerror(errno));
	char *locked = anon(0), *seq = anon(0), *rnd = anon(0), *nodump = anon(0), *nofork = anon(0);
	if (mlock(locked, 2 * page) || madvise(seq, 2 * page, MADV_SEQUENTIAL) || madvise(rnd, 2 * page, MADV_RANDOM) ||
	    madvise(nodump, 2 * page, MADV_DONTDUMP) || madvise(nofork, 2 * page, MADV_DONTFORK))
		die("memattrs: mlock/madvise: %s", strerror(errno));
	pid_t c = fork();
	if (c == 0) {
		wait_usr2();
		a[1] = 'c'; /* page 0 through the first mapping, page 2 through the second */
		b[1] = 'C';
		_exit(a[0] == 'A' && b[0] == 'C' && b[page] == 'D' ? 0 : 1);
	}
	log_line(argv[1], "ready");
	wait_usr2();
	kill(c, SIGUSR2);
	int st;
	const char *bad = NULL;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
		bad = "the child saw the object wrong";
	else if (a[1] != 'c' || b[1] != 'C' || a[page] != 'B' || b[page] != 'D')
		bad = "the child's writes do not show here: the mappings are not one object";
	else if (!has_vmflag(locked, "lo"))
		bad = "mlock lost (VmFlags lo)";
	else if (!has_vmflag(seq, "sr"))
		bad = "MADV_SEQUENTIAL lost (VmFlags sr)";
	else if (!has_vmflag(rnd, "rr"))
		bad = "MADV_RANDOM lost (VmFlags rr)";
	else if (!has_vmflag(nodump, "dd"))
		bad = "MADV_DONTDUMP lost (VmFlags dd)";
	else if (!has_vmflag(nofork, "dc"))
		bad = "MADV_DONTFORK lost (VmFlags dc)";
	if (bad) {
		log_line(argv[1], "memattrs FAIL %s", bad);
		return 1;
	}
	log_line(argv[1], "memattrs ok");
	return 0;
}
