// CRC32C with the ARMv8 CRC32 extension (CRC32CB, CRC32CX; Arm ARM C6.2), for
// src/crc32c.cpp, used when the kernel reports HWCAP_CRC32
// (Documentation/arch/arm64/elf_hwcaps.rst). Long inputs run as three streams
// at once (src/crc32c_three_way.h): the instruction's latency is a few times
// its throughput on the usual cores.
#include <string.h>
#include <sys/auxv.h>

#include "crc32c.h"

// Everything defined from here to the pop is compiled for the instructions
// (clang has no `#pragma GCC target`: tests/fuzz and check-asan may build with it).
#ifdef __clang__
#pragma clang attribute push(__attribute__((target("crc"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("+crc")
#endif
#include <arm_acle.h>

#include "crc32c_three_way.h"

namespace {
struct Crc32Ext {
  static uint32_t u64(uint32_t reg, uint64_t w) { return __crc32cd(reg, w); }
  static uint32_t u8(uint32_t reg, uint8_t b) { return __crc32cb(reg, b); }
};

uint32_t update(uint32_t reg, const uint8_t *p, size_t n) {
  static const Crc32cShift big(4096), small(256);
  return crc32c_three_way<Crc32Ext>(reg, p, n, big, 4096, small, 256);
}
}  // namespace
#ifdef __clang__
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace {
constexpr unsigned long kHwcapCrc32 = 1ul << 7;  // HWCAP_CRC32 (arch/arm64/include/uapi/asm/hwcap.h)
}

bool crc32c_accel_present() {
  static const bool has = getauxval(AT_HWCAP) & kHwcapCrc32;
  return has;
}

bool crc32c_accel(uint32_t *reg, const uint8_t *p, size_t n) {
  if (!crc32c_accel_present()) return false;
  *reg = update(*reg, p, n);
  return true;
}
