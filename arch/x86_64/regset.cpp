// x86_64 CPU state compatibility: an XSAVE image may only be loaded on a CPU
// whose enabled features (XCR0) include every component the image holds.
#include "arch_api.h"
#include "codec.h"

namespace arch {
namespace {
// Standard-format XSAVE area (Intel SDM vol. 1, 13.4): the XSAVE header's
// XSTATE_BV, the components actually holding state, is at byte 512.
constexpr size_t kXstateBv = 512;

// XCR0: the state components this CPU and kernel enable for user space.
uint64_t enabled_xfeatures() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return lo | (uint64_t)hi << 32;
}

uint64_t load_le64(const uint8_t *p) { return load_le32(p) | (uint64_t)load_le32(p + 4) << 32; }
}  // namespace

Err check_regset(const ExtraRegset &set, const uint8_t *img, size_t n, const uint8_t *cur, size_t cur_n) {
  if (n < kXstateBv + 8) return errf("%s register set too short (%zu bytes)", set.name, n);
  uint64_t used = load_le64(img + kXstateBv);
  uint64_t have = enabled_xfeatures();
  if (used & ~have)
    return errf("this CPU lacks XSAVE features the image uses (image 0x%llx, CPU 0x%llx)",
                (unsigned long long)used, (unsigned long long)have);
  if (n > cur_n) return errf("XSAVE area in the image (%zu bytes) is larger than this CPU's (%zu)", n, cur_n);
  return ok();
}

}  // namespace arch
