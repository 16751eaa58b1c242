// The worker that does chkpt's tracing, and `chkpt --every`.
//
// ptrace cannot outlive its tracer: if the tracer dies while the target runs an
// injected syscall, the kernel detaches the target with the injected registers
// and it crashes. So the tracer is a worker process that nothing but chkpt's own
// death (PR_SET_PDEATHSIG, prctl(2)) or chkpt's request reaches: it sits in its
// own process group, so ^C or a kill of the caller's process group hits only
// chkpt, which passes it on. The worker then sets abort_requested; the dumper
// checks it between phases and in the page loop, the injected call in progress
// completes, everything is put back, the temporary file is removed and the
// target released (docs/ROBUSTNESS.md).
#include "periodic.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include "commands.h"
#include "output.h"
#include "procfs.h"

namespace {
volatile sig_atomic_t worker_pid = 0;   // chkpt: the worker to pass a stop request to
volatile sig_atomic_t stop_signal = 0;  // chkpt: the signal that asked it to stop
bool stop_handlers = false;  // on_stop is installed

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void on_stop(int sig) {
  stop_signal = sig;
  if (worker_pid > 0) kill(worker_pid, SIGTERM);
}

void on_abort(int) { abort_requested = 1; }

void handle(const int *sigs, size_t n, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  for (size_t i = 0; i < n; i++) sigaction(sigs[i], &sa, nullptr);
}

void block_stop_signals(int how) {
  sigset_t s;
  sigemptyset(&s);
  for (int sig : kStopSignals) sigaddset(&s, sig);
  sigprocmask(how, &s, nullptr);
}

// No SA_RESTART: a write blocked on a full pipe returns EINTR and sees the flag.
void become_worker(pid_t parent) {
  handle(kStopSignals, sizeof kStopSignals / sizeof *kStopSignals, on_abort, 0);
  signal(SIGTTOU, SIG_IGN);  // a background process group may still report to the terminal
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) abort_requested = 1;  // chkpt died before the prctl
  block_stop_signals(SIG_UNBLOCK);
}

int dump_in_worker(const void *ctx) {
  const DumpJob &job = *static_cast<const DumpJob *>(ctx);
  Err e = dump_job(job);
  bool quiet = e && job.periodic && !job_alive(job);  // the target ended: --every is done
  if (e && !quiet) complain("chkpt", e.msg);
  return exit_status(e);
}

uint64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

// Wait until `deadline` (now_ms), or less if the target exits or chkpt is
// asked to stop. True if it is time for the next generation.
bool wait_period(int pidfd, const DumpJob &job, uint64_t deadline) {
  for (;;) {
    if (stop_signal || !job_alive(job)) return false;
    uint64_t now = now_ms();
    if (now >= deadline) return true;
    uint64_t left = deadline - now;
    int slice = left > 100 ? 100 : (int)left;  // without a pidfd: look every 100 ms
    struct pollfd p = {pidfd, POLLIN, 0};
    if (pidfd >= 0) {
      int r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
      if (r > 0) return false;  // a pidfd is readable once the process has exited
    } else {
      struct timespec ts = {0, slice * 1000000L};
      nanosleep(&ts, nullptr);
    }
  }
}

// Temporary files of checkpointers that died (SIGKILL, power cut).
void remove_stale_temps(int dirfd, const char *dir) {
  Vec<Str> names;
  if (list_temp_generations(dirfd, dir, &names)) return;
  for (auto &n : names) {
    const char *pid = strrchr(n.c(), '.');
    uint64_t p;
    if (!pid || !parse_u64(pid + 1, &p) || p > 0x3fffffff || (kill((int)p, 0) < 0 && errno == ESRCH))
      unlinkat(dirfd, n.c(), 0);
  }
}

void prune(int dirfd, const char *dir, unsigned keep) {
  Vec<uint64_t> gens;
  if (list_generations(dirfd, dir, &gens)) return;
  for (size_t i = 0; i + keep < gens.size(); i++) {
    char name[64];
    generation_name(gens[i], name, sizeof name);
    unlinkat(dirfd, name, 0);
  }
}

// The directory is opened and checked once (check_trusted_dir); every
// generation is then written into that very directory, by its descriptor,
// whatever happens to the path meanwhile.
Err prepare_dir(const char *dir, Fd *dirfd, uint64_t *next) {
  TRY(open_generation_dir(dir, true, dirfd));
  remove_stale_temps(dirfd->get(), dir);
  Vec<uint64_t> gens;
  TRY(list_generations(dirfd->get(), dir, &gens));
  *next = gens.empty() ? 1 : gens.back() + 1;
  return ok();
}

