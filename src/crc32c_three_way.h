// The three-stream CRC32C driver for arch/<arch>/crc32c.cpp. Include it inside
// the file's `#pragma GCC target` region, so that it is compiled for the CRC
// instructions: Hw has static u64(reg, word) and u8(reg, byte), the
// instruction on one 64-bit word loaded in little-endian order and on one byte.
// Long inputs go as three equal lanes (big, then small) at once, joined by
// Crc32cShift; the rest one stream.
#pragma once
#include <string.h>

#include "crc32c.h"

template <class Hw>
uint32_t crc32c_three_way(uint32_t reg, const uint8_t *p, size_t n, const Crc32cShift &big, size_t big_lane,
                          const Crc32cShift &small, size_t small_lane) {
  for (int pass = 0; pass < 2; pass++) {
    const size_t lane = pass ? small_lane : big_lane;
    const Crc32cShift &shift = pass ? small : big;
    while (n >= 3 * lane) {
      uint32_t r0 = reg, r1 = 0, r2 = 0;
      for (size_t i = 0; i < lane; i += 8) {
        uint64_t w0, w1, w2;
        memcpy(&w0, p + i, 8);
        memcpy(&w1, p + lane + i, 8);
        memcpy(&w2, p + 2 * lane + i, 8);
        r0 = Hw::u64(r0, w0);
        r1 = Hw::u64(r1, w1);
        r2 = Hw::u64(r2, w2);
      }
      reg = shift(shift(r0) ^ r1) ^ r2;
      p += 3 * lane;
      n -= 3 * lane;
    }
  }
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    reg = Hw::u64(reg, w);
  }
  for (; n; p++, n--) reg = Hw::u8(reg, *p);
  return reg;
}
