// rstrt --pidns: the namespace's init is a fork of rstrt that runs the restore
// as PID 1 and then waits for the job as rstrt does (cmd_rstrt.cpp): it reaps
// the orphans (PID 1 of a namespace gets them, pid_namespaces(7)) and exits
// with the job's exit status, which rstrt, its parent, passes on. When the
// init exits, the kernel kills whatever is left in the namespace, so a failed
// restore leaves nothing behind.
#include "pidns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"

namespace {
// Above the fds an image may name as external (0-2 and --external ones, which
// rstrt passes on): the report pipe must not stand in for one of them.
const int kReportFloor = 100;

// The init's /proc shows the new namespace's PIDs (the restore reads
// /proc/PID of its own processes). Mounts stay slaves of the host's, so a
// mount made there later still shows; the job's own do not leak out.
Err own_proc() {
  if (unshare(CLONE_NEWNS) < 0) return sys_err("--pidns: a new mount namespace");
  if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) return sys_err("--pidns: making / a slave mount");
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0)
    return sys_err("--pidns: mounting /proc for the new PID namespace");
  return ok();
}

// The last PID on the NSpid line of /proc/PID/status: the innermost one.
bool inner_pid(int pid, int *inner) {
  char path[48], text[2048], ids[128];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  if (read_text(path, text, sizeof text) || !status_field(text, "NSpid", ids, sizeof ids)) return false;
  const char *last = strrchr(ids, '\t');
  uint64_t v;
  if (!parse_u64(last ? last + 1 : ids, &v)) return false;
  *inner = (int)v;
  return true;
}

// The init's children as rstrt sees them, by their PID inside.
Err outer_pid(int init, int inner, int *out) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", init, init);
  Str kids;
  TRY(read_whole(path, &kids));
  for (char *s = (char *)kids.c(); *s;) {
    char *end;
    long c = strtol(s, &end, 10);
    if (end == s) break;
    int in;
    if (inner_pid((int)c, &in) && in == inner) { *out = (int)c; return ok(); }
    s = end;
  }
  return errf("--pidns: restored process %d is not in the new namespace", inner);
}
}  // namespace

Err pidns_enter(PidNs *ns) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return sys_err("pipe");
  int r = fcntl(p[0], F_DUPFD_CLOEXEC, kReportFloor), w = fcntl(p[1], F_DUPFD_CLOEXEC, kReportFloor);
  close(p[0]);
  close(p[1]);
  if (r < 0 || w < 0) return sys_err("fcntl");
  // rstrt's next child is PID 1 of a new namespace (unshare(2) CLONE_NEWPID).
  if (unshare(CLONE_NEWPID) < 0) {
    if (errno == EPERM) return errk(ErrKind::NotPermitted, "--pidns needs CAP_SYS_ADMIN (a new PID namespace)");
    return sys_err("--pidns: a new PID namespace");
  }
  int pid = fork();
  if (pid < 0) return sys_err("--pidns: fork");
  if (pid > 0) {
    close(w);
    ns->init = pid;
    ns->report = r;
    return ok();
  }
  close(r);
  ns->init = 0;
  ns->report = w;
  return own_proc();
}

void pidns_report(PidNs &ns, const Err &restored, const Vec<int> &roots, bool detach) {
  // Nothing else holds a PID in a fresh namespace but its init.
  Err e = restored.kind == ErrKind::InUse ? errk(ErrKind::InUse, "--pidns: the image holds PID 1, which is the new namespace's init")
                                          : restored;
  send_err(ns.report, e);
  int32_t n = (int32_t)roots.size();
  (void)write_full(ns.report, &n, sizeof n);
  for (int pid : roots) {
    int32_t v = pid;
    (void)write_full(ns.report, &v, sizeof v);
  }
  close(ns.report);
  if (e) _exit(exit_status(e));
  if (!detach) return;
  (void)chdir("/");  // keeps no file system busy
  int null = open("/dev/null", O_RDWR);
  for (int fd = 0; fd <= 2 && null >= 0; fd++) dup2(null, fd);
  syscall(SYS_close_range, 3, ~0u, 0);
}

Err pidns_result(PidNs &ns, Vec<int> *roots) {
  Err e;
  int32_t n = -1;
  if (recv_err(ns.report, &e)) {
  } else if (read_full(ns.report, &n, sizeof n) != sizeof n || n < 0 || n > (1 << 22)) {
    e = errf("--pidns: the new namespace's init failed");
  } else {
    e = ok();
    for (int32_t i = 0; i < n && !e; i++) {
      int32_t inner, outer;
      if (read_full(ns.report, &inner, sizeof inner) != sizeof inner) e = errf("--pidns: the init's report is short");
      else if (!(e = outer_pid(ns.init, inner, &outer))) roots->push(outer);
    }
  }
  close(ns.report);
  if (e) waitpid(ns.init, nullptr, 0);  // it exits, and the namespace with it
  return e;
}
