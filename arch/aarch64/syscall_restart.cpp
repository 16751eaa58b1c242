// aarch64: settling a frozen thread's interrupted syscall (syscall_restart.h).
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>

#include "arch_api.h"
#include "ptrace.h"

namespace arch {
namespace {
constexpr unsigned kNtArmSystemCall = 0x404;  // the syscall number (int), settable
constexpr uint32_t kSvc0 = 0xd4000001;

// Is the instruction at pc `svc #0`? The aligned 8-byte word holding it is read,
// so the read never crosses into the next page.
Err insn_is_svc(int tid, uint64_t pc, bool *yes) {
  errno = 0;
  long w = ptrace(PTRACE_PEEKTEXT, tid, (void *)(pc & ~7ull), nullptr);
  if (errno) return sys_err("reading the instruction at 0x%llx of %d", (unsigned long long)pc, tid);
  uint32_t insn = (uint32_t)((uint64_t)w >> (pc & 4 ? 32 : 0));  // little-endian
  *yes = insn == kSvc0;
  return ok();
}

Err syscall_nr(Tracee &t, int32_t *nr) {
  uint32_t len;
  TRY(t.get_regset(kNtArmSystemCall, reinterpret_cast<uint8_t *>(nr), sizeof *nr, &len));
  return len == sizeof *nr ? ok() : errf("NT_ARM_SYSTEM_CALL of %d: %u bytes", t.tid(), len);
}

// The thread is frozen with pc on an svc and every signal blocked; r are its
// registers, mask its own signal mask.
Err settle_at_svc(Tracee &t, Regs r, uint64_t mask) {
  TRY(t.step_syscall("restart"));
  Regs entry;
  TRY(t.get_regs(&entry));
  if (entry.pc != r.pc + 4)
    return errf("process %d: syscall entry at 0x%llx, expected 0x%llx", t.tid(), (unsigned long long)entry.pc,
                (unsigned long long)r.pc + 4);
  int32_t nr;
  TRY(syscall_nr(t, &nr));
  r.x[8] = (uint64_t)(int64_t)nr;
  const int32_t cancel = -1;
  TRY(t.set_regset(kNtArmSystemCall, reinterpret_cast<const uint8_t *>(&cancel), sizeof cancel));
  TRY(t.step_syscall("cancelled restart"));
  return t.resume_with(r, mask);
}
}  // namespace

// At the freeze stop, do_signal() (arch/arm64/kernel/signal.c) has already
// rewound a syscall that returned -ERESTART*: pc is on the svc and x0 holds
// orig_x0 again, "so that a debugger will see the already changed PC". Whether
// it was -ERESTART_RESTARTBLOCK, to be resumed through restart_syscall (the
// rest of a nanosleep, a poll's remaining timeout), is only in that function's
// locals, acted on when get_signal() returns, and only if pc is still the one
// it rewound to. Injected syscalls would lose it. So when pc is on an svc, let
// the thread take it up to its syscall-entry stop, with every signal blocked:
// x8 there is what the thread really enters. The entry is cancelled (syscall
// number -1: arch/arm64/kernel/syscall.c, el0_svc_common), and the thread goes
// back to an interrupt stop with the registers of the freeze but that x8. x7
// is taken from the freeze stop: at syscall stops arm64 shows 0/1 in x7
// (arch/arm64/kernel/ptrace.c: report_syscall). A thread that was about to run
// an svc in user mode, not in a syscall, takes the same path and loses nothing.
Err settle_after_freeze(Tracee &t) {
  Regs r;
  TRY(t.get_regs(&r));
  bool at_svc = false;
  TRY(insn_is_svc(t.tid(), r.pc, &at_svc));
  if (!at_svc) return ok();
  uint64_t mask;
  TRY(t.get_sigmask(&mask));
  TRY(t.set_sigmask(~0ull));
  Err e = settle_at_svc(t, r, mask);
  if (e) (void)t.set_sigmask(mask);  // best effort: never leave the thread with everything blocked
  return e;
}

}  // namespace arch
