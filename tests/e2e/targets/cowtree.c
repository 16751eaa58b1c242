/* cowtree LOGFILE
 *
 * Copy-on-write sharing in a process tree (issue 10 item 3). The parent (rank
 * 0) fills 64 MiB of private anonymous memory with a known pattern and forks
 * three children (ranks 1-3); child 1 forks a grandchild (rank 4). Every
 * process reads all of it and writes a few pages of its own (a mark of its
 * rank) before it forks or logs "ready", so most of the 64 MiB stays shared
 * by all five. A second region of 4 MiB (a mapping of its own) is mapped
 * before the forks but filled by the parent only after them: in the others
 * it must stay zero.
 * On SIGUSR2 each process passes the signal to its children, checks every
 * page (its own marks and those its ancestors wrote before forking it, the
 * pattern elsewhere; zeros in the late region of the others), waits for its
 * children to exit 0, and logs "verify ok" or "verify FAIL ...".
 */
#include "common.h"
#include <sys/wait.h>

#define SHARED_LEN (64UL << 20)
#define LATE_LEN (4UL << 20)
#define MARKS 4

static size_t page, npages;

static uint64_t pattern(size_t pg, size_t i) { return ((uint64_t)pg << 20 | i) * 0x9e3779b97f4a7c15ULL; }
static uint64_t mark(int rank, size_t pg, size_t i) { return pattern(pg, i) ^ (0xc0c0c0c0ULL + (uint64_t)rank); }
static size_t marked_page(int rank, int j) { return ((size_t)rank * 101 + (size_t)j * 13) % npages; }

/* The rank whose mark page pg holds in a process with these ancestors, or -1. */
static int writer(const int *chain, int depth, size_t pg)
{
	int w = -1;
	for (int d = 0; d < depth; d++)
		for (int j = 0; j < MARKS; j++)
			if (marked_page(chain[d], j) == pg)
				w = chain[d];
	return w;
}

static void write_marks(uint64_t *m, int rank)
{
	for (int j = 0; j < MARKS; j++) {
		size_t pg = marked_page(rank, j);
		for (size_t i = 0; i < page / 8; i++)
			m[pg * page / 8 + i] = mark(rank, pg, i);
	}
}

static uint64_t read_all_words(const uint64_t *m, size_t words)
{
	uint64_t s = 0;
	for (size_t i = 0; i < words; i++)
		s += m[i];
	return s;
}

static const char *check(const uint64_t *m, const uint64_t *late, const int *chain, int depth)
{
	static char why[128];
	for (size_t pg = 0; pg < npages; pg++) {
		int w = writer(chain, depth, pg);
		for (size_t i = 0; i < page / 8; i++) {
			uint64_t want = w < 0 ? pattern(pg, i) : mark(w, pg, i);
			if (m[pg * page / 8 + i] != want) {
				snprintf(why, sizeof why, "shared region page %zu word %zu (writer %d)", pg, i, w);
				return why;
			}
		}
	}
	for (size_t i = 0; i < LATE_LEN / 8; i++)
		if (late[i] != (depth == 1 ? pattern(i, 1) : 0))
			return "late region";
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: cowtree LOGFILE");
	const char *log = argv[1];
	page = (size_t)sysconf(_SC_PAGESIZE);
	npages = SHARED_LEN / page;
	catch_usr2();
	uint64_t *m = map_anon(SHARED_LEN);
	for (size_t pg = 0; pg < npages; pg++)
		for (size_t i = 0; i < page / 8; i++)
			m[pg * page / 8 + i] = pattern(pg, i);
	/* A page without access after it keeps it a mapping of its own. */
	uint64_t *late = map_anon(LATE_LEN + page);
	if (mprotect((char *)late + LATE_LEN, page, PROT_NONE) < 0)
		die("cowtree: mprotect: %s", strerror(errno));
	write_marks(m, 0);

	int chain[3] = {0}, depth = 1;
	pid_t kids[3];
	int nkids = 0;
	for (int r = 1; r <= 3; r++) {
		pid_t c = fork();
		if (c < 0)
			die("cowtree: fork: %s", strerror(errno));
		if (c == 0) {
			chain[depth++] = r;
			nkids = 0;
			read_all_words(m, SHARED_LEN / 8);
			write_marks(m, r);
			if (r == 1) {
				pid_t g = fork();
				if (g < 0)
					die("cowtree: fork: %s", strerror(errno));
				if (g == 0) {
					chain[depth++] = 4;
					read_all_words(m, SHARED_LEN / 8);
					write_marks(m, 4);
				} else {
					kids[nkids++] = g;
				}
			}
			break;
		}
		kids[nkids++] = c;
	}
	if (depth == 1) {
		for (size_t i = 0; i < LATE_LEN / 8; i++)
			late[i] = pattern(i, 1);
		sleep_ms(200); /* the children have written their marks */
	}
	log_line(log, depth == 1 ? "ready" : "child ready");
	wait_usr2();
	for (int i = 0; i < nkids; i++)
		kill(kids[i], SIGUSR2);
	const char *bad = check(m, late, chain, depth);
	for (int i = 0; !bad && i < nkids; i++) {
		int st;
		if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st))
			bad = "a child failed";
	}
	if (bad) {
		log_line(log, "verify FAIL rank %d: %s", chain[depth - 1], bad);
		return 1;
	}
	log_line(log, "verify ok");
	return 0;
}
