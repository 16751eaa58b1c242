// SHA-256 with the x86 SHA extensions (SHA-NI): the compression function for
// src/sha256.cpp, used when CPUID says the CPU has them (Intel SDM vol. 2:
// SHA256RNDS2, SHA256MSG1, SHA256MSG2; CPUID.(EAX=7,ECX=0):EBX bit 29).
#include <cpuid.h>
#include <immintrin.h>

#include "sha256.h"

namespace {
bool cpu_has_sha() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29))) return false;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 19)) && (c & (1u << 9));  // SSE4.1, SSSE3
}

// The instructions keep the state as ABEF and CDGH (lanes high to low), and take
// the message as big-endian words; rounds go four at a time, two per
// SHA256RNDS2. m[] is a ring of the last four 4-word groups of the schedule.
__attribute__((target("sha,sse4.1,ssse3"))) void blocks_ni(uint32_t h[8], const uint8_t *p, size_t n) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0xB1);      // CDAB
  __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(h + 4)), 0x1B);  // EFGH
  __m128i s0 = _mm_alignr_epi8(t, s1, 8);                                        // ABEF
  s1 = _mm_blend_epi16(s1, t, 0xF0);                                             // CDGH
  for (; n; n--, p += kSha256Block) {
    __m128i save0 = s0, save1 = s1, m[4];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
      if (i < 4) {
        m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
      } else {  // W[t-16] + s0(W[t-15]), + W[t-7], + s1(W[t-2])
        __m128i x = _mm_sha256msg1_epu32(m[i & 3], m[(i + 1) & 3]);
        x = _mm_add_epi32(x, _mm_alignr_epi8(m[(i + 3) & 3], m[(i + 2) & 3], 4));
        m[i & 3] = _mm_sha256msg2_epu32(x, m[(i + 3) & 3]);
      }
      __m128i wk = _mm_add_epi32(m[i & 3], _mm_load_si128((const __m128i *)(kSha256K + 4 * i)));
      s1 = _mm_sha256rnds2_epu32(s1, s0, wk);
      s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(wk, 0x0E));
    }
    s0 = _mm_add_epi32(s0, save0);
    s1 = _mm_add_epi32(s1, save1);
  }
  t = _mm_shuffle_epi32(s0, 0x1B);    // FEBA
  s1 = _mm_shuffle_epi32(s1, 0xB1);   // DCHG
  _mm_storeu_si128((__m128i *)h, _mm_blend_epi16(t, s1, 0xF0));        // DCBA
  _mm_storeu_si128((__m128i *)(h + 4), _mm_alignr_epi8(s1, t, 8));    // HGFE
}
}  // namespace

bool sha256_blocks_accel(uint32_t h[8], const uint8_t *p, size_t n) {
  static const bool has = cpu_has_sha();
  if (!has) return false;
  blocks_ni(h, p, n);
  return true;
}
