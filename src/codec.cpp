#include "codec.h"

void store_le16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
uint16_t load_le16(const uint8_t *p) { return p[0] | p[1] << 8; }
void store_le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
uint32_t load_le32(const uint8_t *p) {
  return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void Enc::put(const void *p, size_t n) {
  if (overflow_ || n > cap_ - len_) { overflow_ = true; return; }
  memcpy(buf_ + len_, p, n);
  len_ += n;
}
void Enc::u16(uint16_t v) { uint8_t b[2]; store_le16(b, v); put(b, 2); }
void Enc::u32(uint32_t v) { uint8_t b[4]; store_le32(b, v); put(b, 4); }
void Enc::u64(uint64_t v) { u32((uint32_t)v); u32((uint32_t)(v >> 32)); }
void Enc::str(const char *s) { size_t n = strlen(s); u32((uint32_t)n); put(s, n); }

const uint8_t *Dec::take(size_t n) {
  if (bad_ || n > n_ - pos_) { bad_ = true; return nullptr; }
  const uint8_t *r = p_ + pos_;
  pos_ += n;
  return r;
}
uint8_t Dec::u8() { const uint8_t *b = take(1); return b ? b[0] : 0; }
uint16_t Dec::u16() { const uint8_t *b = take(2); return b ? load_le16(b) : 0; }
uint32_t Dec::u32() { const uint8_t *b = take(4); return b ? load_le32(b) : 0; }
uint64_t Dec::u64() { uint64_t lo = u32(); return lo | (uint64_t)u32() << 32; }
void Dec::bytes(void *out, size_t n) {
  const uint8_t *b = take(n);
  if (b) memcpy(out, b, n); else memset(out, 0, n);
}
void Dec::str(char *out, size_t cap) {
  uint32_t n = u32();
  const uint8_t *b = n < cap ? take(n) : nullptr;
  if (!b) { bad_ = true; out[0] = 0; return; }
  memcpy(out, b, n);
  out[n] = 0;
  if (memchr(out, 0, n)) bad_ = true;  // embedded NUL: not a path or name we wrote
}
Str Dec::str() {
  uint32_t n = u32();
  const uint8_t *b = take(n);
  if (!b) return Str();
  if (memchr(b, 0, n)) bad_ = true;
  return Str(reinterpret_cast<const char *>(b), n);
}
const uint8_t *Dec::blob(uint32_t *len, uint32_t max) {
  *len = u32();
  if (*len > max) { bad_ = true; *len = 0; return nullptr; }
  const uint8_t *b = take(*len);
  if (!b) *len = 0;
  return b;
}
