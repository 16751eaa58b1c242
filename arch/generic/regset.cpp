// Register set compatibility where a set has one layout on every CPU of the
// architecture that has it at all (ppc64: FPR, VMX, VSX; a CPU without such a
// unit has no such set, and reading it fails before this is asked): a blob
// loads if it has this machine's size.
#include "arch_api.h"

namespace arch {

Err check_regset(const ExtraRegset &set, const uint8_t *img, size_t n, const uint8_t *cur, size_t cur_n) {
  if (n != cur_n)
    return errf("%s register set in the image is %zu bytes, this machine's is %zu", set.name, n, cur_n);
  return ok();
}

}  // namespace arch
