// Signal dispositions and pending signals. Dispositions (handler, flags,
// restorer, mask) are visible only to the process itself, so chkpt reads them by
// injecting rt_sigaction into the frozen target. Pending signals are read with
// PTRACE_PEEKSIGINFO without dequeuing them, and re-queued at restore by the
// restored process itself: the kernel accepts an arbitrary si_code only when a
// process queues to itself (kernel/signal.c: do_rt_tgsigqueueinfo).
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "process.h"

namespace {
constexpr int kSigKill = 9, kSigStop = 19;
}

Err dump_sigacts(Tracee &t, const ProcMem &mem, const Gadget &g, SigactsRec *out) {
  arch::KSigaction k;
  if (g.scratch_len < sizeof k) return errf("internal: no scratch memory for rt_sigaction");
  for (int sig = 1; sig <= kNrSignals; sig++) {
    int64_t r;
    TRY(t.syscall(SYS_rt_sigaction, &r, sig, 0, g.scratch, sizeof k.mask));
    if (r < 0) return errf("rt_sigaction(%d) in the target: %s", sig, strerror((int)-r));
    TRY(mem.read(g.scratch, &k, sizeof k));
    arch::sigaction_to_image(k, &out->act[sig - 1]);
  }
  return ok();
}

Err dump_pending(Tracee &t, Vec<SiginfoRec> *out) {
  TRY(t.peek_siginfo(false, out));
  return t.peek_siginfo(true, out);
}

// Raw rt_sigaction keeps the saved sa_restorer (libc wrappers substitute their own).
// All signals are blocked in the new process until its final mask is loaded, so a
// handler address that is not mapped yet is never called.
Err restore_sigacts_child(const SigactsRec &r) {
  for (int sig = 1; sig <= kNrSignals; sig++) {
    if (sig == kSigKill || sig == kSigStop) continue;
    arch::KSigaction k;
    arch::sigaction_from_image(r.act[sig - 1], &k);
    if (syscall(SYS_rt_sigaction, sig, &k, nullptr, sizeof k.mask) < 0) return sys_err("rt_sigaction(%d)", sig);
  }
  return ok();
}

Err restore_pending(Tracee &t, const ProcMem &mem, const Gadget &g, int pid, const Vec<SiginfoRec> &pending) {
  for (auto &s : pending) {
    TRY(mem.write(g.scratch, s.info, sizeof s.info));
    int64_t r;
    int sig = siginfo_signo(s);
    if (s.tid) TRY(t.syscall(SYS_rt_tgsigqueueinfo, &r, pid, s.tid, sig, g.scratch));
    else TRY(t.syscall(SYS_rt_sigqueueinfo, &r, pid, sig, g.scratch));
    if (r < 0) return errf("re-queueing pending signal %d: %s", sig, strerror((int)-r));
  }
  return ok();
}
