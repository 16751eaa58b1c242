/* libchkpt: the library's thread in the process. It listens on the abstract
 * unix socket "@chkpt.PID" (unix(7)), where chkpt asks before a checkpoint
 * (src/callbacks.cpp holds the other side and the protocol): it waits for the
 * critical sections to end, runs the callbacks, answers, and closes the
 * connection, so that nothing but the listening socket leads out of the
 * process when it is frozen. The listening socket is checkpointed and
 * restored with the process (src/fd/unix.cpp). After a restart the thread
 * notices on its own that it is a new process (its start time in
 * /proc/self/stat changed) and runs the callbacks' "after restart" phase.
 *
 * The caller's own checkpoint (self_checkpoint): chkpt must not be a child of
 * the process it freezes, and the caller must hold no pipe to it, so a
 * detached helper runs chkpt and sends its verdict to the socket as
 * "RESULT <status> <message>". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifndef PR_SET_PTRACER
#define PR_SET_PTRACER 0x59616d61
#endif
enum { kMaxCallbacks = 64 };
enum { IDLE, PENDING };                     /* state: PENDING from "OK" to the outcome */
enum { NO_RESULT, RESULT_IN, RESULT_RESTARTED }; /* the caller's own checkpoint */

static struct {
  pthread_mutex_t lock;
  pthread_cond_t changed; /* state, critical sections, result */
  int started, listen_fd;
  pthread_t thread;
  unsigned long long start_time; /* /proc/self/stat field 22: new after a restart */
  int state, in_cs;
  pid_t requester;
  struct chkpt_event ev;
  int ncb;
  chkpt_callback cb[kMaxCallbacks];
  void *cb_arg[kMaxCallbacks];
  int self_busy; /* a thread waits for its own checkpoint */
  int result, result_status;
  char result_msg[512];
} L = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, -1};

static __thread int my_cs; /* this thread's critical-section depth */

static unsigned long long read_start_time(void) {
  char buf[1024];
  FILE *f = fopen("/proc/self/stat", "re");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* comm may hold spaces */
  unsigned long long v = 0;
  for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
  if (p) v = strtoull(p + 1, NULL, 10);
  return v;
}

static int socket_name(const char *what, pid_t pid, struct sockaddr_un *a) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "%s.%d", what, (int)pid);
  return (int)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* One line to the abstract socket what.pid, then closed. */
static void send_line(const char *what, pid_t pid, const char *line) {
  struct sockaddr_un a;
  socklen_t len = (socklen_t)socket_name(what, pid, &a);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s >= 0 && connect(s, (struct sockaddr *)&a, len) == 0 && send(s, line, strlen(line), MSG_NOSIGNAL) < 0) {
    /* chkpt gave up meanwhile: it said so */
  }
  if (s >= 0) close(s);
}

static void reply(const char *line) { send_line("chkpt-reply", L.requester, line); }

/* Callbacks 0..n-1 in reverse order, in the given after phase. */
static void run_after(int phase, int n) {
  L.ev.phase = phase;
  for (int i = n - 1; i >= 0; i--) L.cb[i](&L.ev, L.cb_arg[i]);
}

/* The after phase, then back to idle. */
static void finish(int phase) {
  run_after(phase, L.ncb);
  pthread_mutex_lock(&L.lock);
  L.state = IDLE;
  if (phase == CHKPT_AFTER_RESTART) {
    L.start_time = read_start_time();
    if (L.result == NO_RESULT) L.result = RESULT_RESTARTED; /* a caller waiting for its own */
  }
  pthread_cond_broadcast(&L.changed);
  pthread_mutex_unlock(&L.lock);
}

