#include <doctest/doctest.h>

#include <string.h>

#include <string>

#include "sha256.h"

namespace {
std::string hex(const uint8_t *p, size_t n) {
  static const char d[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; i++) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

std::string sha_hex(const std::string &m) {
  uint8_t out[kSha256Len];
  sha256(m.data(), m.size(), out);
  return hex(out, sizeof out);
}

std::string hmac_hex(const std::string &key, const std::string &m, size_t len = kSha256Len) {
  uint8_t out[kSha256Len];
  hmac_sha256(key.data(), key.size(), m.data(), m.size(), out);
  return hex(out, len);
}
}  // namespace

// FIPS 180-4 examples (NIST "SHA256.pdf" example values) and the classic
// empty-string and one-million-'a' values.
TEST_CASE("sha256: FIPS 180-4 examples") {
  CHECK(sha_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: incremental updates at every split equal one shot, across the padding boundary") {
  std::string m;
  for (int i = 0; i < 300; i++) m += (char)(i * 31 + 7);
  for (size_t len : {0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 300}) {
    std::string want = sha_hex(m.substr(0, len));
    for (size_t split = 0; split <= len; split += 5) {
      Sha256 s;
      s.update(m.data(), split);
      s.update(m.data() + split, len - split);
      uint8_t out[kSha256Len];
      s.final(out);
      CHECK(hex(out, sizeof out) == want);
    }
  }
}

// The CPU's SHA-256 instructions (arch/<arch>/sha256.cpp) against the portable
// compression function, on many blocks of varied data; the FIPS vectors above
// ran through whichever of the two this CPU uses.
TEST_CASE("sha256: the accelerated compression equals the portable one") {
  std::string m;
  for (int i = 0; i < 64 * 37; i++) m += (char)(i * 131 + (i >> 7));
  const uint8_t *p = reinterpret_cast<const uint8_t *>(m.data());
  for (size_t n : {1, 2, 3, 17, 37}) {
    uint32_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8];
    memcpy(b, a, sizeof a);
    sha256_blocks_portable(a, p, n);
    if (!sha256_blocks_accel(b, p, n)) {
      MESSAGE("no SHA-256 instructions on this CPU: only the portable code is used");
      return;
    }
    CHECK(memcmp(a, b, sizeof a) == 0);
  }
}

// RFC 4231 section 4: test cases 1-7 (case 5 is truncated to 128 bits).
TEST_CASE("hmac-sha256: RFC 4231 vectors") {
  std::string k4;
  for (int i = 1; i <= 25; i++) k4 += (char)i;
  const std::string big(131, '\xaa');
  CHECK(hmac_hex(std::string(20, '\x0b'), "Hi There") ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hmac_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(hmac_hex(std::string(20, '\xaa'), std::string(50, '\xdd')) ==
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  CHECK(hmac_hex(k4, std::string(50, '\xcd')) == "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  CHECK(hmac_hex(std::string(20, '\x0c'), "Test With Truncation", 16) == "a3b6167473100ee06e0c796c2955552b");
  CHECK(hmac_hex(big, "Test Using Larger Than Block-Size Key - Hash Key First") ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(hmac_hex(big, "This is a test using a larger than block-size key and a larger than block-size data. "
                      "The key needs to be hashed before being used by the HMAC algorithm.") ==
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("hmac-sha256: one key object MACs several messages (final resets)") {
  HmacSha256 h("Jefe", 4);
  uint8_t a[kSha256Len], b[kSha256Len];
  h.update("what do ya want ", 16);
  h.update("for nothing?", 12);
  h.final(a);
  h.update("Hi There", 8);
  h.final(b);
  CHECK(hex(a, sizeof a) == hmac_hex("Jefe", "what do ya want for nothing?"));
  CHECK(hex(b, sizeof b) == hmac_hex("Jefe", "Hi There"));
}

TEST_CASE("equal_ct: equal and unequal at the first, a middle and the last byte") {
  uint8_t a[32], b[32];
  for (int i = 0; i < 32; i++) a[i] = b[i] = (uint8_t)i;
  CHECK(equal_ct(a, b, 32));
  for (int at : {0, 17, 31}) {
    b[at] ^= 1;
    CHECK_FALSE(equal_ct(a, b, 32));
    b[at] ^= 1;
  }
}
