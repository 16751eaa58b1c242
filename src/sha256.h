// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), small and freestanding: the
// migration stream's integrity (docs/MIGRATION.md). Tested against the FIPS
// 180-4 examples and the RFC 4231 vectors in tests/unit/test_crypto.cpp.
#pragma once
#include <stddef.h>
#include <stdint.h>

constexpr size_t kSha256Len = 32;
constexpr size_t kSha256Block = 64;

class Sha256 {
 public:
  Sha256() { reset(); }
  void reset();
  void update(const void *p, size_t n);
  void final(uint8_t out[kSha256Len]);

 private:
  void blocks(const uint8_t *p, size_t n);
  uint32_t h_[8];
  uint8_t buf_[kSha256Block];
  size_t used_ = 0;
  uint64_t total_ = 0;
};

void sha256(const void *p, size_t n, uint8_t out[kSha256Len]);

// The compression function over n consecutive 64-byte blocks. The portable one
// is in sha256.cpp; arch/<arch>/sha256.cpp has the CPU's SHA-256 instructions
// (x86 SHA-NI, ARMv8 SHA2) and returns false when the CPU lacks them;
// arch/generic/sha256.cpp, for the others, always returns false.
extern const uint32_t kSha256K[64];
void sha256_blocks_portable(uint32_t h[8], const uint8_t *p, size_t n);
bool sha256_blocks_accel(uint32_t h[8], const uint8_t *p, size_t n);

// HMAC-SHA256 with a key of any length (a longer-than-block key is hashed first).
class HmacSha256 {
 public:
  HmacSha256(const void *key, size_t key_len);
  ~HmacSha256();
  void update(const void *p, size_t n) { inner_.update(p, n); }
  void final(uint8_t out[kSha256Len]);  // also resets, ready for the next message

 private:
  Sha256 inner_;
  uint8_t ipad_[kSha256Block], opad_[kSha256Block];
};

void hmac_sha256(const void *key, size_t key_len, const void *p, size_t n, uint8_t out[kSha256Len]);

// Compare MACs in time independent of where they differ (no early exit to time).
bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n);
// Overwrite a secret so it does not linger in memory (not optimised away).
void wipe(void *p, size_t n);
