// CRC32C with SSE4.2's CRC32 instruction (Intel SDM vol. 2A: CRC32; CPUID.01H:ECX
// bit 20), for src/crc32c.cpp. The instruction has a latency of three cycles
// and a throughput of one, so long inputs run as three streams at once
// (src/crc32c_three_way.h).
#include <cpuid.h>
#include <nmmintrin.h>
#include <string.h>

#include "crc32c.h"

namespace {
bool cpu_has_sse42() {
  unsigned a, b, c, d;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 20));
}
}  // namespace

// Everything defined from here to the pop is compiled for the instructions
// (clang has no `#pragma GCC target`: tests/fuzz and check-asan may build with it).
#ifdef __clang__
#pragma clang attribute push(__attribute__((target("sse4.2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("sse4.2")
#endif
#include "crc32c_three_way.h"

namespace {
struct Sse42 {
  static uint32_t u64(uint32_t reg, uint64_t w) { return (uint32_t)_mm_crc32_u64(reg, w); }
  static uint32_t u8(uint32_t reg, uint8_t b) { return _mm_crc32_u8(reg, b); }
};

uint32_t update(uint32_t reg, const uint8_t *p, size_t n) {
  static const Crc32cShift big(4096), small(256);
  return crc32c_three_way<Sse42>(reg, p, n, big, 4096, small, 256);
}
}  // namespace
#ifdef __clang__
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

bool crc32c_accel_present() {
  static const bool has = cpu_has_sse42();
  return has;
}

bool crc32c_accel(uint32_t *reg, const uint8_t *p, size_t n) {
  if (!crc32c_accel_present()) return false;
  *reg = update(*reg, p, n);
  return true;
}