// Generation `next` of job into dirfd (job.out), in a worker; on success the
// ones beyond `keep` are pruned. *code: the worker's exit status.
Err write_generation(const DumpJob &job, int dirfd, uint64_t next, unsigned keep, bool periodic, int *code) {
  char name[64], path[4200];
  generation_name(next, name, sizeof name);
  snprintf(path, sizeof path, "%s/%s", job.out, name);
  DumpJob g = job;
  g.out = path;
  g.out_dir = dirfd;
  g.periodic = periodic;
  TRY(run_in_worker(g, code));
  if (*code == 0) prune(dirfd, job.out, keep);
  return ok();
}
}  // namespace

// A live process whose /proc/PID/stat field `field` (5 pgrp, 6 session) is id.
bool member_alive(int field, int id) {
  DIR *d = opendir("/proc");
  if (!d) return false;
  bool found = false;
  struct dirent *de;
  while (!found && (de = readdir(d))) {
    uint64_t pid, v;
    char path[300], stat[1024], state;
    if (!parse_u64(de->d_name, &pid)) continue;
    snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
    found = !read_text(path, stat, sizeof stat) && stat_field(stat, field, &v) && v == (uint64_t)id &&
            stat_state(stat, &state) && state != 'Z' && state != 'X';
  }
  closedir(d);
  return found;
}

bool job_alive(const DumpJob &job) {
  if (job.scope == Scope::Pgrp) return member_alive(5, job.pid);
  if (job.scope == Scope::Session) return member_alive(6, job.pid);
  return process_alive(job.pid);
}

Err run_in_worker(const DumpJob &job, int *code) { return run_in_worker(dump_in_worker, &job, job.pid, code); }

void watch_stop_signals(bool restart) {
  handle(kStopSignals, sizeof kStopSignals / sizeof *kStopSignals, on_stop, restart ? SA_RESTART : 0);
  stop_handlers = true;
}

int stop_requested() { return stop_signal; }

Err run_in_worker(int (*job)(const void *ctx), const void *ctx, int pid, int *code) {
  if (!stop_handlers) watch_stop_signals(true);
  pid_t parent = getpid();
  block_stop_signals(SIG_BLOCK);  // a stop request from here on reaches the worker
  pid_t w = fork();
  if (w == 0) {
    become_worker(parent);
    exit(job(ctx));  // exit, not _exit: leak checkers run in test builds
  }
  worker_pid = w > 0 ? w : 0;
  block_stop_signals(SIG_UNBLOCK);
  if (w < 0) return sys_err("fork");
  int st;
  while (waitpid(w, &st, 0) < 0)
    if (errno != EINTR) return sys_err("waiting for the checkpoint worker");
  worker_pid = 0;
  if (WIFSIGNALED(st))
    return errf("the checkpoint worker was killed by signal %d; process %d may have been harmed", WTERMSIG(st), pid);
  *code = WEXITSTATUS(st);
  return ok();
}

int dump_every(const DumpJob &job, uint64_t every_ms, unsigned keep) {
  uint64_t next = 1;
  Fd dir;
  Err e = prepare_dir(job.out, &dir, &next);
  if (!e && !job_alive(job)) e = errf("nothing to checkpoint: no live process %d, or none in its group or session", job.pid);
  if (e) return fail("chkpt", e);
  // Wakes the wait as soon as the process exits; -1 (polled instead) for a
  // group or session, or on kernels before 5.3.
  Fd pidfd(job.scope == Scope::Tree || job.scope == Scope::Single ? (int)syscall(SYS_pidfd_open, job.pid, 0) : -1);
  bool first = true;
  do {
    uint64_t started = now_ms();
    int code = 1;
    if ((e = write_generation(job, dir.get(), next, keep, !first, &code))) return fail("chkpt", e);
    if (code == 0) {
      next++;
    } else if (first && !stop_signal && job_alive(job)) {
      return 1;  // e.g. not permitted: every later attempt would fail the same way
    }
    first = false;
    if (!wait_period(pidfd.get(), job, started + every_ms)) break;
  } while (true);
  return 0;
}

int dump_generation(const DumpJob &job, unsigned keep) {
  uint64_t next = 1;
  Fd dir;
  int code = 1;
  Err e = prepare_dir(job.out, &dir, &next);
  if (!e) e = write_generation(job, dir.get(), next, keep, false, &code);
  return e ? fail("chkpt", e) : code;
}
