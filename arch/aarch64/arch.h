// aarch64: this architecture's part of the contract in src/arch_api.h (included
// only from there). Overrides arch/generic/syscall_restart.h, regset.cpp and
// sha256.cpp (ARMv8 SHA2).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace arch {

constexpr uint16_t kImageArch = kArchAarch64;
constexpr const char *kName = "aarch64";
constexpr bool kBigEndian = false;
// The end of user space with 48-bit virtual addresses (Debian's VA_BITS; a
// 52-bit kernel maps above it only on request: arch/arm64/include/asm/processor.h).
constexpr uint64_t kUserSpaceEnd = 1ull << 48;

// NT_PRSTATUS holds struct user_pt_regs (arch/arm64/include/uapi/asm/ptrace.h).
// TLS (tpidr_el0) is not in it: it is the NT_ARM_TLS set below.
struct Regs {
  uint64_t x[31];
  uint64_t sp, pc, pstate;
};
constexpr unsigned kNtPrstatus = 1;

// Register sets saved besides NT_PRSTATUS (arch/arm64/kernel/ptrace.c, aarch64_regsets):
// NT_PRFPREG is struct user_fpsimd_state (v0-v31, fpsr, fpcr: 528 bytes); NT_ARM_TLS is
// tpidr_el0, followed by tpidr2_el0 on kernels that know SME (8 or 16 bytes).
// With pointer authentication, the process's keys (NT_ARM_PACA_KEYS: APIA, APIB,
// APDA, APDB; NT_ARM_PACG_KEYS: APGA; 128 bits each) and which of them are on
// (NT_ARM_PAC_ENABLED_KEYS): keys are made anew at exec, and return addresses
// signed before the checkpoint only authenticate with the same keys.
constexpr ExtraRegset kExtraRegsets[] = {
    {2 /* NT_PRFPREG */, 528, "fpsimd"},
    {0x401 /* NT_ARM_TLS */, 16, "tls"},
    {0x407 /* NT_ARM_PACA_KEYS */, 64, "pointer authentication address key", true},
    {0x408 /* NT_ARM_PACG_KEYS */, 16, "pointer authentication generic key", true},
    {0x40a /* NT_ARM_PAC_ENABLED_KEYS */, 8, "pointer authentication enabled keys", true}};

// `svc #0` (0xd4000001). A64 instructions are little-endian whatever the data
// byte order, and 4-byte aligned.
constexpr uint8_t kSyscallInsn[] = {0x01, 0x00, 0x00, 0xd4};
constexpr size_t kSyscallInsnAlign = 4;

inline uint64_t pc(const Regs &r) { return r.pc; }
inline uint64_t sp(const Regs &r) { return r.sp; }

// Turn r into "execute syscall nr(args) at insn": number in x8, arguments in
// x0-x5 (arch/arm64/kernel/syscall.c: el0_svc_common, invoke_syscall).
inline void prepare_syscall(Regs &r, uint64_t insn, long nr, const uint64_t a[6]) {
  r.pc = insn;
  r.x[8] = (uint64_t)nr;
  for (int i = 0; i < 6; i++) r.x[i] = a[i];
}
inline int64_t syscall_result(const Regs &r) { return (int64_t)r.x[0]; }

}  // namespace arch
