// The architecture contract: everything src/ knows about a CPU architecture,
// and nothing else. src/ includes only this header, never arch/<arch>/ files
// by name, and has no architecture tests (#ifdef __x86_64__ ...).
//
// What an architecture provides (docs/CROSS.md: "Adding an architecture"):
//   arch/<arch>/arch.h    required: the constants, types and inline functions
//                         listed under "arch.h must define" below
//   arch/<arch>/X         optional: overrides arch/generic/X, for each X of
//                         arch/generic/ (the include path and the Makefile
//                         take the arch's file when it has one, musl-style):
//     ksigaction.h        struct sigaction as rt_sigaction(2) takes it, and its
//                         conversion to and from the image's ImageSigaction
//                         (generic: handler, flags, restorer, mask)
//     syscall_restart.h   settle_after_freeze() (generic: nothing to do)
//     regset.cpp          check_regset() (generic: same size loads)
//     sha256.cpp          sha256_blocks_accel() (generic: none, portable code)
// The static_asserts at the end check, at every build, that the arch filled
// the contract in: names, types, signatures, sizes, a known image id.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <type_traits>

#include "base.h"
#include "regset.h"

class Tracee;

// ---- the architectures an image can be for -------------------------------------
// HEADER's u16 arch (docs/FORMAT.md). Part of the image format: never
// renumbered; a new architecture appends its id here and to FORMAT.md. Any
// build knows every id, so `chkpt info` names an image of any architecture.
enum ImageArch : uint16_t { kArchX86_64 = 1, kArchAarch64 = 2, kArchPpc64le = 3, kArchPpc64 = 4 };
constexpr const char *kImageArchNames[] = {nullptr, "x86_64", "aarch64", "ppc64le", "ppc64"};
constexpr uint16_t kNrImageArchs = sizeof kImageArchNames / sizeof *kImageArchNames;
constexpr bool known_image_arch(uint16_t id) { return id > 0 && id < kNrImageArchs; }
constexpr const char *arch_name(uint16_t id) { return known_image_arch(id) ? kImageArchNames[id] : "unknown"; }

// ---- what every architecture's signal disposition holds ------------------------
// The SIGACTS record's fixed form (docs/FORMAT.md), whatever the kernel's
// struct sigaction looks like here: an arch without sa_restorer saves 0.
struct ImageSigaction {
  uint64_t handler = 0, flags = 0, restorer = 0, mask = 0;
};

// ---- the architecture's part ---------------------------------------------------
#include "arch.h"             // arch/<arch>/arch.h
#include "ksigaction.h"       // arch/<arch>/ or arch/generic/
#include "syscall_restart.h"  // arch/<arch>/ or arch/generic/

namespace arch {
// Can an extra register set saved on another CPU be loaded here? `img` is the
// saved blob, `cur` the same set read from a live thread on this machine
// (arch/<arch>/regset.cpp or arch/generic/regset.cpp).
Err check_regset(const ExtraRegset &set, const uint8_t *img, size_t n, const uint8_t *cur, size_t cur_n);
}  // namespace arch
// The CPU's SHA-256 instructions, false without them (src/sha256.h;
// arch/<arch>/sha256.cpp or arch/generic/sha256.cpp).
bool sha256_blocks_accel(uint32_t h[8], const uint8_t *p, size_t n);

