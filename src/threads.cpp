// Per-thread state: general registers (NT_PRSTATUS, with TLS), the arch's extra
// register sets (XSAVE, FPSIMD, ...), signal mask, alternate signal stack and the
// rseq registration (glibc >= 2.35 registers one per thread).
#include <errno.h>
#include <signal.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "process.h"

namespace {
constexpr int kPtraceGetRseqConfiguration = 0x420f;  // include/uapi/linux/ptrace.h
struct RseqConfig {
  uint64_t rseq_abi_pointer;
  uint32_t rseq_abi_size, signature, flags, pad;
};
struct KStack {  // stack_t (include/uapi/asm-generic/signal.h)
  uint64_t sp;
  int32_t flags, pad;
  uint64_t size;
};
constexpr size_t kNrExtra = sizeof arch::kExtraRegsets / sizeof arch::kExtraRegsets[0];

Err dump_extra_regsets(Tracee &t, ThreadRec *out) {
  for (size_t i = 0; i < kNrExtra; i++) {
    const arch::ExtraRegset &set = arch::kExtraRegsets[i];
    RegsetBlob &b = out->extra[i];
    b.nt = set.nt;
    b.data = static_cast<uint8_t *>(malloc(set.max_size));
    if (!b.data) return errf("out of memory");
    Err e = t.get_regset(set.nt, b.data, set.max_size, &b.len);
    if (e && set.optional) b.len = 0;  // this CPU lacks the feature: saved empty
    else TRY(e);
  }
  return ok();
}

Err dump_rseq(Tracee &t, ThreadRec *out) {
  RseqConfig c = {};
  long n = ptrace(kPtraceGetRseqConfiguration, t.tid(), (void *)sizeof c, &c);
  if (n < 0) return errno == EIO || errno == EINVAL ? ok() : sys_err("PTRACE_GET_RSEQ_CONFIGURATION");
  out->rseq_ptr = c.rseq_abi_pointer;
  out->rseq_len = c.rseq_abi_size;
  out->rseq_sig = c.signature;
  return ok();
}

Err dump_altstack(Tracee &t, const ProcMem &mem, const Gadget &g, ThreadRec *out) {
  int64_t r;
  TRY(t.syscall(SYS_sigaltstack, &r, 0, g.scratch));
  if (r < 0) return errf("sigaltstack in the target: %s", strerror((int)-r));
  KStack ss;
  TRY(mem.read(g.scratch, &ss, sizeof ss));
  out->altstack_sp = ss.sp;
  out->altstack_size = ss.size;
  out->altstack_flags = (uint32_t)ss.flags & ~(uint32_t)SS_ONSTACK;  // SS_ONSTACK is derived from sp, not set
  return ok();
}
}  // namespace

// Registers are read before anything is injected (inject_begin saves its own copy).
Err dump_thread(Tracee &t, const ProcMem &mem, const Gadget &g, ThreadRec *out) {
  out->tid = t.tid();
  TRY(t.get_regs(&out->regs));
  TRY(dump_extra_regsets(t, out));
  TRY(t.get_sigmask(&out->sigmask));
  TRY(dump_rseq(t, out));
  return ok();
}

// clear_child_tid (set_tid_address) is readable only by the thread itself:
// prctl(PR_GET_TID_ADDRESS) (kernel/sys.c, CONFIG_CHECKPOINT_RESTORE).
Err dump_tid_address(Tracee &t, const ProcMem &mem, const Gadget &g, ThreadRec *out) {
  int64_t r;
  TRY(t.syscall(SYS_prctl, &r, 40 /* PR_GET_TID_ADDRESS */, g.scratch));
  if (r < 0) return errf("PR_GET_TID_ADDRESS in thread %d: %s", t.tid(), strerror((int)-r));
  return mem.read(g.scratch, &out->tid_address, sizeof out->tid_address);
}

Err dump_thread_injected(Tracee &t, const ProcMem &mem, const Gadget &g, ThreadRec *out) {
  TRY(dump_altstack(t, mem, g, out));
  TRY(dump_tid_address(t, mem, g, out));
  // get_robust_list(2) works from outside for a tracer.
  size_t len = 0;
  uint64_t head = 0;
  if (syscall(SYS_get_robust_list, t.tid(), &head, &len) < 0) return sys_err("get_robust_list %d", t.tid());
  out->robust_list = head;
  out->robust_len = len;
  return ok();
}

