#include <doctest/doctest.h>

#include <string.h>

#include "crc32c.h"

// Published CRC32C check values: the "123456789" check value, and the iSCSI
// test patterns of RFC 3720, appendix B.4. Each is checked with crc32c() (the
// CPU's instructions where arch/<arch>/crc32c.cpp finds them) and with the
// software one.
namespace {
using Fn = uint32_t (*)(uint32_t, const void *, size_t);
const Fn kBoth[] = {crc32c, crc32c_portable};

// xorshift bytes: a long input that is not all the same
void fill(uint8_t *p, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    p[i] = (uint8_t)seed;
  }
}
}  // namespace

TEST_CASE("crc32c: check value of \"123456789\"") {
  const char *how = crc32c_accelerated() ? "crc32c: with the CPU's instructions" : "crc32c: software only on this CPU";
  MESSAGE(doctest::String(how));
  for (Fn f : kBoth) CHECK(f(0, "123456789", 9) == 0xE3069283u);
}

TEST_CASE("crc32c: RFC 3720 B.4 vectors") {
  for (Fn f : kBoth) {
    uint8_t buf[48];
    memset(buf, 0, 32);
    CHECK(f(0, buf, 32) == 0x8A9136AAu);
    memset(buf, 0xff, 32);
    CHECK(f(0, buf, 32) == 0x62A8AB43u);
    for (int i = 0; i < 32; i++) buf[i] = (uint8_t)i;
    CHECK(f(0, buf, 32) == 0x46DD794Eu);
    for (int i = 0; i < 32; i++) buf[i] = (uint8_t)(31 - i);
    CHECK(f(0, buf, 32) == 0x113FDB5Cu);
    // B.4's iSCSI read command PDU (48 bytes)
    static const uint8_t pdu[48] = {0x01, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0x14, 0, 0, 0, 0, 0, 0x04, 0, 0, 0, 0, 0x14, 0, 0, 0, 0x18,
                                    0x28, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0};
    CHECK(f(0, pdu, sizeof pdu) == 0xD9963A56u);
  }
}

TEST_CASE("crc32c: incremental equals one-shot, at every split and odd lengths") {
  uint8_t buf[200];
  for (int i = 0; i < 200; i++) buf[i] = (uint8_t)(i * 7 + 3);
  for (Fn f : kBoth) {
    uint32_t whole = f(0, buf, sizeof buf);
    for (size_t split = 0; split <= sizeof buf; split += 13)
      CHECK(f(f(0, buf, split), buf + split, sizeof buf - split) == whole);
  }
}

// The accelerated path runs long inputs as three streams joined by shifting
// (src/crc32c_three_way.h: lanes of 4096 and 256 bytes): lengths around every
// lane boundary, at odd alignments, must give what the bytewise tables give.
TEST_CASE("crc32c: the CPU's instructions and the software agree on long inputs") {
  static uint8_t buf[3 * 4096 * 3 + 64];
  fill(buf, sizeof buf, 0x9e3779b97f4a7c15ull);
  const size_t lens[] = {0, 1, 7, 8, 9, 255, 767, 768, 769, 3 * 256 * 2 + 5, 4095, 12287, 12288, 12289,
                         3 * 4096 + 3 * 256 + 17, 2 * 12288, 3 * 12288, 3 * 12288 + 63};
  const uint32_t kInits[] = {0u, 0xdeadbeefu};
  int mismatches = 0;
  for (size_t len : lens)
    for (size_t align = 0; align < 8; align += 3)
      for (uint32_t init : kInits)
        mismatches += crc32c(init, buf + align, len) != crc32c_portable(init, buf + align, len);
  CHECK(mismatches == 0);
  uint8_t zero[4096 * 3] = {};
  CHECK(crc32c(0, zero, sizeof zero) == crc32c_portable(0, zero, sizeof zero));
}

// The shift operator itself: moving a register over N zero bytes.
TEST_CASE("crc32c: Crc32cShift equals feeding zero bytes") {
  static uint8_t zeros[4096];
  const size_t lens[] = {1, 8, 256, 4096};
  const uint32_t regs[] = {0u, 1u, 0x80000000u, 0x12345678u, 0xffffffffu};
  for (size_t n : lens) {
    Crc32cShift shift(n);
    for (uint32_t reg : regs) {
      uint32_t fed = ~crc32c_portable(~reg, zeros, n);  // the raw register over n zero bytes
      CHECK(shift(reg) == fed);
    }
  }
}

TEST_CASE("crc32c: checksums of parts joined by Crc32cShift") {
  static uint8_t buf[70000];
  fill(buf, sizeof buf, 12345);
  Crc32cShift page(4096);  // the dump's way of joining page after page
  uint32_t joined = crc32c(0, buf, 4096);
  for (size_t off = 4096; off + 4096 <= sizeof buf; off += 4096) joined = page(joined) ^ crc32c(0, buf + off, 4096);
  CHECK(joined == crc32c(0, buf, sizeof buf / 4096 * 4096));
  uint32_t head = crc32c(0, buf, 100), two = page(page(head)) ^ crc32c(0, buf + 100, 8192);
  CHECK(two == crc32c(0, buf, 100 + 8192));
}
