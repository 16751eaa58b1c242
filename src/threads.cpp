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
#include "remote.h"

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

Err dump_altstack(Remote &rc, ThreadRec *out) {
  TRY(rc.must("sigaltstack", SYS_sigaltstack, 0, rc.at(0)));
  KStack ss;
  TRY(rc.get(0, &ss, sizeof ss));
  out->altstack_sp = ss.sp;
  out->altstack_size = ss.size;
  out->altstack_flags = (uint32_t)ss.flags & ~(uint32_t)SS_ONSTACK;  // SS_ONSTACK is derived from sp, not set
  return ok();
}
}  // namespace

// Registers are read before anything is injected (inject_begin saves its own copy).
Err dump_thread(Tracee &t, ThreadRec *out) {
  out->tid = t.tid();
  TRY(t.get_regs(&out->regs));
  TRY(dump_extra_regsets(t, out));
  TRY(t.get_sigmask(&out->sigmask));
  TRY(dump_rseq(t, out));
  return ok();
}

// clear_child_tid (set_tid_address) is readable only by the thread itself:
// prctl(PR_GET_TID_ADDRESS) (kernel/sys.c, CONFIG_CHECKPOINT_RESTORE).
Err dump_tid_address(Remote &rc, ThreadRec *out) {
  TRY(rc.must("PR_GET_TID_ADDRESS", SYS_prctl, 40 /* PR_GET_TID_ADDRESS */, rc.at(0)));
  return rc.get(0, &out->tid_address, sizeof out->tid_address);
}

Err dump_thread_injected(Remote &rc, ThreadRec *out) {
  TRY(dump_altstack(rc, out));
  TRY(dump_tid_address(rc, out));
  // get_robust_list(2) works from outside for a tracer.
  size_t len = 0;
  uint64_t head = 0;
  if (syscall(SYS_get_robust_list, rc.tid(), &head, &len) < 0) return sys_err("get_robust_list %d", rc.tid());
  out->robust_list = head;
  out->robust_len = len;
  return ok();
}

// The state a thread sets about itself, by injection in that (stopped) thread:
// alternate stack, clear_child_tid, robust futex list, rseq.
Err restore_thread_self(Remote &rc, const ThreadRec &th) {
  KStack ss = {th.altstack_sp, (int32_t)th.altstack_flags, 0, th.altstack_size};
  TRY(rc.put(0, &ss, sizeof ss));
  TRY(rc.must("sigaltstack", SYS_sigaltstack, rc.at(0), 0));
  int64_t r;
  TRY(rc.call(SYS_set_tid_address, &r, th.tid_address));
  if (th.robust_list) TRY(rc.must("set_robust_list", SYS_set_robust_list, th.robust_list, th.robust_len));
  // The kernel writes the cpu fields of the rseq area on registration, so this
  // runs once the memory is back.
  if (th.rseq_ptr) TRY(rc.must("rseq registration", SYS_rseq, th.rseq_ptr, th.rseq_len, 0, th.rseq_sig));
  return ok();
}

// A new thread of the process with its saved TID: clone3 with set_tid, injected
// into the main thread. It starts at the gadget, stopped and traced
// (PTRACE_O_TRACECLONE); its registers are loaded before it runs anything.
Err create_thread(Remote &main, int tid) {
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
  } args = {};
  args.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
  uint64_t want = (uint64_t)tid;
  args.set_tid = main.at(sizeof args);
  args.set_tid_size = 1;
  TRY(main.put(0, &args, sizeof args));
  TRY(main.put(sizeof args, &want, sizeof want));
  int64_t r;
  TRY(main.call(SYS_clone3, &r, main.at(0), sizeof args));
  if (r == -EEXIST) return errk(ErrKind::InUse, "thread ID %d is in use", tid);
  if (r != tid) return errf("creating thread %d: %s", tid, r < 0 ? strerror((int)-r) : "got another ID");
  Tracee t(tid);
  return t.wait_event_stop();
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
