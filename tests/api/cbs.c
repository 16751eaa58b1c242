/* Callbacks and critical sections (src/include/chkpt.h), driven by `chkpt PID`
 * from tests/api/run.sh. Every event is appended to LOG, one line each.
 *   cbs abort LOG   a callback refuses every checkpoint ("not now")
 *   cbs cs LOG      a thread holds a critical section until LOG.go exists;
 *                   a callback logs each phase
 *   cbs hang LOG    a callback never returns
 * Each prints "ready" on stdout once set up, then waits to be killed; with
 * SIGUSR1 it logs "alive N" (N: seconds of ticks so far) and goes on. */
#include <chkpt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_path;
static char go_path[1024];
static volatile sig_atomic_t usr1;

static void note(const char *what) {
  FILE *f = fopen(log_path, "a");
  if (!f) exit(1);
  fprintf(f, "%s\n", what);
  fclose(f);
}

static int refuse(struct chkpt_event *ev, void *arg) {
  if (ev->phase != CHKPT_BEFORE) return CHKPT_CONTINUE;
  note("asked");
  snprintf(ev->reason, sizeof ev->reason, "not now");
  return CHKPT_ABORT;
}

static int logger(struct chkpt_event *ev, void *arg) {
  static const char *const names[] = {"before", "after checkpoint", "after restart", "after failure"};
  char line[100];
  snprintf(line, sizeof line, "%s (requester %d, target %d)", names[ev->phase], (int)ev->requester, (int)ev->target);
  note(line);
  return CHKPT_CONTINUE;
}

static int hang(struct chkpt_event *ev, void *arg) {
  note("hanging");
  for (;;) pause();
  return CHKPT_CONTINUE;
}

static void *hold_section(void *arg) {
  if (checkpoint_disable() < 0) exit(1);
  note("in cs");
  while (access(go_path, F_OK) != 0) usleep(20000);
  note("leaving cs");
  checkpoint_enable();
  return NULL;
}

static void on_usr1(int sig) { usr1 = 1; }

int main(int argc, char **argv) {
  if (argc != 3) return fprintf(stderr, "usage: cbs abort|cs|hang LOG\n"), 2;
  log_path = argv[2];
  snprintf(go_path, sizeof go_path, "%s.go", log_path);
  signal(SIGUSR1, on_usr1);
  chkpt_error err;
  chkpt_callback fn = !strcmp(argv[1], "abort") ? refuse : !strcmp(argv[1], "hang") ? hang : logger;
  if (chkpt_callback_register(fn, NULL, &err) < 0) return printf("FAIL: %s\n", err.msg), 1;
  pthread_t t;
  if (!strcmp(argv[1], "cs") && pthread_create(&t, NULL, hold_section, NULL)) return 1;
  printf("ready\n");
  fflush(stdout);
  for (long ticks = 0;; ticks++) {
    usleep(10000);
    if (!usr1) continue;
    usr1 = 0;
    char line[64];
    snprintf(line, sizeof line, "alive %ld", ticks);
    note(line);
  }
}