/* Wait until no thread is in a critical section, up to ms; then PENDING. */
static int enter_pending(unsigned long ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += (time_t)(ms / 1000);
  until.tv_nsec += (long)(ms % 1000) * 1000000;
  if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
  pthread_mutex_lock(&L.lock);
  int r = 0;
  while (L.in_cs && r == 0) r = ms ? pthread_cond_timedwait(&L.changed, &L.lock, &until) : ETIMEDOUT;
  if (!L.in_cs) L.state = PENDING;
  int busy = L.in_cs != 0;
  pthread_mutex_unlock(&L.lock);
  return busy ? -1 : 0;
}

/* The request's connection is closed already: a callback that hangs leaves
 * no connection in the process. */
static void on_request(char *line) {
  char *w[6], *p = line; /* "REQ requester scope target signal ms" */
  for (int i = 0; i < 6; i++) w[i] = strsep(&p, " ");
  if (!w[5]) return;
  int requester = atoi(w[1]), target = atoi(w[3]), sig = atoi(w[4]);
  const char *scope = w[2];
  unsigned long ms = strtoul(w[5], NULL, 10);
  L.requester = requester;
  if (enter_pending(ms) < 0) return reply("BUSY\n");
  static const char *const scopes[] = {"tree", "single", "pgrp", "session"};
  memset(&L.ev, 0, sizeof L.ev);
  for (int i = 0; i < 4; i++)
    if (!strcmp(scope, scopes[i])) L.ev.scope = i;
  L.ev.requester = requester;
  L.ev.target = target;
  L.ev.signal = sig;
  L.ev.phase = CHKPT_BEFORE;
  for (int i = 0; i < L.ncb; i++) {
    if (L.cb[i](&L.ev, L.cb_arg[i]) == CHKPT_CONTINUE) continue;
    char msg[300];
    snprintf(msg, sizeof msg, "ABORT %s\n", L.ev.reason[0] ? L.ev.reason : "no reason given");
    for (char *p = msg + 6; p[1]; p++)
      if (*p == '\n') *p = ' ';
    reply(msg);
    run_after(CHKPT_AFTER_FAILURE, i); /* those that went on learn that it failed */
    pthread_mutex_lock(&L.lock);
    L.state = IDLE;
    pthread_cond_broadcast(&L.changed);
    pthread_mutex_unlock(&L.lock);
    return;
  }
  reply("OK\n");
}

/* "RESULT status message" */
static void on_result(const char *line) {
  const char *msg = strchr(line + 7, ' ');
  pthread_mutex_lock(&L.lock);
  L.result = RESULT_IN;
  L.result_status = atoi(line + 7);
  snprintf(L.result_msg, sizeof L.result_msg, "%s", msg ? msg + 1 : "");
  pthread_cond_broadcast(&L.changed);
  pthread_mutex_unlock(&L.lock);
}

/* One line, up to 2 s (a client that says nothing does not block us). */
static int read_line(int fd, char *buf, size_t cap) {
  size_t got = 0;
  struct pollfd p = {fd, POLLIN, 0};
  while (got + 1 < cap && poll(&p, 1, 2000) > 0 && read(fd, buf + got, 1) == 1 && buf[got] != '\n') got++;
  buf[got] = 0;
  return (int)got;
}

/* Takes fd and closes it. */
static void serve(int fd) {
  struct ucred peer;
  socklen_t len = sizeof peer;
  char line[700];
  int ok = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && (peer.uid == 0 || peer.uid == getuid()) &&
           read_line(fd, line, sizeof line);
  close(fd);
  if (!ok) return;
  if (!strncmp(line, "REQ ", 4) && L.state == IDLE) on_request(line);
  else if (!strncmp(line, "REQ ", 4)) send_line("chkpt-reply", atoi(line + 4), "ABORT a checkpoint of it is already in progress\n");
  else if (!strncmp(line, "DONE ", 5) && L.state == PENDING) finish(line[5] == '0' ? CHKPT_AFTER_CHECKPOINT : CHKPT_AFTER_FAILURE);
  else if (!strncmp(line, "RESULT ", 7)) on_result(line);
}

