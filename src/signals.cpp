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
#include "remote.h"

namespace {
constexpr int kSigKill = 9, kSigStop = 19;
}

Err dump_sigacts(Remote &rc, SigactsRec *out) {
  arch::KSigaction k;
  for (int sig = 1; sig <= kNrSignals; sig++) {
    TRY(rc.must("rt_sigaction", SYS_rt_sigaction, sig, 0, rc.at(0), sizeof k.mask));
    TRY(rc.get(0, &k, sizeof k));
    arch::sigaction_to_image(k, &out->act[sig - 1]);
  }
  return ok();
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

Err restore_pending(Remote &rc, int pid, const Vec<SiginfoRec> &pending) {
  for (auto &s : pending) {
    TRY(rc.put(0, s.info, sizeof s.info));
    int sig = siginfo_signo(s);
    if (s.tid) TRY(rc.must("re-queueing a pending signal", SYS_rt_tgsigqueueinfo, pid, s.tid, sig, rc.at(0)));
    else TRY(rc.must("re-queueing a pending signal", SYS_rt_sigqueueinfo, pid, sig, rc.at(0)));
  }
  return ok();
}
