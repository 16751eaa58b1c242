// ppc64 (little-endian ppc64le, and big-endian ppc64 with the ELFv2 ABI that
// musl requires): this architecture's part of the contract in src/arch_api.h
// (included only from there). Everything else is arch/generic's.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace arch {

constexpr bool kBigEndian = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
constexpr uint16_t kImageArch = kBigEndian ? kArchPpc64 : kArchPpc64le;
constexpr const char *kName = kBigEndian ? "ppc64" : "ppc64le";
// The end of user space: TASK_SIZE_4PB (arch/powerpc/include/asm/task_size_64.h).
constexpr uint64_t kUserSpaceEnd = 1ull << 52;

// NT_PRSTATUS holds struct user_pt_regs (arch/powerpc/include/uapi/asm/ptrace.h),
// padded to ELF_NGREG (48) words. r13 is the TLS pointer. Besides the registers
// it carries what the kernel's syscall-restart code reads: orig_gpr3 (the first
// argument), ccr (CR0.SO = "r3 is an error") and trap (0xc00 = came in by `sc`),
// and all three can be written back (ptrace-view.c: gpr_set, set_user_trap).
struct Regs {
  uint64_t gpr[32];
  uint64_t nip, msr, orig_gpr3, ctr, link, xer, ccr, softe, trap, dar, dsisr, result;
  uint64_t pad[4];
};
constexpr unsigned kNtPrstatus = 1;
constexpr uint64_t kCr0So = 0x10000000;  // CR0[SO] in ccr: the syscall failed, r3 = errno

// Register sets saved besides NT_PRSTATUS (arch/powerpc/kernel/ptrace/ptrace-view.c,
// native_regsets): NT_PRFPREG is fpr0-31 + fpscr (33 words); NT_PPC_VMX is
// vr0-31, vscr and vrsave (34 quadwords); NT_PPC_VSX is the other doubleword
// of vsr0-31 (32 words; vsr32-63 are the VMX registers).
constexpr ExtraRegset kExtraRegsets[] = {
    {2 /* NT_PRFPREG */, 33 * 8, "fpr"}, {0x100 /* NT_PPC_VMX */, 34 * 16, "vmx"}, {0x102 /* NT_PPC_VSX */, 32 * 8, "vsx"}};

// `sc` (0x44000002) in this machine's instruction byte order, 4-byte aligned.
constexpr uint8_t kSyscallInsn[] = {kBigEndian ? 0x44 : 0x02, 0x00, 0x00, kBigEndian ? 0x02 : 0x44};
constexpr size_t kSyscallInsnAlign = 4;

inline uint64_t pc(const Regs &r) { return r.nip; }
inline uint64_t sp(const Regs &r) { return r.gpr[1]; }

// Turn r into "execute syscall nr(args) at insn": number in r0, arguments in
// r3-r8. CR0.SO is cleared so that the kernel's restart check
// (arch/powerpc/kernel/signal.c: check_syscall_restart), which may run on
// these registers before the call, never takes them for an interrupted syscall.
inline void prepare_syscall(Regs &r, uint64_t insn, long nr, const uint64_t a[6]) {
  r.nip = insn;
  r.gpr[0] = (uint64_t)nr;
  for (int i = 0; i < 6; i++) r.gpr[3 + i] = a[i];
  r.ccr &= ~kCr0So;
}
// `sc` returns a positive errno with CR0.SO set (interrupt.c: syscall_exit_prepare).
inline int64_t syscall_result(const Regs &r) {
  return r.ccr & kCr0So ? -(int64_t)r.gpr[3] : (int64_t)r.gpr[3];
}

// The syscall a thread was stopped in (-1 if none) and its return value, e.g.
// -ERESTARTSYS (-512) while the kernel intends to restart it. It came in by
// `sc` (trap 0xc00) or by `scv 0` (trap 0x3000, which returns -errno in r3).
inline uint64_t trap_type(const Regs &r) { return r.trap & ~0x10ull; }  // TRAP(): flag bit 0x10 off
inline long interrupted_syscall(const Regs &r) {
  return trap_type(r) == 0xc00 || trap_type(r) == 0x3000 ? (long)r.gpr[0] : -1;
}
inline long syscall_return(const Regs &r) { return trap_type(r) == 0x3000 ? (long)r.gpr[3] : (long)syscall_result(r); }

}  // namespace arch
