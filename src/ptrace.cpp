#include "ptrace.h"
#include "procfs.h"

#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace {
// From include/uapi/linux/ptrace.h; musl's headers may lack the newer ones.
constexpr int kPtraceSeize = 0x4206, kPtraceInterrupt = 0x4207;
constexpr int kPtraceGetSigmask = 0x420a, kPtraceSetSigmask = 0x420b;
constexpr int kPtracePeekSiginfo = 0x4209;
constexpr int kPeekShared = 1;
constexpr int kOptTraceSysGood = 1, kOptTraceClone = 8;
constexpr int kEventClone = 3;
constexpr int kEventStop = 128;

long pt(int req, int tid, uint64_t addr, uint64_t data) {
  return ptrace(req, tid, (void *)addr, (void *)data);
}
bool is_event_stop(int status) { return WIFSTOPPED(status) && (status >> 16) == kEventStop; }
bool is_syscall_stop(int status) { return WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80); }
}  // namespace

Err Tracee::wait_stop(int *status) {
  for (;;) {
    pid_t r = waitpid(tid_, status, __WALL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys_err("waitpid %d", tid_);
    if (WIFEXITED(*status)) return errf("process %d exited (status %d)", tid_, WEXITSTATUS(*status));
    if (WIFSIGNALED(*status)) return errf("process %d was killed by signal %d", tid_, WTERMSIG(*status));
    return ok();
  }
}

Err Tracee::seize_and_freeze() {
  if (pt(kPtraceSeize, tid_, 0, kOptTraceSysGood) < 0) {
    if (errno == EPERM) return errk(ErrKind::NotPermitted, "not permitted to trace process %d (ptrace: %s)", tid_, strerror(EPERM));
    return sys_err("cannot trace process %d", tid_);
  }
  TRY(interrupt_and_wait());
  return arch::settle_after_freeze(*this);
}

Err Tracee::interrupt_and_wait() {
  if (pt(kPtraceInterrupt, tid_, 0, 0) < 0) return sys_err("PTRACE_INTERRUPT %d", tid_);
  for (;;) {
    int st;
    TRY(wait_stop(&st));
    if (is_event_stop(st)) return ok();
    // A signal-delivery-stop came first: let the signal through untouched and
    // wait for our interrupt to take effect.
    if (pt(PTRACE_CONT, tid_, 0, WSTOPSIG(st)) < 0) return sys_err("PTRACE_CONT %d", tid_);
  }
}

Err Tracee::seize_child() {
  if (pt(kPtraceSeize, tid_, 0, kOptTraceSysGood) < 0) return sys_err("cannot trace restored process %d", tid_);
  return ok();
}

Err Tracee::wait_self_stop() {
  int st;
  TRY(wait_stop(&st));
  if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) return errf("restored process %d: unexpected stop 0x%x", tid_, st);
  return ok();
}

Err Tracee::cont() {
  if (pt(PTRACE_CONT, tid_, 0, 0) < 0) return sys_err("PTRACE_CONT %d", tid_);
  return ok();
}

Err Tracee::wait_event_stop() {
  int st;
  TRY(wait_stop(&st));
  if (!is_event_stop(st)) return errf("thread %d: unexpected first stop 0x%x", tid_, st);
  return ok();
}

Err Tracee::trace_clones() {
  if (pt(PTRACE_SETOPTIONS, tid_, 0, kOptTraceSysGood | kOptTraceClone) < 0) return sys_err("PTRACE_SETOPTIONS %d", tid_);
  return ok();
}

Err Tracee::detach(int sig) {
  if (sig && kill(tid_, sig) < 0) return sys_err("kill %d", tid_);  // pending; acted on after detach
  if (pt(PTRACE_DETACH, tid_, 0, 0) == 0) return ok();
  // ESRCH: not in a ptrace-stop; a thread killed meanwhile (SIGKILL ends the
  // stop, and the thread a moment later) has nothing left to release.
  int saved = errno;
  for (int ms = 0; saved == ESRCH && ms < 100; ms++) {
    if (!process_alive(tid_)) return ok();
    struct timespec one = {0, 1000000};
    nanosleep(&one, nullptr);
  }
  errno = saved;
  return sys_err("PTRACE_DETACH %d", tid_);
}

Err Tracee::get_regs(arch::Regs *r) {
  uint32_t len;
  TRY(get_regset(arch::kNtPrstatus, reinterpret_cast<uint8_t *>(r), sizeof *r, &len));
  if (len != sizeof *r) return errf("NT_PRSTATUS of %d: %u bytes, expected %zu", tid_, len, sizeof *r);
  return ok();
}

Err Tracee::set_regs(const arch::Regs &r) {
  return set_regset(arch::kNtPrstatus, reinterpret_cast<const uint8_t *>(&r), sizeof r);
}

Err Tracee::get_regset(unsigned nt, uint8_t *buf, uint32_t cap, uint32_t *len) {
  struct iovec iov = {buf, cap};
  if (pt(PTRACE_GETREGSET, tid_, nt, (uint64_t)&iov) < 0) return sys_err("PTRACE_GETREGSET 0x%x of %d", nt, tid_);
  *len = (uint32_t)iov.iov_len;
  return ok();
}

