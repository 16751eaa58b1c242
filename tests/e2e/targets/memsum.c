/* memsum [MIB] LOGFILE
 *
 * Fills memory of several kinds with known data, logs "ready", idles until
 * SIGUSR2, then re-checks everything and logs "verify ok" (exit 0) or
 * "verify FAIL <what>" (exit 1). The kinds:
 *  - MIB MiB (default 256) of dense anonymous memory, xorshift words; the
 *    expected order-sensitive checksum is kept in a global (.bss);
 *  - a 64 MiB sparse anonymous region with one word in every 16th page: the
 *    untouched pages must still read as zero;
 *  - 256 KiB of anonymous memory written, then made read-only, mapped just
 *    above the dense region (the page copies come to it after the dense
 *    memory: a helper that copies only what it may without FOLL_FORCE hands
 *    it back to chkpt and rstrt);
 *  - 256 KiB of brk heap (raw brk syscall: musl's sbrk refuses to grow), and
 *    afterwards the heap must still grow from where it ended (mm->brk);
 *  - a MAP_PRIVATE file mapping of LOGFILE.dat with every other page written:
 *    written pages keep their new data, the others still show the file, and
 *    the file itself is unchanged.
 * With MEMSUM_MIXED=MIB it also fills MIB MiB of a heap as a program's
 * looks (compressible: chkpt --compress): text lines, small structs with
 * pointers and counters, runs of zeros, in an order of xorshift draws, and
 * checks it with the others.
 * With MEMSUM_THREADS=N it also starts N threads that sleep until the end (a
 * multi-threaded process of the same size, for make bench).
 * With MEMSUM_FORKS=N in the environment it then forks N children that share
 * all of it copy-on-write (a checkpoint must save those pages once, not N+1
 * times); on SIGUSR2 the parent passes the signal on, every process verifies
 * and logs its own line, and the parent also requires every child to exit 0.
 */
#include "common.h"
#include <sys/syscall.h>
#include <sys/wait.h>
#include <pthread.h>

#define SPARSE_LEN (64UL << 20)
#define BRK_LEN (256UL << 10)
#define RO_LEN (256UL << 10)
#define FILE_PAGES 16

static uint64_t dense_sum, brk_sum, ro_sum; /* expected checksums */

static void *idle_thread(void *arg)
{
	for (;;)
		sleep_ms(100);
	return arg;
}

static uint64_t fill(uint64_t *w, size_t words, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < words; i++) {
		w[i] = xorshift64(&seed);
		h = (h ^ w[i]) * 0x100000001b3ULL;
	}
	return h;
}

/* A mixed heap: text, structs, zeros (MEMSUM_MIXED). */
static void fill_mixed(unsigned char *p, size_t n, uint64_t seed)
{
	static const char *const words[] = {"the ", "request ", "user ", "id=", "error ", "ok ", "GET /index.html ",
					    "200 ", "session ", "timeout ", "\n", "value ", "cache ", "2026-12-03 ",
					    "INFO ", "name: "};
	size_t i = 0;
	while (i < n) {
		uint64_t r = xorshift64(&seed);
		size_t run = 64 + r % 1024;
		if (run > n - i)
			run = n - i;
		switch (r >> 60 & 3) {
		case 0: /* zeros (a freed block) */
			memset(p + i, 0, run);
			i += run;
			break;
		case 1: /* structs: a pointer, a small counter, flags */
			for (size_t e = i + run; i + 24 <= e; i += 24) {
				uint64_t v[3] = {0x7f3a00000000ULL + (xorshift64(&seed) & 0xfff0), xorshift64(&seed) % 100, 1};
				memcpy(p + i, v, 24);
			}
			break;
		default: /* text */
			for (size_t e = i + run; i < e;) {
				const char *w = words[xorshift64(&seed) % 16];
				for (; *w && i < e; w++)
					p[i++] = (unsigned char)*w;
			}
		}
	}
}

static uint64_t checksum(const uint64_t *w, size_t words)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < words; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h;
}

/* Offset of the first word that differs from the pattern, for the log. */
static size_t first_bad(const uint64_t *w, size_t words, uint64_t seed)
{
	for (size_t i = 0; i < words; i++)
		if (w[i] != xorshift64(&seed))
			return i * 8;
	return (size_t)-1;
}

static const char *check_sparse(const uint64_t *w, size_t page)
{
	size_t per_page = page / 8;
	for (size_t i = 0; i < SPARSE_LEN / 8; i++) {
		size_t pg = i / per_page;
		uint64_t want = (pg % 16 == 0 && i % per_page == 0) ? pg ^ 0x5a5a5a5a5a5aULL : 0;
		if (w[i] != want)
			return "sparse region";
	}
	return NULL;
}

