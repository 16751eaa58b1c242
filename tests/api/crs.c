/* The CRS flow (src/include/crs.h): a controller checkpoints its child with
 * checkpoint() into a unix socket (a reader process on the other end saves
 * the stream to IMAGE) and CRS_KILL, then restarts it with restart() and
 * RESTART_NOTIFY | RESTART_STOP: SIGUSR1 must come, the child must be
 * stopped, and once continued it checks its memory and logs its verdict.
 *   crs IMAGE LOG    prints "crs ok" and exits 0 when everything held */
#include <crs.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr2;
static void on_usr2(int sig) { usr2 = 1; }

static void child(const char *log) {
  long pattern[1024];
  for (int i = 0; i < 1024; i++) pattern[i] = i * 31L + getpid();
  signal(SIGUSR2, on_usr2);
  while (!usr2) usleep(10000);
  int good = 1;
  for (int i = 0; i < 1024; i++) good &= pattern[i] == i * 31L + getpid();
  FILE *f = fopen(log, "a");
  fprintf(f, "%s %d\n", good ? "restored ok" : "memory changed", (int)getpid());
  fclose(f);
  exit(!good);
}

/* The other end of the socket: everything into the image file. */
static pid_t saver(int sock, int other, const char *path) {
  pid_t p = fork();
  if (p) return p;
  close(other);
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  char buf[65536];
  ssize_t n;
  while ((n = read(sock, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) _exit(1);
  _exit(close(out) < 0 || n < 0);
}

static char state_of(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  return p ? p[2] : 0;
}

static int fail(const char *what) {
  printf("FAIL: %s: %s\n", what, crs_errmsg());
  return 1;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc != 3) return fprintf(stderr, "usage: crs IMAGE LOG\n"), 2;
  pid_t kid = fork();
  if (kid == 0) child(argv[2]);
  usleep(100000);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return 1;
  pid_t sp = saver(sv[1], sv[0], argv[1]);
  close(sv[1]);
  if (checkpoint(sv[0], kid, CRS_BINARY) != -1 || errno != EINVAL) return printf("FAIL: CRS_BINARY accepted\n"), 1;
  if (checkpoint(sv[0], kid, CRS_KILL | CRS_NOBINARY) < 0) return fail("checkpoint");
  close(sv[0]);
  int st;
  if (waitpid(sp, &st, 0) != sp || st) return printf("FAIL: saving the stream\n"), 1;
  if (waitpid(kid, &st, 0) != kid || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
    return printf("FAIL: CRS_KILL did not kill the child\n"), 1;
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  pid_t back = restart(argv[1], getpid(), RESTART_NOTIFY | RESTART_STOP);
  if (back < 0) return fail("restart");
  if (back != kid) return printf("FAIL: restarted as %d, not %d\n", (int)back, (int)kid), 1;
  struct timespec ten = {10, 0};
  if (sigtimedwait(&usr1, NULL, &ten) != SIGUSR1) return printf("FAIL: no SIGUSR1 (RESTART_NOTIFY)\n"), 1;
  for (int i = 0; i < 200 && state_of(kid) != 'T'; i++) usleep(10000);
  if (state_of(kid) != 'T') return printf("FAIL: RESTART_STOP: child is in state %c\n", state_of(kid)), 1;
  kill(kid, SIGUSR2);
  kill(kid, SIGCONT);
  printf("crs ok\n");
  return 0;
}
