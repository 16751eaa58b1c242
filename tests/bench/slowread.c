/* slowread MBPS: read stdin to its end at no more than MBPS MB/s (10^6
 * bytes), discarding it, then print "slowread_bytes N" on stderr. A slow
 * sink for tests/bench/compress.sh: a serial line, a thin link, slow flash. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  double rate = argc == 2 ? atof(argv[1]) * 1e6 : 0;
  if (rate <= 0) { fprintf(stderr, "usage: slowread MBPS\n"); return 2; }
  static char buf[16384];
  unsigned long long total = 0;
  double t0 = now();
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0) { perror("slowread"); return 1; }
    if (r == 0) break;
    total += (unsigned long long)r;
    double ahead = total / rate - (now() - t0);  /* seconds ahead of the rate */
    if (ahead > 0) {
      struct timespec d = {(time_t)ahead, (long)((ahead - (time_t)ahead) * 1e9)};
      nanosleep(&d, NULL);
    }
  }
  fprintf(stderr, "slowread_bytes %llu\n", total);
  return 0;
}
