/* memcpy_rate MIB: copy MIB MiB once (after touching both buffers) and print
 * "memcpy_mbps N", the yardstick the dump and restore rates are set against. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256, n = mib << 20;
  char *a = malloc(n), *b = malloc(n);
  if (!a || !b) return 1;
  memset(a, 1, n);
  memset(b, 2, n);
  double best = 1e9;
  for (int i = 0; i < 3; i++) {
    double t0 = now();
    memcpy(b, a, n);
    double t = now() - t0;
    if (t < best) best = t;
  }
  printf("memcpy_mbps %.0f\n", mib / best);
  return b[n / 2] == 1 ? 0 : 1;
}
