// x86_64: everything chkpt needs to know about this architecture.
// The same set of names exists in every arch/<arch>/arch.h; src/ uses only these.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#include "base.h"
#include "regset.h"

class Tracee;

namespace arch {

constexpr uint16_t kImageArch = 1;  // ImageArch::kArchX86_64 (src/image.h)
constexpr const char *kName = "x86_64";
constexpr bool kBigEndian = false;

// NT_PRSTATUS holds struct user_regs_struct (arch/x86/include/asm/user_64.h),
// including fs_base/gs_base, so TLS travels with the general registers.
using Regs = struct user_regs_struct;
constexpr unsigned kNtPrstatus = 1;

// Register sets saved besides NT_PRSTATUS. NT_X86_XSTATE is the XSAVE area in
// standard format (arch/x86/kernel/fpu/regset.c: xstateregs_get); it covers the
// legacy FPU/SSE state, so NT_PRFPREG is not needed.
constexpr ExtraRegset kExtraRegsets[] = {{0x202 /* NT_X86_XSTATE */, 64 << 10, "xstate"}};

// The syscall instruction injected into or found in the target. Any occurrence of
// these bytes can serve: the tracer stops the thread at syscall exit, before it
// executes anything after them.
constexpr uint8_t kSyscallInsn[] = {0x0f, 0x05};
constexpr size_t kSyscallInsnAlign = 1;

inline uint64_t pc(const Regs &r) { return r.rip; }
inline uint64_t sp(const Regs &r) { return r.rsp; }

// Turn r into "execute syscall nr(args) at insn". orig_rax = -1 keeps the kernel's
// syscall-restart logic (arch/x86/kernel/signal.c) from rewinding our call.
inline void prepare_syscall(Regs &r, uint64_t insn, long nr, const uint64_t a[6]) {
  r.rip = insn;
  r.rax = nr;
  r.orig_rax = (uint64_t)-1;
  r.rdi = a[0];
  r.rsi = a[1];
  r.rdx = a[2];
  r.r10 = a[3];
  r.r8 = a[4];
  r.r9 = a[5];
}
inline int64_t syscall_result(const Regs &r) { return (int64_t)r.rax; }

// The syscall a thread was stopped in (-1 if none) and its return register,
// e.g. -ERESTARTSYS (-512) while the kernel intends to restart it.
inline long interrupted_syscall(const Regs &r) { return (long)r.orig_rax; }
inline long syscall_return(const Regs &r) { return (long)r.rax; }

// Nothing to do on x86_64: the kernel's restart code runs after get_signal()
// returns and reads only registers that travel in NT_PRSTATUS (rax, orig_rax).
inline Err settle_after_freeze(Tracee &) { return ok(); }

// Can an extra register set saved on another CPU be loaded here? `img` is the
// saved blob, `cur` the same set read from a live thread on this machine.
Err check_regset(const ExtraRegset &set, const uint8_t *img, size_t n, const uint8_t *cur, size_t cur_n);

}  // namespace arch
