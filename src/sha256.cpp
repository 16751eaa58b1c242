#include "sha256.h"

#include <string.h>

// FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the
// cube roots of the first 64 primes.
alignas(16) const uint32_t kSha256K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

namespace {
inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
inline uint32_t load_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
inline void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

// FIPS 180-4 section 6.2.2, with the message schedule kept in a 16-word ring.
void compress(uint32_t hs[8], const uint8_t *b) {
  uint32_t w[16];
  for (int i = 0; i < 16; i++) w[i] = load_be32(b + 4 * i);
  uint32_t a = hs[0], bb = hs[1], c = hs[2], d = hs[3], e = hs[4], f = hs[5], g = hs[6], h = hs[7];
  for (int t = 0; t < 64; t++) {
    if (t >= 16) {
      uint32_t w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
      uint32_t s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3);
      uint32_t s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10);
      w[t & 15] += s0 + w[(t - 7) & 15] + s1;
    }
    uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kSha256K[t] + w[t & 15];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
    h = g; g = f; f = e; e = d + t1;
    d = c; c = bb; bb = a; a = t1 + t2;
  }
  hs[0] += a; hs[1] += bb; hs[2] += c; hs[3] += d;
  hs[4] += e; hs[5] += f; hs[6] += g; hs[7] += h;
}
}  // namespace

void Sha256::reset() {
  // FIPS 180-4 section 5.3.3: square roots of the first 8 primes.
  static const uint32_t init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(h_, init, sizeof h_);
  used_ = 0;
  total_ = 0;
}

void sha256_blocks_portable(uint32_t hs[8], const uint8_t *p, size_t n) {
  for (; n; n--, p += kSha256Block) compress(hs, p);
}

void Sha256::blocks(const uint8_t *p, size_t n) {
  if (!sha256_blocks_accel(h_, p, n)) sha256_blocks_portable(h_, p, n);
}

void Sha256::update(const void *p, size_t n) {
  const uint8_t *s = static_cast<const uint8_t *>(p);
  total_ += n;
  if (used_) {
    size_t k = kSha256Block - used_ < n ? kSha256Block - used_ : n;
    memcpy(buf_ + used_, s, k);
    used_ += k; s += k; n -= k;
    if (used_ < kSha256Block) return;
    blocks(buf_, 1);
    used_ = 0;
  }
  size_t whole = n / kSha256Block;
  if (whole) blocks(s, whole);
  s += whole * kSha256Block;
  n -= whole * kSha256Block;
  memcpy(buf_, s, n);
  used_ = n;
}

// Padding (FIPS 180-4 section 5.1.1): 0x80, zeros, then the bit length as a
// big-endian u64 ending a block.
void Sha256::final(uint8_t out[kSha256Len]) {
  uint64_t bits = total_ * 8;
  uint8_t pad[kSha256Block * 2] = {0x80};
  size_t padlen = (used_ < 56 ? 56 : 120) - used_;
  uint8_t len[8];
  for (int i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (56 - 8 * i));
  update(pad, padlen);
  update(len, 8);
  for (int i = 0; i < 8; i++) store_be32(out + 4 * i, h_[i]);
  reset();
}

void sha256(const void *p, size_t n, uint8_t out[kSha256Len]) {
  Sha256 s;
  s.update(p, n);
  s.final(out);
}

// RFC 2104: H((K ^ opad) || H((K ^ ipad) || message)).
HmacSha256::HmacSha256(const void *key, size_t key_len) {
  uint8_t k[kSha256Block] = {};
  if (key_len > kSha256Block) sha256(key, key_len, k);
  else memcpy(k, key, key_len);
  for (size_t i = 0; i < kSha256Block; i++) {
    ipad_[i] = k[i] ^ 0x36;
    opad_[i] = k[i] ^ 0x5c;
  }
  wipe(k, sizeof k);
  inner_.update(ipad_, sizeof ipad_);
}

HmacSha256::~HmacSha256() {
  wipe(ipad_, sizeof ipad_);
  wipe(opad_, sizeof opad_);
}

void HmacSha256::final(uint8_t out[kSha256Len]) {
  uint8_t ih[kSha256Len];
  inner_.final(ih);
  Sha256 outer;
  outer.update(opad_, sizeof opad_);
  outer.update(ih, sizeof ih);
  outer.final(out);
  inner_.update(ipad_, sizeof ipad_);
}

void hmac_sha256(const void *key, size_t key_len, const void *p, size_t n, uint8_t out[kSha256Len]) {
  HmacSha256 h(key, key_len);
  h.update(p, n);
  h.final(out);
}

bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n) {
  uint8_t d = 0;
  for (size_t i = 0; i < n; i++) d |= a[i] ^ b[i];
  return d == 0;
}

void wipe(void *p, size_t n) {
  volatile uint8_t *v = static_cast<volatile uint8_t *>(p);
  while (n--) *v++ = 0;
}
