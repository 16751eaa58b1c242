// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI (RFC 3720)
// and ext4. `crc32c(0, p, n)` for a fresh checksum, `crc32c(c, p, n)` to go on.
// It uses the CPU's CRC32C instructions where arch/<arch>/crc32c.cpp finds them
// (x86 SSE4.2, ARMv8 CRC32), and software slicing-by-8 otherwise.
#pragma once
#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *data, size_t len);
// The software one alone (for the unit tests, which run both on the same input).
uint32_t crc32c_portable(uint32_t crc, const void *data, size_t len);
// True if crc32c() uses the CPU's instructions on this machine.
bool crc32c_accelerated();

// ---- for arch/<arch>/crc32c.cpp ----------------------------------------------
// The CRC register, without the pre/post inversion: arch code updates it over
// n bytes and returns true, or returns false when the CPU lacks the instructions.
bool crc32c_accel(uint32_t *reg, const uint8_t *p, size_t n);
bool crc32c_accel_present();

// Moving a register over `bytes` zero bytes: register(init, A || B) equals
// shift(register(init, A)) ^ register(0, B) for |B| == bytes, since the
// register is linear in its start value. That lets the hardware run three
// independent streams (the instruction's latency is three times its
// throughput) and join them. Likewise crc32c(0, A || B) equals
// shift(crc32c(0, A)) ^ crc32c(0, B): the dump joins the checksums of pages
// its helper computed. Four table lookups (one per register byte).
class Crc32cShift {
 public:
  explicit Crc32cShift(size_t bytes);
  uint32_t operator()(uint32_t reg) const {
    return t_[0][reg & 0xff] ^ t_[1][(reg >> 8) & 0xff] ^ t_[2][(reg >> 16) & 0xff] ^ t_[3][reg >> 24];
  }

 private:
  uint32_t t_[4][256];
};
