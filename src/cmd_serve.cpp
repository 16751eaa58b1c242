// chkpt serve: save jobs before power-off, with the crd kernel module (/dev/crd,
// kmod/, docs/KMOD.md), or at once (--now, from a shutdown script).
static const char kHelp[] =
    "usage: chkpt serve [--keep N] [--job PID[,KEEP]:DIR]...\n"
    "       chkpt serve --now [--kill] [--keep N] --job PID[,KEEP]:DIR...\n"
    "\n"
    "Without --now: the service of the crd kernel module (/dev/crd). The jobs\n"
    "given are registered with the module (and unregistered when serve ends);\n"
    "other jobs may be registered by anyone else holding the device. On a\n"
    "reboot, halt or power-off, forced ones too (poweroff -f skips every init\n"
    "script), the kernel holds the shutdown and wakes serve, which checkpoints\n"
    "every registered job (its process tree) into a new generation of its\n"
    "directory, synced, kills it so that it changes nothing more, syncs every\n"
    "filesystem and tells the kernel it is done; the kernel goes on then, or\n"
    "after its timeout (module parameter timeout_ms). serve also answers\n"
    "checkpoint requests made through the device (CRD_IOC_REQUEST, docs/KMOD.md):\n"
    "the kernel has checked that the requester may trace the target, and hands\n"
    "over the file to write the image to. One line on stderr per event. Runs\n"
    "until SIGTERM or SIGINT. Without the module: an error, exit 1.\n"
    "\n"
    "  --job PID[,KEEP]:DIR\n"
    "                 the process tree of PID, saved as generations of DIR\n"
    "                 (an absolute path; the layout of chkpt --every, restored\n"
    "                 with `rstrt DIR`), keeping KEEP of them. Repeatable.\n"
    "  --keep N       keep the newest N generations where --job says not\n"
    "                 (default 3)\n"
    "  --now          no module needed: save each job now, one generation each\n"
    "  --kill         with --now: kill each job once its image is durable\n"
    "  -h, --help     this text\n"
    "\n"
    "Exit status: 0; 1 if the device cannot be served, or with --now if any job\n"
    "could not be saved (each is tried).\n";

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../kmod/crd_ioctl.h"
#include "base.h"
#include "commands.h"
#include "dump.h"
#include "options.h"
#include "periodic.h"

