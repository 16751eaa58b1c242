/* maxrss CMD ARGS...: run CMD, then print "maxrss_kib N wall_s S cpu_s C" on
 * stderr (its peak resident set and CPU time, user + system, from wait4's
 * rusage, which include its reaped children; and the wall time from fork to
 * its exit) and exit with CMD's status. CPU time above wall time shows work
 * done on two CPUs at once. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: maxrss CMD ARGS...\n"); return 2; }
  double t0 = now();
  pid_t pid = fork();
  if (pid == 0) { execvp(argv[1], argv + 1); perror(argv[1]); _exit(127); }
  int st;
  struct rusage ru;
  if (wait4(pid, &st, 0, &ru) < 0) { perror("wait4"); return 2; }
  double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  fprintf(stderr, "maxrss_kib %ld wall_s %.4f cpu_s %.4f\n", ru.ru_maxrss, now() - t0, cpu);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
