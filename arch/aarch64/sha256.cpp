// SHA-256 with the ARMv8 cryptographic extension (SHA256H, SHA256H2, SHA256SU0,
// SHA256SU1; Arm ARM C7.2): the compression function for src/sha256.cpp, used
// when the kernel reports HWCAP_SHA2 (Documentation/arch/arm64/elf_hwcaps.rst).
#include <arm_neon.h>
#include <sys/auxv.h>

#include "sha256.h"

namespace {
constexpr unsigned long kHwcapSha2 = 1ul << 6;  // HWCAP_SHA2 (arch/arm64/include/uapi/asm/hwcap.h)

// m[] is a ring of the last four 4-word groups of the message schedule.
__attribute__((target("arch=armv8-a+crypto"))) void blocks_ce(uint32_t h[8], const uint8_t *p, size_t n) {
  uint32x4_t abcd = vld1q_u32(h), efgh = vld1q_u32(h + 4);
  for (; n; n--, p += kSha256Block) {
    uint32x4_t abcd0 = abcd, efgh0 = efgh, m[4];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
      if (i < 4)
        m[i] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 16 * i)));  // big-endian words
      else
        m[i & 3] = vsha256su1q_u32(vsha256su0q_u32(m[i & 3], m[(i + 1) & 3]), m[(i + 2) & 3], m[(i + 3) & 3]);
      uint32x4_t wk = vaddq_u32(m[i & 3], vld1q_u32(kSha256K + 4 * i));
      uint32x4_t prev = abcd;
      abcd = vsha256hq_u32(abcd, efgh, wk);
      efgh = vsha256h2q_u32(efgh, prev, wk);
    }
    abcd = vaddq_u32(abcd, abcd0);
    efgh = vaddq_u32(efgh, efgh0);
  }
  vst1q_u32(h, abcd);
  vst1q_u32(h + 4, efgh);
}
}  // namespace

bool sha256_blocks_accel(uint32_t h[8], const uint8_t *p, size_t n) {
  static const bool has = getauxval(AT_HWCAP) & kHwcapSha2;
  if (!has) return false;
  blocks_ce(h, p, n);
  return true;
}
