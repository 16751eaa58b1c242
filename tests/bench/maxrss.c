/* maxrss CMD ARGS...: run CMD, then print "maxrss_kib N" (its peak resident set,
 * from wait4's rusage) on stderr and exit with CMD's status. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: maxrss CMD ARGS...\n"); return 2; }
  pid_t pid = fork();
  if (pid == 0) { execvp(argv[1], argv + 1); perror(argv[1]); _exit(127); }
  int st;
  struct rusage ru;
  if (wait4(pid, &st, 0, &ru) < 0) { perror("wait4"); return 2; }
  fprintf(stderr, "maxrss_kib %ld\n", ru.ru_maxrss);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
