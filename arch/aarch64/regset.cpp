// aarch64 register set compatibility.
#include "arch_api.h"

namespace arch {

// FPSIMD has one layout on every arm64 CPU; the TLS set grows by tpidr2_el0
// with SME. A set no larger than this kernel's loads (the rest stays zero).
Err check_regset(const ExtraRegset &set, const uint8_t *img, size_t n, const uint8_t *cur, size_t cur_n) {
  if (n == 0 || n > cur_n)
    return errf("%s register set in the image is %zu bytes, this machine's is %zu", set.name, n, cur_n);
  return ok();
}

}  // namespace arch
