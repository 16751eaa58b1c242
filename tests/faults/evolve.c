/* evolve LOGFILE [KIB]
 *
 * A target whose memory keeps changing, for the periodic, endurance and
 * kill tests: every checkpoint catches a different state, so restoring an
 * older image must bring back exactly that older state.
 *
 * A buffer of KIB KiB (default 256) in 4 KiB chunks is rewritten over and
 * over: in step s, chunk i is filled with a pseudo-random pattern of (s, i),
 * and `done` counts the chunks of step s written so far. Between steps it
 * sleeps 2 ms. So at any moment chunks below `done` hold pattern (s, i) and
 * the others (s - 1, i), the chunk being written excepted, which the loop
 * finishes before it looks at anything.
 *
 * Logs "ready" once the first step is complete. On SIGUSR2 (checked between
 * chunks) it verifies the whole buffer against (step, done) and logs
 * "verify ok step S" (exit 0) or "verify FAIL <where>" (exit 1).
 */
#include "common.h"

#define CHUNK 4096

static uint64_t pattern_seed(uint64_t step, size_t chunk)
{
	return (step * 0x9e3779b97f4a7c15ULL) ^ (chunk * 0xbf58476d1ce4e5b9ULL) ^ 0x94d049bb133111ebULL;
}

static void fill_chunk(uint64_t *w, uint64_t step, size_t chunk)
{
	uint64_t s = pattern_seed(step, chunk);
	for (size_t i = 0; i < CHUNK / 8; i++)
		w[i] = xorshift64(&s);
}

static int chunk_is(const uint64_t *w, uint64_t step, size_t chunk)
{
	uint64_t s = pattern_seed(step, chunk);
	for (size_t i = 0; i < CHUNK / 8; i++)
		if (w[i] != xorshift64(&s))
			return 0;
	return 1;
}

static int verify(const char *log, unsigned char *buf, size_t chunks, uint64_t step, size_t done)
{
	for (size_t c = 0; c < chunks; c++) {
		uint64_t want = c < done ? step : step - 1;
		if (!chunk_is((uint64_t *)(buf + c * CHUNK), want, c)) {
			log_line(log, "verify FAIL chunk %zu is not step %llu (step %llu, done %zu)", c,
				 (unsigned long long)want, (unsigned long long)step, done);
			return 1;
		}
	}
	log_line(log, "verify ok step %llu", (unsigned long long)step);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		die("usage: evolve LOGFILE [KIB]");
	const char *log = argv[1];
	size_t kib = argc == 3 ? (size_t)atol(argv[2]) : 256;
	size_t chunks = kib * 1024 / CHUNK;
	if (chunks == 0)
		die("evolve: KIB must be at least 4");
	catch_usr2();
	unsigned char *buf = map_anon(chunks * CHUNK);
	for (size_t c = 0; c < chunks; c++)
		fill_chunk((uint64_t *)(buf + c * CHUNK), 0, c);
	for (uint64_t step = 1;; step++) {
		for (size_t done = 0; done < chunks; done++) {
			if (got_usr2)
				return verify(log, buf, chunks, step, done);
			fill_chunk((uint64_t *)(buf + done * CHUNK), step, done);
		}
		if (step == 1)
			log_line(log, "ready");
		sleep_ms(2);
	}
}