static const char *check_file_map(const unsigned char *m, size_t page, const char *path)
{
	for (size_t i = 0; i < FILE_PAGES * page; i++) {
		size_t pg = i / page;
		unsigned char want = pg % 2 ? file_byte(1, i) : (unsigned char)(0xa0 + pg);
		if (m[i] != want)
			return pg % 2 ? "private file mapping (unwritten page)"
				      : "private file mapping (written page)";
	}
	return file_intact(path, FILE_PAGES * page, 1) ? NULL : "data file was modified";
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		die("usage: memsum [MIB] LOGFILE");
	const char *log = argv[argc - 1];
	size_t mib = argc == 3 ? (size_t)atol(argv[1]) : 256;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	catch_usr2();

	size_t words = (mib << 20) / 8;
	uint64_t *ro = map_anon(RO_LEN); /* mapped first: above the dense region */
	ro_sum = fill(ro, RO_LEN / 8, 7);
	if (mprotect(ro, RO_LEN, PROT_READ) < 0)
		die("memsum: mprotect: %s", strerror(errno));
	uint64_t *dense = map_anon(mib << 20);
	dense_sum = fill(dense, words, 0x9e3779b97f4a7c15ULL);

	uint64_t *sparse = map_anon(SPARSE_LEN);
	for (size_t pg = 0; pg < SPARSE_LEN / page; pg += 16)
		sparse[pg * page / 8] = pg ^ 0x5a5a5a5a5a5aULL;

	char *brk0 = (char *)syscall(SYS_brk, 0);
	if ((char *)syscall(SYS_brk, brk0 + BRK_LEN) != brk0 + BRK_LEN)
		die("memsum: brk failed");
	brk_sum = fill((uint64_t *)brk0, BRK_LEN / 8, 42);

	char path[4096];
	snprintf(path, sizeof path, "%s.dat", log);
	int fd = make_file(path, FILE_PAGES * page, 1);
	unsigned char *fmap = mmap(NULL, FILE_PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (fmap == MAP_FAILED)
		die("memsum: mmap %s: %s", path, strerror(errno));
	close(fd);
	for (size_t pg = 0; pg < FILE_PAGES; pg += 2)
		memset(fmap + pg * page, 0xa0 + (int)pg, page);

	size_t mixed_len = getenv("MEMSUM_MIXED") ? (size_t)atol(getenv("MEMSUM_MIXED")) << 20 : 0;
	uint64_t *mixed = mixed_len ? map_anon(mixed_len) : NULL, mixed_sum = 0;
	if (mixed) {
		fill_mixed((unsigned char *)mixed, mixed_len, 99);
		mixed_sum = checksum(mixed, mixed_len / 8);
	}

	int threads = getenv("MEMSUM_THREADS") ? atoi(getenv("MEMSUM_THREADS")) : 0;
	for (int i = 0; i < threads; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, idle_thread, NULL))
			die("memsum: pthread_create failed");
	}
	int forks = getenv("MEMSUM_FORKS") ? atoi(getenv("MEMSUM_FORKS")) : 0;
	pid_t kids[16];
	for (int i = 0; i < forks && i < 16; i++)
		if ((kids[i] = fork()) == 0) {
			forks = 0; /* a child has no children of its own */
			break;
		}
	if (forks)
		log_line(log, "ready");
	else if (getenv("MEMSUM_FORKS"))
		log_line(log, "child ready");
	else
		log_line(log, "ready");
	wait_usr2();
	for (int i = 0; i < forks && i < 16; i++)
		kill(kids[i], SIGUSR2);

	const char *bad = NULL;
	if (checksum(dense, words) != dense_sum) {
		size_t off = first_bad(dense, words, 0x9e3779b97f4a7c15ULL);
		log_line(log, "verify FAIL dense region, first bad byte at offset %zu", off);
		return 1;
	}
	if (checksum((uint64_t *)brk0, BRK_LEN / 8) != brk_sum)
		bad = "brk heap";
	else if (mixed && checksum(mixed, mixed_len / 8) != mixed_sum)
		bad = "mixed heap";
	else if (checksum(ro, RO_LEN / 8) != ro_sum)
		bad = "read-only region";
	else if ((char *)syscall(SYS_brk, 0) != brk0 + BRK_LEN)
		bad = "brk end moved";
	else if ((char *)syscall(SYS_brk, brk0 + 2 * BRK_LEN) != brk0 + 2 * BRK_LEN)
		bad = "brk cannot grow";
	else if (!(bad = check_sparse(sparse, page)))
		bad = check_file_map(fmap, page, path);
	if (!bad)
		memset(brk0 + BRK_LEN, 1, BRK_LEN); /* the grown heap is usable */
	for (int i = 0; !bad && i < forks && i < 16; i++) {
		int st;
		if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st))
			bad = "a child failed";
	}
	if (bad) {
		log_line(log, "verify FAIL %s", bad);
		return 1;
	}
	log_line(log, "verify ok");
	return 0;
}
