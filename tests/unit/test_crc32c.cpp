#include <doctest/doctest.h>

#include <string.h>

#include "crc32c.h"

// Published CRC32C check values: the "123456789" check value, and the iSCSI
// test patterns of RFC 3720, appendix B.4.
TEST_CASE("crc32c: check value of \"123456789\"") { CHECK(crc32c(0, "123456789", 9) == 0xE3069283u); }

TEST_CASE("crc32c: RFC 3720 B.4 vectors") {
  uint8_t buf[32];
  memset(buf, 0, sizeof buf);
  CHECK(crc32c(0, buf, 32) == 0x8A9136AAu);
  memset(buf, 0xff, sizeof buf);
  CHECK(crc32c(0, buf, 32) == 0x62A8AB43u);
  for (int i = 0; i < 32; i++) buf[i] = (uint8_t)i;
  CHECK(crc32c(0, buf, 32) == 0x46DD794Eu);
  for (int i = 0; i < 32; i++) buf[i] = (uint8_t)(31 - i);
  CHECK(crc32c(0, buf, 32) == 0x113FDB5Cu);
}

TEST_CASE("crc32c: incremental equals one-shot, at every split and odd lengths") {
  uint8_t buf[200];
  for (int i = 0; i < 200; i++) buf[i] = (uint8_t)(i * 7 + 3);
  uint32_t whole = crc32c(0, buf, sizeof buf);
  for (size_t split = 0; split <= sizeof buf; split += 13)
    CHECK(crc32c(crc32c(0, buf, split), buf + split, sizeof buf - split) == whole);
}
