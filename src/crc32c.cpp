#include "crc32c.h"

namespace {
constexpr uint32_t kPoly = 0x82F63B78u;  // reflected: bit 31 is x^0, bit 0 is x^31

// The register times x, modulo the polynomial.
uint32_t times_x(uint32_t r) { return (r >> 1) ^ (kPoly & (0u - (r & 1))); }

// a * b modulo the polynomial, bit by bit (only for building tables).
uint32_t times(uint32_t a, uint32_t b) {
  uint32_t p = 0;
  for (int i = 0; i < 32; i++, b = times_x(b))
    if (a & (0x80000000u >> i)) p ^= b;
  return p;
}

struct Tables {
  uint32_t t[8][256];
  Tables() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = times_x(c);
      t[0][i] = c;
    }
    for (int s = 1; s < 8; s++)
      for (int i = 0; i < 256; i++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};
const Tables &tables() {
  static Tables tab;  // built once, on first use (no thread-safe statics: single-threaded tool)
  return tab;
}

uint32_t load_le32(const uint8_t *p) {
  return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t portable_update(uint32_t reg, const uint8_t *p, size_t len) {
  const uint32_t(*t)[256] = tables().t;
  while (len >= 8) {  // slicing-by-8: eight table lookups per 8 input bytes
    uint32_t lo = load_le32(p) ^ reg, hi = load_le32(p + 4);
    reg = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
          t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    len -= 8;
  }
  while (len--) reg = (reg >> 8) ^ t[0][(reg ^ *p++) & 0xff];
  return reg;
}
}  // namespace

// A zero byte multiplies the register by x^8, so `bytes` of them by
// x^(8 * bytes); the product is linear in the register, one table per byte.
Crc32cShift::Crc32cShift(size_t bytes) {
  uint32_t xn = 0x80000000u;  // x^0
  for (size_t i = 0; i < 8 * bytes; i++) xn = times_x(xn);
  for (int k = 0; k < 4; k++)
    for (uint32_t v = 0; v < 256; v++) t_[k][v] = times(xn, v << (8 * k));
}

uint32_t crc32c_portable(uint32_t crc, const void *data, size_t len) {
  return ~portable_update(~crc, static_cast<const uint8_t *>(data), len);
}

uint32_t crc32c(uint32_t crc, const void *data, size_t len) {
  const uint8_t *p = static_cast<const uint8_t *>(data);
  uint32_t reg = ~crc;
  if (!crc32c_accel(&reg, p, len)) reg = portable_update(reg, p, len);
  return ~reg;
}

bool crc32c_accelerated() { return crc32c_accel_present(); }