Err Tracee::set_regset(unsigned nt, const uint8_t *buf, uint32_t len) {
  struct iovec iov = {const_cast<uint8_t *>(buf), len};
  if (pt(PTRACE_SETREGSET, tid_, nt, (uint64_t)&iov) < 0) return sys_err("PTRACE_SETREGSET 0x%x of %d", nt, tid_);
  return ok();
}

Err Tracee::get_sigmask(uint64_t *mask) {
  if (pt(kPtraceGetSigmask, tid_, sizeof *mask, (uint64_t)mask) < 0) return sys_err("PTRACE_GETSIGMASK %d", tid_);
  return ok();
}

Err Tracee::set_sigmask(uint64_t mask) {
  if (pt(kPtraceSetSigmask, tid_, sizeof mask, (uint64_t)&mask) < 0) return sys_err("PTRACE_SETSIGMASK %d", tid_);
  return ok();
}

Err Tracee::peek_siginfo(bool shared, Vec<SiginfoRec> *out) {
  struct { uint64_t off; uint32_t flags; int32_t nr; } args = {0, shared ? (uint32_t)kPeekShared : 0u, 1};
  for (;; args.off++) {
    SiginfoRec s;
    s.tid = shared ? 0 : tid_;
    long n = pt(kPtracePeekSiginfo, tid_, (uint64_t)&args, (uint64_t)s.info);
    if (n < 0) return sys_err("PTRACE_PEEKSIGINFO %d", tid_);
    if (n == 0) return ok();
    out->push(s);
  }
}

// ---- injection -------------------------------------------------------------

Err Tracee::inject_begin(uint64_t insn) {
  TRY(get_regs(&saved_));
  TRY(get_sigmask(&saved_mask_));
  TRY(set_sigmask(~0ull));
  insn_ = insn;
  injecting_ = true;
  stop_arrived_ = false;
  return ok();
}

// Run the thread to its next syscall stop. Only SIGKILL and SIGSTOP ignore the
// blocked mask: a SIGSTOP is remembered and re-sent, never lost.
Err Tracee::step_syscall(const char *phase) {
  int sig = 0;
  for (;;) {
    if (pt(PTRACE_SYSCALL, tid_, 0, sig) < 0) return sys_err("PTRACE_SYSCALL %d", tid_);
    int st;
    TRY(wait_stop(&st));
    if (is_syscall_stop(st)) return ok();
    if (is_event_stop(st)) { sig = 0; continue; }  // group stop while injecting: carry on
    if ((st >> 16) == kEventClone) { sig = 0; continue; }  // an injected clone3 made a thread
    if (WSTOPSIG(st) == SIGSTOP) { stop_arrived_ = true; sig = 0; continue; }
    return errf("process %d: unexpected signal %d during injected syscall (%s)", tid_, WSTOPSIG(st), phase);
  }
}

Err Tracee::syscall(long nr, int64_t *ret, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                    uint64_t a5) {
  if (!injecting_) return errf("internal: syscall injection not started");
  arch::Regs r = saved_;
  const uint64_t args[6] = {a0, a1, a2, a3, a4, a5};
  arch::prepare_syscall(r, insn_, nr, args);
  TRY(set_regs(r));
  TRY(step_syscall("entry"));
  TRY(step_syscall("exit"));
  TRY(get_regs(&r));
  *ret = arch::syscall_result(r);
  return ok();
}

Err Tracee::inject_end() {
  injecting_ = false;
  return resume_with(saved_, saved_mask_);
}

Err Tracee::resume_with(const arch::Regs &final_regs, uint64_t mask) {
  injecting_ = false;
  // From a syscall-exit stop: PTRACE_INTERRUPT queues a trap that the thread
  // takes in get_signal() as soon as it runs (kernel/signal.c: do_jobctl_trap).
  // The registers are loaded at that stop, not at the syscall stop: the restart
  // code runs on them after get_signal() returns, and some arches do not take
  // every register written at a syscall stop (arm64 puts x7 back:
  // arch/arm64/kernel/ptrace.c, report_syscall).
  if (pt(kPtraceInterrupt, tid_, 0, 0) < 0) return sys_err("PTRACE_INTERRUPT %d", tid_);
  int sig = 0;
  for (;;) {
    if (pt(PTRACE_CONT, tid_, 0, sig) < 0) return sys_err("PTRACE_CONT %d", tid_);
    int st;
    TRY(wait_stop(&st));
    if (is_event_stop(st)) break;
    sig = WSTOPSIG(st);  // only SIGSTOP gets past the all-blocked mask: deliver it
  }
  TRY(set_regs(final_regs));
  TRY(set_sigmask(mask));
  if (stop_arrived_ && kill(tid_, SIGSTOP) < 0) return sys_err("re-sending SIGSTOP to %d", tid_);
  return ok();
}
