/* libchkpt's IRIX (include/ckpt.h) and CRS (include/crs.h) layers over the
 * native API (include/chkpt.h). Their errors are errno plus this thread's
 * last message. docs/API.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chkpt.h"
#include "ckpt.h"
#include "crs.h"

static __thread chkpt_error last;

static int failed(int errnum) {
  errno = errnum;
  return -1;
}

const char *ckpt_errmsg(void) { return last.msg; }
const char *crs_errmsg(void) { return last.msg; }

static int scope_of(unsigned long type) {
  if (type == (unsigned long)P_PID) return CHKPT_SINGLE;
  if (type == (unsigned long)P_PGID) return CHKPT_PGRP;
  if (type == (unsigned long)P_SID) return CHKPT_SESSION;
  if (type == (unsigned long)P_HID) return CHKPT_TREE;
  return -1;
}

int ckpt_create(const char *path, ckpt_id_t id, unsigned long type, struct ckpt_args *args[], size_t nargs) {
  struct chkpt_opts o = CHKPT_OPTS_INIT;
  o.scope = scope_of(type);
  if (o.scope < 0 || nargs || !path || id <= 0) {
    snprintf(last.msg, sizeof last.msg, "ckpt_create: unsupported type %lu or arguments", type);
    return failed(EINVAL);
  }
  return chkpt_create((pid_t)id, path, &o, &last) < 0 ? failed(EIO) : 0;
}

ckpt_id_t ckpt_restart(const char *path, struct ckpt_args *args[], size_t nargs) {
  if (nargs) {
    snprintf(last.msg, sizeof last.msg, "ckpt_restart: no arguments are supported");
    return failed(EINVAL);
  }
  pid_t pid = chkpt_restart(path, NULL, &last);
  return pid < 0 ? failed(EIO) : pid;
}

int ckpt_stat(const char *path, ckpt_stat_t **sp) {
  struct chkpt_info info;
  struct stat st;
  *sp = NULL;
  if (stat(path, &st) < 0) {
    int e = errno;
    snprintf(last.msg, sizeof last.msg, "%s: %s", path, strerror(e));
    return failed(e);
  }
  if (chkpt_stat(path, &info, &last) < 0) return failed(EIO);
  ckpt_stat_t **tail = sp;
  for (unsigned i = 0; i < info.nprocs; i++) {
    const struct chkpt_proc *p = &info.procs[i];
    ckpt_stat_t *c = calloc(1, sizeof *c);
    if (!c) {
      snprintf(last.msg, sizeof last.msg, "out of memory");
      break;
    }
    c->cs_revision = (long)(info.format_major * 100 + info.format_minor);
    c->cs_pid = p->pid, c->cs_ppid = p->ppid, c->cs_pgrp = p->pgrp, c->cs_sid = p->sid;
    c->cs_uid = p->uid, c->cs_gid = p->gid;
    snprintf(c->cs_psargs, sizeof c->cs_psargs, "%.*s", (int)sizeof c->cs_psargs - 1, p->cmdline);
    snprintf(c->cs_cdir, sizeof c->cs_cdir, "%s", p->cwd);
    c->cs_nfiles = (int)p->nfiles, c->cs_nthreads = (int)p->nthreads;
    c->cs_stat = st;
    *tail = c;
    tail = &c->cs_next;
  }
  unsigned n = info.nprocs;
  chkpt_info_free(&info);
  if (*tail || (n && !*sp)) return failed(ENOMEM);
  return 0;
}

int ckpt_remove(const char *path) { return chkpt_remove(path, &last) < 0 ? failed(EIO) : 0; }

/* atcheckpoint/atrestart handlers, behind one native callback. */
enum { kMaxHandlers = 32 };
static void (*before_fn[kMaxHandlers])(void), (*restart_fn[kMaxHandlers])(void);
static int nbefore, nrestart, registered;

static int irix_callback(struct chkpt_event *ev, void *unused) {
  if (ev->phase == CHKPT_BEFORE)
    for (int i = 0; i < nbefore; i++) before_fn[i]();
  if (ev->phase == CHKPT_AFTER_RESTART)
    for (int i = 0; i < nrestart; i++) restart_fn[i]();
  return CHKPT_CONTINUE;
}

static int add_handler(void (*fn)(void), void (**table)(void), int *n) {
  if (!fn || *n == kMaxHandlers) {
    snprintf(last.msg, sizeof last.msg, "at%s: no function, or too many", table == before_fn ? "checkpoint" : "restart");
    return failed(EINVAL);
  }
  if (!registered && chkpt_callback_register(irix_callback, NULL, &last) < 0) return failed(EAGAIN);
  registered = 1;
  table[(*n)++] = fn;
  return 0;
}

int atcheckpoint(void (*fn)(void)) { return add_handler(fn, before_fn, &nbefore); }
int atrestart(void (*fn)(void)) { return add_handler(fn, restart_fn, &nrestart); }

int checkpoint(int fd, pid_t pid, int flags) {
  struct chkpt_opts o = CHKPT_OPTS_INIT;
  if ((flags & ~(CRS_KILL | CRS_NOBINARY | CRS_BINARY)) || (flags & CRS_BINARY) || fd < 0) {
    snprintf(last.msg, sizeof last.msg, "checkpoint: %s", (flags & CRS_BINARY) ? "CRS_BINARY: chkpt never saves the program file in the image" : "unknown flags or bad fd");
    return failed(EINVAL);
  }
  o.fd = fd;
  o.flags = flags & CRS_KILL ? CHKPT_KILL : 0;
  return chkpt_create(pid, NULL, &o, &last) < 0 ? failed(EIO) : 0;
}

pid_t restart(const char *path, pid_t pid, int flags) {
  struct chkpt_restart_opts o = CHKPT_RESTART_OPTS_INIT;
  if (flags & ~(RESTART_NOTIFY | RESTART_STOP)) {
    snprintf(last.msg, sizeof last.msg, "restart: unknown flags");
    return failed(EINVAL);
  }
  if (flags & RESTART_STOP) o.flags = CHKPT_RESTART_STOPPED;
  if (flags & RESTART_NOTIFY) {
    o.notify_pid = pid ? pid : getppid();
    o.notify_signal = SIGUSR1;
  }
  pid_t r = chkpt_restart(path, &o, &last);
  return r < 0 ? failed(EIO) : r;
}