// The state a thread sets about itself, by injection in that (stopped) thread:
// alternate stack, clear_child_tid, robust futex list, rseq.
Err restore_thread_self(Tracee &t, const ProcMem &mem, const Gadget &g, const ThreadRec &th) {
  KStack ss = {th.altstack_sp, (int32_t)th.altstack_flags, 0, th.altstack_size};
  TRY(mem.write(g.scratch, &ss, sizeof ss));
  int64_t r;
  TRY(t.syscall(SYS_sigaltstack, &r, g.scratch, 0));
  if (r < 0) return errf("sigaltstack of thread %d: %s", th.tid, strerror((int)-r));
  TRY(t.syscall(SYS_set_tid_address, &r, th.tid_address));
  if (th.robust_list) {
    TRY(t.syscall(SYS_set_robust_list, &r, th.robust_list, th.robust_len));
    if (r < 0) return errf("set_robust_list of thread %d: %s", th.tid, strerror((int)-r));
  }
  return restore_rseq(t, th);
}

// A new thread of the process with its saved TID: clone3 with set_tid, injected
// into the main thread. It starts at the gadget, stopped and traced
// (PTRACE_O_TRACECLONE); its registers are loaded before it runs anything.
Err create_thread(Tracee &main, const ProcMem &mem, const Gadget &g, int tid) {
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
  } args = {};
  args.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
  uint64_t want = (uint64_t)tid;
  const uint64_t args_at = g.scratch, tid_at = g.scratch + sizeof args;
  args.set_tid = tid_at;
  args.set_tid_size = 1;
  TRY(mem.write(args_at, &args, sizeof args));
  TRY(mem.write(tid_at, &want, sizeof want));
  int64_t r;
  TRY(main.syscall(SYS_clone3, &r, args_at, sizeof args));
  if (r == -EEXIST) return errk(ErrKind::InUse, "thread ID %d is in use", tid);
  if (r != tid) return errf("creating thread %d: %s", tid, r < 0 ? strerror((int)-r) : "got another ID");
  Tracee t(tid);
  return t.wait_event_stop();
}

// The kernel writes the cpu fields of the area on registration, so this runs
// once the memory is back.
Err restore_rseq(Tracee &t, const ThreadRec &th) {
  if (!th.rseq_ptr) return ok();
  int64_t r;
  TRY(t.syscall(SYS_rseq, &r, th.rseq_ptr, th.rseq_len, 0, th.rseq_sig));
  if (r < 0) return errf("rseq registration of thread %d: %s", th.tid, strerror((int)-r));
  return ok();
}

// Refuse early (before anything is torn down) if this CPU cannot take the state.
Err check_thread_regsets(Tracee &t, const ThreadRec &th) {
  for (size_t i = 0; i < kNrExtra; i++) {
    const arch::ExtraRegset &set = arch::kExtraRegsets[i];
    if (set.optional && !th.extra[i].len) continue;  // not saved: nothing to load
    uint8_t *buf = static_cast<uint8_t *>(malloc(set.max_size));
    if (!buf) return errf("out of memory");
    uint32_t len = 0;
    Err e = t.get_regset(set.nt, buf, set.max_size, &len);
    if (e && set.optional) e = errf("the image holds %s registers, which this CPU does not have", set.name);
    else if (!e) e = arch::check_regset(set, th.extra[i].data, th.extra[i].len, buf, len);
    free(buf);
    TRY(e);
  }
  return ok();
}

Err restore_thread_regs(Tracee &t, const ThreadRec &th) {
  for (size_t i = 0; i < kNrExtra; i++)
    if (arch::kExtraRegsets[i].optional && !th.extra[i].len) continue;  // the CPU had none
    else if (Err e = t.set_regset(th.extra[i].nt, th.extra[i].data, th.extra[i].len))
      return wrap(e, "loading %s registers", arch::kExtraRegsets[i].name);
  return ok();
}
