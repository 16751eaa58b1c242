/* The native API (src/include/chkpt.h) on a child: a non-blocking checkpoint
 * (chkpt_create_start, chkpt_poll) with CHKPT_KILL, chkpt_stat, chkpt_restart
 * with a notification signal, chkpt_remove of a generation directory, and an
 * error message for a process that does not exist.
 *   native IMAGE LOG    prints "native ok" and exits 0 when everything held;
 *                       the restored child logs "restored ok" to LOG */
#include <chkpt.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr2;
static void on_usr2(int sig) { usr2 = 1; }

static void child(const char *log) {
  static long pattern[4096];
  for (int i = 0; i < 4096; i++) pattern[i] = i * 131L ^ getpid();
  while (!usr2) usleep(10000);
  int good = 1;
  for (int i = 0; i < 4096; i++) good &= pattern[i] == (i * 131L ^ getpid());
  FILE *f = fopen(log, "a");
  fprintf(f, "%s %d\n", good ? "restored ok" : "memory changed", (int)getpid());
  fclose(f);
  exit(!good);
}

#define CHECK(cond, ...) \
  do { \
    if (!(cond)) { \
      printf("FAIL: " __VA_ARGS__); \
      printf("\\n"); \
      return 1; \
    } \
  } while (0)

static int generations(const char *dir, chkpt_error *err) {
  char path[1200];
  mkdir(dir, 0700);
  for (int i = 1; i <= 2; i++) {
    snprintf(path, sizeof path, "%s/%08d.img", dir, i);
    close(open(path, O_WRONLY | O_CREAT, 0600));
  }
  return chkpt_remove(dir, err);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc != 3) return fprintf(stderr, "usage: native IMAGE LOG\n"), 2;
  signal(SIGUSR2, on_usr2); /* inherited by the child */
  pid_t kid = fork();
  if (kid == 0) child(argv[2]);
  chkpt_error err;
  struct chkpt_opts o = CHKPT_OPTS_INIT;
  o.scope = CHKPT_SINGLE;
  o.flags = CHKPT_KILL;
  chkpt_request req;
  CHECK(chkpt_create_start(kid, argv[1], &o, &req, &err) == 0, "chkpt_create_start: %s", err.msg);
  int r;
  while ((r = chkpt_poll(&req, &err)) == 1) usleep(10000);
  CHECK(r == 0, "chkpt_poll: %s", err.msg);
  int st;
  CHECK(waitpid(kid, &st, 0) == kid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "CHKPT_KILL did not kill it");

  struct chkpt_info info;
  CHECK(chkpt_stat(argv[1], &info, &err) == 0, "chkpt_stat: %s", err.msg);
  CHECK(info.nprocs == 1 && info.procs[0].pid == kid && info.procs[0].ppid == getpid() &&
            info.procs[0].nthreads == 1 && info.procs[0].uid == getuid() && strstr(info.procs[0].cmdline, "native"),
        "chkpt_stat: %u processes, first pid %d ppid %d threads %u '%s'", info.nprocs, info.nprocs ? info.procs[0].pid : 0,
        info.nprocs ? info.procs[0].ppid : 0, info.nprocs ? info.procs[0].nthreads : 0,
        info.nprocs ? info.procs[0].cmdline : "");
  chkpt_info_free(&info);

  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  struct chkpt_restart_opts ro = CHKPT_RESTART_OPTS_INIT;
  ro.notify_pid = getpid();
  ro.notify_signal = SIGUSR1;
  pid_t back = chkpt_restart(argv[1], &ro, &err);
  CHECK(back == kid, "chkpt_restart: %d: %s", (int)back, back < 0 ? err.msg : "another PID");
  struct timespec ten = {10, 0};
  CHECK(sigtimedwait(&usr1, NULL, &ten) == SIGUSR1, "no notification signal");
  kill(kid, SIGUSR2);

  char dir[1100];
  snprintf(dir, sizeof dir, "%s.gens", argv[1]);
  CHECK(generations(dir, &err) == 0 && access(dir, F_OK) != 0, "chkpt_remove of generations: %s", err.msg);
  CHECK(chkpt_remove(argv[1], &err) == 0 && access(argv[1], F_OK) != 0, "chkpt_remove: %s", err.msg);
  CHECK(chkpt_create(999999999, argv[1], NULL, &err) == -1 && !strncmp(err.msg, "chkpt:", 6),
        "checkpoint of no process: '%s'", err.msg);
  printf("native: error for no process: %s\nnative ok\n", err.msg);
  return 0;
}