/* While a checkpoint is pending, look every 200 ms whether this is a restarted
 * process, or whether chkpt went away without saying how it ended. */
static void watch_pending(void) {
  if (read_start_time() != L.start_time) return finish(CHKPT_AFTER_RESTART);
  struct pollfd p = {L.listen_fd, POLLIN, 0};
  /* gone, and not just after sending DONE, which is waiting to be read */
  if (kill(L.requester, 0) < 0 && errno == ESRCH && poll(&p, 1, 0) == 0) finish(CHKPT_AFTER_FAILURE);
}

static void *listener(void *unused) {
  for (;;) {
    struct pollfd p = {L.listen_fd, POLLIN, 0};
    int r = poll(&p, 1, L.state == PENDING ? 200 : -1);
    if (r == 0 && L.state == PENDING) watch_pending();
    if (r <= 0) continue;
    int fd = accept4(L.listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) continue;
    serve(fd);
  }
  return unused;
}

/* A child of fork() has its own PID and no thread: it starts afresh. */
static void after_fork_child(void) {
  if (L.listen_fd >= 0) close(L.listen_fd);
  pthread_mutex_init(&L.lock, NULL);
  pthread_cond_init(&L.changed, NULL);
  L.listen_fd = -1;
  L.started = 0;
  L.state = IDLE;
  L.in_cs = 0;
  L.self_busy = 0;
  L.result = NO_RESULT;
}

static int start_locked(chkpt_error *err) {
  if (L.started) return 0;
  struct sockaddr_un a;
  socklen_t len = (socklen_t)socket_name("chkpt", getpid(), &a);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&a, len) < 0 || listen(s, 8) < 0) {
    lib_error(err, "libchkpt: cannot listen on @%s: %s", a.sun_path + 1, strerror(errno));
    if (s >= 0) close(s);
    return -1;
  }
  L.listen_fd = s;
  L.start_time = read_start_time();
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old); /* signals are for the program's threads */
  int r = pthread_create(&L.thread, NULL, listener, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r) {
    lib_error(err, "libchkpt: pthread_create: %s", strerror(r));
    close(s);
    L.listen_fd = -1;
    return -1;
  }
  pthread_detach(L.thread);
  static int atfork;
  if (!atfork++) pthread_atfork(NULL, NULL, after_fork_child);
  L.started = 1;
  return 0;
}

int chkpt_init(chkpt_error *err) {
  pthread_mutex_lock(&L.lock);
  int r = start_locked(err);
  pthread_mutex_unlock(&L.lock);
  return r;
}

int chkpt_callback_register(chkpt_callback fn, void *arg, chkpt_error *err) {
  pthread_mutex_lock(&L.lock);
  int r = start_locked(err);
  if (!r && (L.ncb == kMaxCallbacks || L.state != IDLE || !fn)) {
    lib_error(err, "chkpt_callback_register: %s", fn ? "too many callbacks, or a checkpoint is in progress" : "no function");
    r = -1;
  }
  if (!r) {
    L.cb[L.ncb] = fn;
    L.cb_arg[L.ncb++] = arg;
  }
  pthread_mutex_unlock(&L.lock);
  return r;
}

int checkpoint_disable(void) {
  pthread_mutex_lock(&L.lock);
  int r = start_locked(NULL);
  /* the library's own thread (a callback) must not wait for itself */
  while (!r && L.state == PENDING && !pthread_equal(pthread_self(), L.thread)) pthread_cond_wait(&L.changed, &L.lock);
  if (!r) L.in_cs++, my_cs++;
  pthread_mutex_unlock(&L.lock);
  return r;
}

int checkpoint_enable(void) {
  pthread_mutex_lock(&L.lock);
  int r = my_cs > 0 ? 0 : -1;
  if (!r) L.in_cs--, my_cs--;
  pthread_cond_broadcast(&L.changed);
  pthread_mutex_unlock(&L.lock);
  if (r) errno = EINVAL;
  return r;
}

