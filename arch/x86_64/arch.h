// x86_64: this architecture's part of the contract in src/arch_api.h (included
// only from there). Overrides arch/generic/regset.cpp (XSAVE features) and
// sha256.cpp (SHA-NI).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

namespace arch {

constexpr uint16_t kImageArch = kArchX86_64;
constexpr const char *kName = "x86_64";
constexpr bool kBigEndian = false;
// The end of user space: TASK_SIZE_MAX with 4-level page tables
// (arch/x86/include/asm/page_64_types.h). Mappings above it (5-level paging
// hands them out only to who asks) are refused as bad images.
constexpr uint64_t kUserSpaceEnd = 1ull << 47;

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

}  // namespace arch
