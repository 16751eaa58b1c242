// ppc64 register set compatibility.
#include "arch.h"

namespace arch {

// The FPR, VMX and VSX sets have one layout on every 64-bit Power CPU with
// those units; a CPU without them has no such register set at all, and reading
// it fails before this is asked.
Err check_regset(const ExtraRegset &set, const uint8_t *img, size_t n, const uint8_t *cur, size_t cur_n) {
  if (n != cur_n)
    return errf("%s register set in the image is %zu bytes, this machine's is %zu", set.name, n, cur_n);
  return ok();
}

}  // namespace arch
