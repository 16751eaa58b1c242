/* libchkpt: running the chkpt binary (fork + exec) and what the calls that
 * only drive it do: checkpoint another process, restart, stat, remove.
 * docs/API.md. Internal interface: lib/internal.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#ifndef CHKPT_PREFIX
#define CHKPT_PREFIX "/usr/local"
#endif

void lib_error(chkpt_error *err, const char *fmt, ...) {
  if (!err) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
}

/* $CHKPT_BIN, else PREFIX/bin/chkpt if it is there, else chkpt on PATH. */
static const char *tool_path(void) {
  const char *env = getenv("CHKPT_BIN");
  if (env && *env) return env;
  if (access(CHKPT_PREFIX "/bin/chkpt", X_OK) == 0) return CHKPT_PREFIX "/bin/chkpt";
  return "chkpt";
}

/* In the child: stdin from /dev/null, stdout/stderr to the pipes (or
 * /dev/null), keep_fd inherited without FD_CLOEXEC, then exec. Only
 * async-signal-safe calls: the caller may have threads. */
static void exec_tool(char *const argv[], int out_w, int err_w, int keep_fd) {
  int null = open("/dev/null", O_RDWR);
  dup2(null, 0);
  dup2(out_w >= 0 ? out_w : null, 1);
  dup2(err_w >= 0 ? err_w : null, 2);
  if (keep_fd > 2) fcntl(keep_fd, F_SETFD, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  const char *tool = tool_path();
  if (strchr(tool, '/')) execv(tool, argv);
  else execvp(tool, argv);
  static const char msg[] = "cannot run chkpt: set CHKPT_BIN or put it on PATH\n";
  if (write(2, msg, sizeof msg - 1) < 0) _exit(127);
  _exit(127);
}

int tool_spawn(char *const argv[], int keep_fd, int *out_r, int *err_r, pid_t *pid, chkpt_error *err) {
  int out[2] = {-1, -1}, errp[2];
  if (pipe2(errp, O_CLOEXEC) < 0 || (out_r && pipe2(out, O_CLOEXEC) < 0)) {
    lib_error(err, "pipe: %s", strerror(errno));
    return -1;
  }
  *pid = fork();
  if (*pid == 0) exec_tool(argv, out[1], errp[1], keep_fd);
  close(errp[1]);
  if (out_r) close(out[1]);
  if (*pid < 0) {
    lib_error(err, "fork: %s", strerror(errno));
    close(errp[0]);
    if (out_r) close(out[0]);
    return -1;
  }
  *err_r = errp[0];
  if (out_r) *out_r = out[0];
  return 0;
}

/* Drain fd into buf (NUL-terminated, truncated at cap); -1 at end. */
static int drain(int fd, char *buf, size_t cap, size_t *len) {
  char tmp[4096];
  ssize_t n = read(fd, tmp, sizeof tmp);
  if (n < 0 && errno == EINTR) return 0;
  if (n <= 0) return -1;
  size_t room = cap - 1 - *len;
  memcpy(buf + *len, tmp, (size_t)n < room ? (size_t)n : room);
  *len += (size_t)n < room ? (size_t)n : room;
  buf[*len] = 0;
  return 0;
}

/* The last line chkpt printed on stderr (its one-line error), else how it ended. */
void tool_verdict(const char *errtext, int status, chkpt_error *err) {
  size_t n = strlen(errtext);
  while (n && errtext[n - 1] == '\n') n--;
  size_t start = n;
  while (start && errtext[start - 1] != '\n') start--;
  if (n > start) lib_error(err, "%.*s", (int)(n - start), errtext + start);
  else if (WIFSIGNALED(status)) lib_error(err, "chkpt was killed by signal %d", WTERMSIG(status));
  else lib_error(err, "chkpt failed with exit status %d", WEXITSTATUS(status));
}

int tool_finish(pid_t pid, int err_r, int out_r, char *out, size_t cap, chkpt_error *err) {
  char errtext[2048] = "";
  size_t elen = 0, olen = 0;
  if (out) out[0] = 0;
  struct pollfd p[2] = {{err_r, POLLIN, 0}, {out_r, POLLIN, 0}};
  int open_fds = out_r >= 0 ? 2 : 1;
  while (open_fds) {
    if (poll(p, out_r >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      int r = i ? drain(p[i].fd, out, cap, &olen) : drain(p[i].fd, errtext, sizeof errtext, &elen);
      if (r < 0) {
        close(p[i].fd);
        p[i].fd = -1;
        open_fds--;
      }
    }
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      lib_error(err, "waiting for chkpt: %s", strerror(errno));
      return -1;
    }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  tool_verdict(errtext, status, err);
  return -1;
}

int tool_run(char *const argv[], int keep_fd, char *out, size_t cap, chkpt_error *err) {
  int out_r = -1, err_r;
  pid_t pid;
  if (tool_spawn(argv, keep_fd, out ? &out_r : NULL, &err_r, &pid, err) < 0) return -1;
  return tool_finish(pid, err_r, out_r, out, cap, err);
}

static const char *const kScopes[] = {"--tree", "--single", "--pgrp", "--session"};

/* chkpt's command line for a checkpoint; bufs holds the numbers. */
int create_argv(pid_t id, const char *path, const struct chkpt_opts *o, char *argv[16], char bufs[3][64],
                chkpt_error *err) {
  struct chkpt_opts def = CHKPT_OPTS_INIT;
  if (!o) o = &def;
  if (o->scope < 0 || o->scope > CHKPT_SESSION || (o->flags & ~0xf) ||
      (o->flags & (CHKPT_STOP | CHKPT_KILL)) == (CHKPT_STOP | CHKPT_KILL) || (o->fd < 0 && !path) || id <= 0) {
    lib_error(err, "chkpt_create: bad arguments (scope, flags, id, or no path)");
    return -1;
  }
  int n = 0;
  argv[n++] = "chkpt";
  argv[n++] = (char *)kScopes[o->scope];
  if (o->flags & CHKPT_STOP) argv[n++] = "--stop";
  if (o->flags & CHKPT_KILL) argv[n++] = "--kill";
  if (o->flags & CHKPT_NO_CALLBACKS) argv[n++] = "--no-callbacks";
  if (o->flags & CHKPT_NOWAIT) argv[n++] = "--nowait";
  if (o->timeout_ms) {
    snprintf(bufs[0], 64, "%u.%03u", o->timeout_ms / 1000, o->timeout_ms % 1000);
    argv[n++] = "--callback-timeout";
    argv[n++] = bufs[0];
  }
  argv[n++] = "-o";
  if (o->fd >= 0) snprintf(bufs[1], 64, "fd:%d", o->fd);
  argv[n++] = o->fd >= 0 ? bufs[1] : (char *)path;
  snprintf(bufs[2], 64, "%d", (int)id);
  argv[n++] = "--";
  argv[n++] = bufs[2];
  argv[n] = NULL;
  return 0;
}

/* Is the caller in the set the request names? Then chkpt cannot be its
 * child, and the result comes back through the library's thread (self.c). */
int set_includes_caller(pid_t id, const struct chkpt_opts *o) {
  int scope = o ? o->scope : CHKPT_TREE;
  if (scope == CHKPT_PGRP) return id == getpgrp();
  if (scope == CHKPT_SESSION) return id == getsid(0);
  return id == getpid();
}

int chkpt_create(pid_t id, const char *path, const struct chkpt_opts *opts, chkpt_error *err) {
  char *argv[16], bufs[3][64];
  if (create_argv(id, path, opts, argv, bufs, err) < 0) return -1;
  if (set_includes_caller(id, opts)) return self_checkpoint(argv, opts ? opts->fd : -1, err);
  return tool_run(argv, opts ? opts->fd : -1, NULL, 0, err);
}

int chkpt_create_start(pid_t id, const char *path, const struct chkpt_opts *opts, chkpt_request *req,
                       chkpt_error *err) {
  char *argv[16], bufs[3][64];
  memset(req, 0, sizeof *req);
  if (create_argv(id, path, opts, argv, bufs, err) < 0) return -1;
  if (set_includes_caller(id, opts)) {
    lib_error(err, "chkpt_create_start: the caller is in the set; use chkpt_create");
    return -1;
  }
  return tool_spawn(argv, opts ? opts->fd : -1, NULL, &req->err_fd, &req->helper, err);
}

int chkpt_poll(chkpt_request *req, chkpt_error *err) {
  if (!req->helper) {
    if (req->status < 0) lib_error(err, "%s", req->msg);
    return req->status;
  }
  siginfo_t si;
  si.si_pid = 0;
  /* WNOWAIT: chkpt_wait reaps it */
  if (waitid(P_PID, (id_t)req->helper, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0) return 1;
  return chkpt_wait(req, err);
}

int chkpt_wait(chkpt_request *req, chkpt_error *err) {
  if (req->helper) {
    chkpt_error e;
    req->status = tool_finish(req->helper, req->err_fd, -1, NULL, 0, &e);
    snprintf(req->msg, sizeof req->msg, "%s", req->status < 0 ? e.msg : "");
    req->helper = 0;
  }
  if (req->status < 0) lib_error(err, "%s", req->msg);
  return req->status;
}

pid_t chkpt_restart(const char *path, const struct chkpt_restart_opts *opts, chkpt_error *err) {
  struct chkpt_restart_opts def = CHKPT_RESTART_OPTS_INIT;
  if (!opts) opts = &def;
  if ((opts->flags & ~CHKPT_RESTART_STOPPED) || (opts->fd < 0 && !path)) {
    lib_error(err, "chkpt_restart: bad arguments (flags, or no path)");
    return -1;
  }
  char fdname[32], out[256];
  char *argv[6];
  int n = 0;
  argv[n++] = "chkpt";
  argv[n++] = "rstrt";
  argv[n++] = "-d";
  if (opts->flags & CHKPT_RESTART_STOPPED) argv[n++] = "--stop";
  snprintf(fdname, sizeof fdname, "fd:%d", opts->fd);
  argv[n++] = opts->fd >= 0 ? fdname : (char *)path;
  argv[n] = NULL;
  if (tool_run(argv, opts->fd, out, sizeof out, err) < 0) return -1;
  pid_t pid = (pid_t)atoi(out);
  if (pid <= 0) {
    lib_error(err, "rstrt printed no PID");
    return -1;
  }
  if (opts->notify_pid > 0 && kill(opts->notify_pid, opts->notify_signal) < 0) {
    lib_error(err, "restarted as PID %d, but notifying PID %d: %s", (int)pid, (int)opts->notify_pid, strerror(errno));
    return -1;
  }
  return pid;
}

/* The next tab-separated field of *s (NUL-terminated in place). */
static char *field(char **s) {
  char *f = *s, *end = strpbrk(f, "\t\n");
  if (end) {
    *end = 0;
    *s = end + 1;
  } else {
    *s = f + strlen(f);
  }
  return f;
}

/* The next line of *s (NUL-terminated in place). */
static char *next_line(char **s) {
  char *line = *s, *end = strchr(line, '\n');
  if (end) *end = 0;
  *s = end ? end + 1 : line + strlen(line);
  return line;
}

static int parse_proc(char *line, struct chkpt_proc *p) {
  char *s = line;
  long v[8];
  for (int i = 0; i < 8; i++) v[i] = atol(field(&s));
  p->pid = (pid_t)v[0], p->ppid = (pid_t)v[1], p->pgrp = (pid_t)v[2], p->sid = (pid_t)v[3];
  p->uid = (uid_t)v[4], p->gid = (gid_t)v[5], p->nfiles = (unsigned)v[6], p->nthreads = (unsigned)v[7];
  snprintf(p->cwd, sizeof p->cwd, "%s", field(&s));
  snprintf(p->cmdline, sizeof p->cmdline, "%s", field(&s));
  size_t n = strlen(p->cmdline);
  while (n && p->cmdline[n - 1] == ' ') p->cmdline[--n] = 0; /* the last argument's NUL */
  return p->pid > 0 ? 0 : -1;
}

int chkpt_stat(const char *path, struct chkpt_info *info, chkpt_error *err) {
  memset(info, 0, sizeof *info);
  char *argv[] = {"chkpt", "info", "--list", "--", (char *)path, NULL};
  size_t cap = 1 << 20;
  char *out = malloc(cap);
  if (!out) {
    lib_error(err, "out of memory");
    return -1;
  }
  chkpt_error e = {""};
  int r = tool_run(argv, -1, out, cap, &e);
  /* "image MAJOR MINOR PROCESSES", then "proc ..." lines (tab-separated) */
  char *s = out, *line = next_line(&s);
  unsigned nr = 0;
  if (!r && strncmp(line, "image\t", 6)) r = -1;
  if (!r) {
    line += 6;
    info->format_major = (unsigned)atoi(field(&line));
    info->format_minor = (unsigned)atoi(field(&line));
    nr = (unsigned)atoi(field(&line));
  }
  if (!r && !(info->procs = calloc(nr ? nr : 1, sizeof *info->procs))) r = -1;
  while (!r && *s && info->nprocs < nr)
    if (!strncmp(line = next_line(&s), "proc\t", 5) && parse_proc(line + 5, &info->procs[info->nprocs++]) < 0) r = -1;
  free(out);
  if (r < 0 && !e.msg[0]) lib_error(&e, "chkpt info --list %s: unexpected output", path);
  if (r < 0) lib_error(err, "%s", e.msg);
  if (r < 0) chkpt_info_free(info);
  return r;
}

void chkpt_info_free(struct chkpt_info *info) {
  free(info->procs);
  info->procs = NULL;
  info->nprocs = 0;
}

static int is_generation(const char *name) {
  size_t n = strlen(name);
  if (n != 12 || strcmp(name + 8, ".img")) return 0;
  for (int i = 0; i < 8; i++)
    if (name[i] < '0' || name[i] > '9') return 0;
  return 1;
}

int chkpt_remove(const char *path, chkpt_error *err) {
  struct stat st;
  if (lstat(path, &st) < 0 || (!S_ISDIR(st.st_mode) && unlink(path) < 0)) {
    lib_error(err, "%s: %s", path, strerror(errno));
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) return 0;
  DIR *d = opendir(path);
  if (!d) {
    lib_error(err, "%s: %s", path, strerror(errno));
    return -1;
  }
  struct dirent *e;
  int dfd = dirfd(d);
  while ((e = readdir(d)))
    if (is_generation(e->d_name)) unlinkat(dfd, e->d_name, 0);
  closedir(d);
  if (rmdir(path) < 0) {
    lib_error(err, "%s: %s (not a directory of generations only)", path, strerror(errno));
    return -1;
  }
  return 0;
}
