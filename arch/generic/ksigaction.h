// struct sigaction as the rt_sigaction syscall takes it on an architecture
// whose kernel has sa_restorer (__ARCH_HAS_SA_RESTORER: x86_64, aarch64,
// ppc64): include/linux/signal_types.h, struct sigaction {handler, flags,
// restorer, mask}, copied as it is by kernel/signal.c: SYSCALL_DEFINE4(rt_sigaction).
// An architecture without the field (riscv64) provides its own
// arch/<arch>/ksigaction.h, and saves restorer as 0.
#pragma once
#include <stdint.h>

namespace arch {
struct KSigaction {
  uint64_t handler, flags, restorer, mask;
};

inline void sigaction_to_image(const KSigaction &k, ImageSigaction *out) {
  out->handler = k.handler;
  out->flags = k.flags;
  out->restorer = k.restorer;
  out->mask = k.mask;
}
inline void sigaction_from_image(const ImageSigaction &a, KSigaction *out) {
  *out = KSigaction{a.handler, a.flags, a.restorer, a.mask};
}
}  // namespace arch