namespace {
constexpr const char *kCmd = "chkpt serve";

struct Job {
  int pid;
  unsigned keep;  // 0: --keep
  const char *dir;
};

struct Args {
  Vec<Job> jobs;
  unsigned keep = 3;
  bool now = false, kill = false;
};

// "PID:DIR" or "PID,KEEP:DIR".
Err parse_job(const char *s, Job *out) {
  const char *colon = strchr(s, ':'), *comma = strchr(s, ',');
  char num[16];
  if (!colon || colon == s || (size_t)(colon - s) >= sizeof num || colon[1] != '/')
    return usage_err("bad --job '%s': give PID[,KEEP]:DIR, DIR an absolute path", s);
  if (strlen(colon + 1) >= CRD_PATH_MAX) return usage_err("--job directory longer than %d bytes: %s", CRD_PATH_MAX - 1, colon + 1);
  if (comma > colon) comma = nullptr;
  uint64_t pid, keep = 0;
  memcpy(num, s, (size_t)(colon - s));
  num[colon - s] = 0;
  if (comma) num[comma - s] = 0;
  TRY(parse_number("--job PID", num, 1, 0x3fffffff, &pid));
  if (comma) TRY(parse_number("--job KEEP", num + (comma - s) + 1, 1, 1000000, &keep));
  *out = {(int)pid, (unsigned)keep, colon + 1};
  return ok();
}

Err parse_args(int argc, char **argv, Args *a, bool *help) {
  const char *keep = nullptr;
  int now = 0, kill = 0;
  Vec<const char *> jobs;
  const Option opts[] = {opt_list("--job", &jobs), opt_value("--keep", &keep), opt_flag("--now", &now),
                         opt_flag("--kill", &kill)};
  TRY(parse_cmdline(argc, argv, opts, sizeof opts / sizeof *opts, nullptr, 0, help));
  if (*help) return ok();
  uint64_t n;
  if (keep) TRY(parse_number("--keep", keep, 1, 1000000, &n));
  if (keep) a->keep = (unsigned)n;
  for (const char *s : jobs) {
    Job j = {0, 0, nullptr};
    TRY(parse_job(s, &j));
    a->jobs.push(j);
  }
  a->now = now;
  a->kill = kill;
  if (a->kill && !a->now) return usage_err("--kill goes with --now (the service always kills what it saved at shutdown)");
  if (a->now && a->jobs.empty()) return usage_err("--now needs at least one --job PID:DIR");
  return ok();
}

// Checkpoint one job into a new generation of dir (or the image file path):
// the exit status.
int save_job(int pid, const char *path, bool generations, bool single, unsigned keep, AfterDump after) {
  DumpJob j;
  j.pid = pid;
  j.out = path;
  j.after = after;
  j.scope = single ? Scope::Single : Scope::Tree;
  if (generations) return dump_generation(j, keep);
  int code = 1;
  Err e = run_in_worker(j, &code);
  return e ? fail(kCmd, e) : code;
}

int save_now(const Args &a) {
  int failed = 0;
  for (const Job &j : a.jobs) {
    int code = save_job(j.pid, j.dir, true, false, j.keep ? j.keep : a.keep, a.kill ? AfterDump::Kill : AfterDump::Run);
    if (code == 0) outf(2, "%s: job %d saved in %s\n", kCmd, j.pid, j.dir);
    failed |= code != 0;
  }
  return failed;
}

// ---- with the module ------------------------------------------------------------

Err open_device(Fd *dev, crd_version *v) {
  dev->reset(open(CRD_DEVICE, O_RDWR | O_CLOEXEC));
  if (!dev->ok() && errno == ENOENT) return errf("no %s: the crd module is not loaded (docs/KMOD.md)", CRD_DEVICE);
  if (!dev->ok()) return sys_err("cannot open %s", CRD_DEVICE);
  memset(v, 0, sizeof *v);
  if (ioctl(dev->get(), CRD_IOC_VERSION, v) < 0) return sys_err("%s: version query", CRD_DEVICE);
  if (v->abi != CRD_ABI_VERSION)
    return errf("%s speaks ABI %u, this chkpt ABI %d: load the module built with it", CRD_DEVICE, v->abi, CRD_ABI_VERSION);
  return ok();
}

Err register_jobs(int dev, const Args &a, Vec<uint32_t> *ids) {
  for (const Job &j : a.jobs) {
    crd_job cj;
    memset(&cj, 0, sizeof cj);
    cj.pid = j.pid;
    cj.mode = CRD_MODE_GENERATIONS;
    cj.keep = j.keep ? j.keep : a.keep;
    snprintf(cj.path, sizeof cj.path, "%s", j.dir);
    if (ioctl(dev, CRD_IOC_JOB_ADD, &cj) < 0) return sys_err("cannot register job %d (%s) with %s", j.pid, j.dir, CRD_DEVICE);
    ids->push(cj.id);
  }
  return ok();
}

void unregister_jobs(int dev, const Vec<uint32_t> &ids) {
  for (uint32_t id : ids) ioctl(dev, CRD_IOC_JOB_DEL, &id);
}

// The shutdown: every registered job whose process still lives, saved and
// killed, then every filesystem synced (the jobs' own files too: the kernel
// powers off without syncing once we answer). The answer: 0 or EIO.
int save_registered(int dev, unsigned keep) {
  int saved = 0, failed = 0;
  for (uint32_t i = 0;; i++) {
    crd_job cj;
    memset(&cj, 0, sizeof cj);
    cj.id = i;
    if (ioctl(dev, CRD_IOC_JOB_GET, &cj) < 0) break;
    cj.path[sizeof cj.path - 1] = 0;
    if (cj.pid == 0) {
      outf(2, "%s: job %u (%s): its process is gone, nothing to save\n", kCmd, cj.id, cj.path);
      continue;
    }
    int code = save_job(cj.pid, cj.path, cj.mode & CRD_MODE_GENERATIONS, cj.mode & CRD_MODE_SINGLE,
                        cj.keep ? cj.keep : keep, AfterDump::Kill);
    outf(2, "%s: job %u, process %d: %s %s\n", kCmd, cj.id, cj.pid, code == 0 ? "saved in" : "NOT saved in", cj.path);
    (code == 0 ? saved : failed)++;
  }
  sync();
  outf(2, "%s: shutdown: %d job(s) saved, %d failed\n", kCmd, saved, failed);
  return failed ? EIO : 0;
}

// A request the kernel has checked: its image goes to ev.fd, ours now.
int answer_request(const crd_event &ev) {
  char out[32];
  snprintf(out, sizeof out, "fd:%d", ev.fd);
  AfterDump after = ev.flags & CRD_REQUEST_KILL ? AfterDump::Kill : ev.flags & CRD_REQUEST_STOP ? AfterDump::Stop : AfterDump::Run;
  int code = save_job(ev.target, out, false, false, 0, after);
  // a stream is written in place, unsynced (output.h): a file is synced here
  struct stat st;
  if (code == 0 && fstat(ev.fd, &st) == 0 && S_ISREG(st.st_mode) && fsync(ev.fd) < 0) {
    outf(2, "%s: fsync of the image of process %d: %s\n", kCmd, ev.target, strerror(errno));
    code = 1;
  }
  close(ev.fd);
  outf(2, "%s: request of process %d (uid %u): checkpoint of process %d %s\n", kCmd, ev.requester, ev.requester_uid,
       ev.target, code == 0 ? "written" : "failed");
  return code == 0 ? 0 : EIO;
}

int serve(const Args &a) {
  Fd dev;
  crd_version v;
  Vec<uint32_t> ids;
  Err e = open_device(&dev, &v);
  if (!e && ioctl(dev.get(), CRD_IOC_SERVE) < 0) {
    e = errno == EBUSY ? errf("%s is already served by process %d", CRD_DEVICE, v.service_pid) : sys_err("%s: serve", CRD_DEVICE);
  }
  if (!e) e = register_jobs(dev.get(), a, &ids);
  if (e) {
    unregister_jobs(dev.get(), ids);
    return fail(kCmd, e);
  }
  watch_stop_signals(false);  // SIGTERM ends the wait below with EINTR
  outf(2, "%s: serving %s (ABI %u), %u job(s) registered, shutdown timeout %u ms\n", kCmd, CRD_DEVICE, v.abi,
       v.jobs + (unsigned)ids.size(), v.timeout_ms);
  while (!stop_requested()) {
    crd_event ev;
    if (ioctl(dev.get(), CRD_IOC_WAIT, &ev) < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      e = sys_err("%s: waiting for an event", CRD_DEVICE);
      break;
    }
    crd_done d = {ev.kind, ev.id, 0, 0};
    if (ev.kind == CRD_EVENT_SHUTDOWN) {
      outf(2, "%s: %s: saving the jobs\n", kCmd, ev.shutdown == CRD_SHUTDOWN_RESTART ? "reboot" : ev.shutdown == CRD_SHUTDOWN_HALT ? "halt" : "power-off");
      d.result = save_registered(dev.get(), a.keep);
    } else if (ev.kind == CRD_EVENT_REQUEST) {
      d.result = answer_request(ev);
    } else {
      continue;  // a newer module's event: nothing asked of us
    }
    if (ioctl(dev.get(), CRD_IOC_DONE, &d) < 0) outf(2, "%s: %s: answer: %s\n", kCmd, CRD_DEVICE, strerror(errno));
  }
  unregister_jobs(dev.get(), ids);
  return e ? fail(kCmd, e) : 0;
}
}  // namespace

int serve_main(int argc, char **argv) {
  Args a;
  bool help = false;
  Err e = parse_args(argc, argv, &a, &help);
  if (help) {
    outf(1, "%s", kHelp);
    return 0;
  }
  if (e) return fail(kCmd, e);
  return a.now ? save_now(a) : serve(a);
}