/* The detached helper: a grandchild, so not in the set; it waits for the
 * caller to close `gate` (allowed to trace it, holding no pipe to it), runs
 * chkpt and sends the verdict to the caller's socket. */
static void helper(char *const argv[], int keep_fd, pid_t caller, int gate) {
  char c;
  while (read(gate, &c, 1) != 0 && errno == EINTR) {
  }
  close(gate);
  chkpt_error e;
  char line[600];
  int r = tool_run(argv, keep_fd, NULL, 0, &e);
  if (keep_fd >= 0) close(keep_fd);
  snprintf(line, sizeof line, "RESULT %d %s\n", r, r ? e.msg : "");
  send_line("chkpt", caller, line);
  _exit(0);
}

/* Fork the helper as a grandchild; *gate_w is the caller's end of its gate. */
static pid_t spawn_helper(char *const argv[], int keep_fd, int *gate_w, chkpt_error *err) {
  int gate[2], pidpipe[2];
  if (pipe2(gate, O_CLOEXEC) < 0 || pipe2(pidpipe, O_CLOEXEC) < 0) {
    lib_error(err, "pipe: %s", strerror(errno));
    return -1;
  }
  pid_t caller = getpid(), mid = fork();
  if (mid == 0) {
    pid_t g = fork();
    if (g == 0) {
      close(gate[1]);
      close(pidpipe[0]);
      close(pidpipe[1]);
      helper(argv, keep_fd, caller, gate[0]);
    }
    if (write(pidpipe[1], &g, sizeof g) < 0) _exit(1);
    _exit(0);
  }
  close(gate[0]);
  close(pidpipe[1]);
  pid_t g = -1;
  if (mid < 0 || read(pidpipe[0], &g, sizeof g) != sizeof g) g = -1;
  close(pidpipe[0]);
  if (mid > 0) waitpid(mid, NULL, 0);
  if (g <= 0) {
    lib_error(err, "cannot start the checkpoint helper: %s", strerror(errno));
    close(gate[1]);
    return -1;
  }
  *gate_w = gate[1];
  return g;
}

int self_checkpoint(char *const argv[], int keep_fd, chkpt_error *err) {
  if (my_cs) {
    lib_error(err, "chkpt_create: the caller is inside a critical section (checkpoint_disable)");
    return -1;
  }
  if (keep_fd >= 0) {
    lib_error(err, "chkpt_create: a process cannot write its own checkpoint to an fd it holds");
    return -1;
  }
  if (chkpt_init(err) < 0) return -1;
  pthread_mutex_lock(&L.lock);
  int busy = L.self_busy;
  L.self_busy = 1;
  L.result = NO_RESULT;
  pthread_mutex_unlock(&L.lock);
  if (busy) {
    lib_error(err, "chkpt_create: another thread is checkpointing this process");
    return -1;
  }
  int gate;
  pid_t g = spawn_helper(argv, keep_fd, &gate, err);
  if (g < 0) {
    pthread_mutex_lock(&L.lock);
    L.self_busy = 0;
    pthread_mutex_unlock(&L.lock);
    return -1;
  }
  /* Yama (ptrace_scope 1): the helper and its descendants (chkpt, its
   * worker) may trace us; EINVAL without Yama does not matter. */
  prctl(PR_SET_PTRACER, (unsigned long)g, 0, 0, 0);
  close(gate);
  pthread_mutex_lock(&L.lock);
  while (L.result == NO_RESULT) pthread_cond_wait(&L.changed, &L.lock);
  int result = L.result, status = L.result_status;
  if (result == RESULT_IN && status) lib_error(err, "%s", L.result_msg);
  L.result = NO_RESULT;
  L.self_busy = 0;
  pthread_mutex_unlock(&L.lock);
  prctl(PR_SET_PTRACER, 0, 0, 0, 0);
  if (result == RESULT_RESTARTED) return 1;
  return status ? -1 : 0;
}