// ---- the checks ----------------------------------------------------------------
namespace arch_contract {
template <typename T, typename U> constexpr bool is = std::is_same<T, U>::value;
constexpr bool same_str(const char *a, const char *b) { return *a == *b && (!*a || same_str(a + 1, b + 1)); }

// arch.h must define, in namespace arch:
//   kImageArch, kName, kBigEndian: which ImageArch this is, its name, byte order
static_assert(is<decltype(arch::kImageArch), const uint16_t>, "arch::kImageArch: constexpr uint16_t");
static_assert(known_image_arch(arch::kImageArch), "arch::kImageArch: add the id to ImageArch and docs/FORMAT.md");
static_assert(same_str(arch::kName, arch_name(arch::kImageArch)), "arch::kName must be kImageArchNames[kImageArch]");
static_assert(is<decltype(arch::kBigEndian), const bool>, "arch::kBigEndian: constexpr bool");
static_assert(arch::kBigEndian == (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__), "arch::kBigEndian: the compiler's byte order");
//   kUserSpaceEnd: no user mapping reaches above it (TASK_SIZE)
static_assert(is<decltype(arch::kUserSpaceEnd), const uint64_t>, "arch::kUserSpaceEnd: constexpr uint64_t");
static_assert(arch::kUserSpaceEnd >= (1ull << 38) && arch::kUserSpaceEnd <= (1ull << 57), "arch::kUserSpaceEnd: 38 to 57 bits");
//   Regs, kNtPrstatus: the general registers as PTRACE_GETREGSET NT_PRSTATUS
//   gives them; saved as a blob in THREAD, so plain bytes of fixed size
static_assert(std::is_trivially_copyable<arch::Regs>::value, "arch::Regs: plain data (saved as bytes)");
static_assert(sizeof(arch::Regs) % 8 == 0 && sizeof(arch::Regs) <= 4096, "arch::Regs: whole 64-bit words");
static_assert(alignof(arch::Regs) <= 16, "arch::Regs: alignment");
static_assert(arch::kNtPrstatus == 1, "arch::kNtPrstatus: NT_PRSTATUS (include/uapi/linux/elf.h)");
//   kExtraRegsets: the other register sets to save (regset.h), at least one
static_assert(std::extent<decltype(arch::kExtraRegsets)>::value >= 1, "arch::kExtraRegsets: an array");
static_assert(std::extent<decltype(arch::kExtraRegsets)>::value <= 16, "arch::kExtraRegsets: at most 16");
static_assert(is<std::remove_extent<decltype(arch::kExtraRegsets)>::type, const arch::ExtraRegset>,
              "arch::kExtraRegsets: constexpr ExtraRegset[]");
constexpr bool regsets_fit(size_t i = 0) {
  return i == std::extent<decltype(arch::kExtraRegsets)>::value ||
         (arch::kExtraRegsets[i].max_size > 0 && arch::kExtraRegsets[i].max_size <= (1u << 20) &&
          arch::kExtraRegsets[i].nt != arch::kNtPrstatus && regsets_fit(i + 1));
}
static_assert(regsets_fit(), "arch::kExtraRegsets: each 1 byte to 1 MiB, none NT_PRSTATUS");
//   kSyscallInsn, kSyscallInsnAlign: the syscall instruction's bytes as they
//   lie in memory, and where it may start
static_assert(is<std::remove_extent<decltype(arch::kSyscallInsn)>::type, const uint8_t>, "arch::kSyscallInsn: uint8_t[]");
static_assert(sizeof arch::kSyscallInsn >= 1 && sizeof arch::kSyscallInsn <= 16, "arch::kSyscallInsn: 1 to 16 bytes");
static_assert(is<decltype(arch::kSyscallInsnAlign), const size_t>, "arch::kSyscallInsnAlign: constexpr size_t");
static_assert(arch::kSyscallInsnAlign && !(arch::kSyscallInsnAlign & (arch::kSyscallInsnAlign - 1)) &&
                  sizeof arch::kSyscallInsn % arch::kSyscallInsnAlign == 0,
              "arch::kSyscallInsnAlign: a power of two that divides the instruction's size");
//   pc, sp: from Regs; prepare_syscall: make Regs "run syscall nr(a[0..5]) at
//   insn"; syscall_result: its return value, -errno on failure
static_assert(is<decltype(&arch::pc), uint64_t (*)(const arch::Regs &)>, "uint64_t arch::pc(const Regs &)");
static_assert(is<decltype(&arch::sp), uint64_t (*)(const arch::Regs &)>, "uint64_t arch::sp(const Regs &)");
static_assert(is<decltype(&arch::prepare_syscall), void (*)(arch::Regs &, uint64_t, long, const uint64_t *)>,
              "void arch::prepare_syscall(Regs &, uint64_t insn, long nr, const uint64_t a[6])");
static_assert(is<decltype(&arch::syscall_result), int64_t (*)(const arch::Regs &)>,
              "int64_t arch::syscall_result(const Regs &)");

// ksigaction.h must define arch::KSigaction (read and written in the target's
// scratch memory and passed to rt_sigaction, whose sigsetsize is the size of
// its mask) and the two conversions.
static_assert(std::is_trivially_copyable<arch::KSigaction>::value, "arch::KSigaction: plain data");
static_assert(sizeof(arch::KSigaction) <= 64 && alignof(arch::KSigaction) <= 8, "arch::KSigaction: small");
static_assert(sizeof(arch::KSigaction::mask) == 8, "arch::KSigaction::mask: 64 signals (kNrSignals)");
static_assert(is<decltype(&arch::sigaction_to_image), void (*)(const arch::KSigaction &, ImageSigaction *)>,
              "void arch::sigaction_to_image(const KSigaction &, ImageSigaction *)");
static_assert(is<decltype(&arch::sigaction_from_image), void (*)(const ImageSigaction &, arch::KSigaction *)>,
              "void arch::sigaction_from_image(const ImageSigaction &, KSigaction *)");

// syscall_restart.h must declare or define Err arch::settle_after_freeze(Tracee &).
static_assert(is<decltype(&arch::settle_after_freeze), Err (*)(Tracee &)>, "Err arch::settle_after_freeze(Tracee &)");
}  // namespace arch_contract
