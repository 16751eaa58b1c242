// Little-endian field encoding for image records. Every integer in the image is
// little-endian whatever the host, so any host can inspect any image (docs/FORMAT.md).
// Dec never reads past its input: a short or malformed payload sets `bad` and yields
// zeros, and the caller reports it once.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "base.h"

class Enc {
 public:
  Enc(uint8_t *buf, size_t cap) : buf_(buf), cap_(cap) {}
  void u8(uint8_t v) { put(&v, 1); }
  void u16(uint16_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  void i64(int64_t v) { u64((uint64_t)v); }
  void bytes(const void *p, size_t n) { put(p, n); }
  void str(const char *s);  // u32 length + bytes (no NUL)
  void blob(const void *p, uint32_t n) { u32(n); put(p, n); }
  size_t len() const { return len_; }
  const uint8_t *data() const { return buf_; }
  bool overflow() const { return overflow_; }

 private:
  void put(const void *p, size_t n);
  uint8_t *buf_;
  size_t cap_, len_ = 0;
  bool overflow_ = false;
};

class Dec {
 public:
  // newer: the payload comes from an image of a newer minor version, which
  // may append fields this reader does not know (docs/FORMAT.md).
  Dec(const uint8_t *p, size_t n, bool newer = false) : p_(p), n_(n), newer_(newer) {}
  uint8_t u8();
  uint16_t u16();
  uint32_t u32();
  uint64_t u64();
  int64_t i64() { return (int64_t)u64(); }
  void bytes(void *out, size_t n);
  // String of at most cap-1 bytes, NUL-terminated into out; longer is an error.
  void str(char *out, size_t cap);
  Str str();
  // Length-prefixed blob: returns a pointer into the input and its length.
  const uint8_t *blob(uint32_t *len, uint32_t max);
  bool bad() const { return bad_; }
  // Everything decoded was well formed and nothing unknown is left over.
  bool at_end() const { return !bad_ && (pos_ == n_ || newer_); }
  size_t left() const { return n_ - pos_; }
  size_t pos() const { return pos_; }

 private:
  const uint8_t *take(size_t n);
  const uint8_t *p_;
  size_t n_, pos_ = 0;
  bool newer_;
  bool bad_ = false;
};

void store_le32(uint8_t *p, uint32_t v);
uint32_t load_le32(const uint8_t *p);
void store_le16(uint8_t *p, uint16_t v);
uint16_t load_le16(const uint8_t *p);
