// The shape of an architecture's table of register sets saved besides
// NT_PRSTATUS (arch/<arch>/arch.h: kExtraRegsets; the contract is src/arch_api.h), read with PTRACE_GETREGSET.
#pragma once
#include <stdint.h>

namespace arch {
struct ExtraRegset {
  unsigned nt;        // the regset's note type (include/uapi/linux/elf.h)
  uint32_t max_size;  // bytes: the buffer offered to PTRACE_GETREGSET
  const char *name;
  // Absent on CPUs without the feature: saved empty there, and an image that
  // holds it is refused on such a CPU.
  bool optional = false;
};
}  // namespace arch
