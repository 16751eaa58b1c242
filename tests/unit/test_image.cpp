#include <doctest/doctest.h>

#include <stdio.h>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

#include "arch_api.h"
#include "crc32c.h"
#include "image.h"

namespace {
// An image in a memfd: written by ImageWriter, read back by ImageReader.
struct MemImage {
  int fd = memfd_create("img", 0);
  ~MemImage() { close(fd); }
  std::vector<uint8_t> bytes() {
    std::vector<uint8_t> b(lseek(fd, 0, SEEK_END));
    pread(fd, b.data(), b.size(), 0);
    return b;
  }
  void replace(const std::vector<uint8_t> &b) {
    ftruncate(fd, 0);
    pwrite(fd, b.data(), b.size(), 0);
    lseek(fd, 0, SEEK_SET);
  }
};

void write_sample(int fd, size_t big) {
  ImageWriter w(fd);
  REQUIRE(!w.preamble());
  ImageHeader h;
  h.arch = kArchX86_64;
  h.page_size = 4096;
  h.nr_processes = 1;
  snprintf(h.kernel, sizeof h.kernel, "6.1.0-test");
  snprintf(h.host, sizeof h.host, "box");
  uint8_t buf[512];
  size_t n = encode_header(h, buf, sizeof buf);
  REQUIRE(n > 0);
  REQUIRE(!w.record(Rec::Header, buf, n));
  std::vector<uint8_t> data(big);
  for (size_t i = 0; i < big; i++) data[i] = (uint8_t)(i * 31);
  uint8_t hdr[16] = {1, 2, 3};
  REQUIRE(!w.record2(Rec::Pages, hdr, sizeof hdr, data.data(), data.size()));
  REQUIRE(!w.record(Rec::End, nullptr, 0));
  REQUIRE(!w.flush());
}

// Reads the whole image; returns "" or the first error message.
std::string read_all(int fd) {
  ImageReader r(fd);
  if (Err e = r.preamble()) return e.msg;
  for (;;) {
    uint32_t type, len;
    if (Err e = r.next(&type, &len)) return e.msg;
    if (Err e = r.skip()) return e.msg;
    if (type == (uint32_t)Rec::End) return "";
  }
}
}  // namespace

TEST_CASE("image: header round trip") {
  ImageHeader h, back;
  h.arch = kArchPpc64;
  h.big_endian = 1;
  h.page_size = 65536;
  h.time_sec = 1234567890123ull;
  h.nr_processes = 3;
  snprintf(h.kernel, sizeof h.kernel, "6.1.0-50-powerpc64le");
  snprintf(h.host, sizeof h.host, "node7");
  uint8_t buf[512];
  size_t n = encode_header(h, buf, sizeof buf);
  REQUIRE(decode_header(buf, n, &back));
  CHECK(back.arch == kArchPpc64);
  CHECK(back.big_endian == 1);
  CHECK(back.page_size == 65536);
  CHECK(back.time_sec == 1234567890123ull);
  CHECK(std::string(back.kernel) == "6.1.0-50-powerpc64le");
  CHECK(std::string(back.host) == "node7");
  CHECK_FALSE(decode_header(buf, n - 1, &back));  // truncated payload
}

TEST_CASE("image: writer/reader round trip keeps payload bytes, large records bypass the buffer") {
  for (size_t big : {size_t(0), size_t(4096), size_t(256 << 10)}) {
    MemImage m;
    write_sample(m.fd, big);
    lseek(m.fd, 0, SEEK_SET);
    ImageReader r(m.fd);
    REQUIRE(!r.preamble());
    uint32_t type, len;
    REQUIRE(!r.next(&type, &len));
    CHECK(type == (uint32_t)Rec::Header);
    REQUIRE(!r.skip());
    REQUIRE(!r.next(&type, &len));
    CHECK(type == (uint32_t)Rec::Pages);
    REQUIRE(len == 16 + big);
    std::vector<uint8_t> got(len);
    REQUIRE(!r.payload(got.data(), len));
    CHECK(got[0] == 1);
    for (size_t i = 0; i < big; i++)
      if (got[16 + i] != (uint8_t)(i * 31)) FAIL("payload byte ", i, " differs");
    REQUIRE(!r.next(&type, &len));
    CHECK(type == (uint32_t)Rec::End);
  }
}

TEST_CASE("image: every truncation is reported as truncation") {
  MemImage m;
  write_sample(m.fd, 5000);
  auto full = m.bytes();
  for (size_t cut = 0; cut < full.size(); cut += (cut < 64 ? 1 : 97)) {
    m.replace(std::vector<uint8_t>(full.begin(), full.begin() + cut));
    std::string e = read_all(m.fd);
    INFO("cut at ", cut, ": ", e);
    CHECK(!e.empty());
    CHECK((e.find("truncated") != std::string::npos || e.find("too short") != std::string::npos));
  }
}

TEST_CASE("image: a flipped bit anywhere after the preamble is caught") {
  MemImage m;
  write_sample(m.fd, 3000);
  auto full = m.bytes();
  for (size_t pos = 8; pos < full.size(); pos += 41) {
    auto b = full;
    b[pos] ^= 0x10;
    m.replace(b);
    std::string e = read_all(m.fd);
    INFO("flip at ", pos, ": ", e);
    CHECK(e.rfind("bad image", 0) == 0);
  }
}

TEST_CASE("image: bad magic, future major version, absurd length") {
  MemImage m;
  write_sample(m.fd, 0);
  auto full = m.bytes();
  auto b = full;
  b[0] = 'X';
  m.replace(b);
  CHECK(read_all(m.fd) == "not a chkpt image: bad magic");
  b = full;
  b[4] = 3;  // major version 3
  m.replace(b);
  CHECK(read_all(m.fd).find("format version 3.") != std::string::npos);
  b = full;
  b[12] = 0xff; b[13] = 0xff; b[14] = 0xff; b[15] = 0x7f;  // HEADER length
  m.replace(b);
  CHECK(read_all(m.fd).find("exceeds the limit") != std::string::npos);
  m.replace({});
  CHECK(read_all(m.fd) == "not a chkpt image: too short");
}

TEST_CASE("image: error messages name the record and its offset") {
  MemImage m;
  write_sample(m.fd, 100);
  auto b = m.bytes();
  // PAGES starts after preamble (8) + HEADER frame (8 + payload + 4).
  size_t header_len = b[12] | b[13] << 8;
  size_t pages_at = 8 + 8 + header_len + 4;
  b[pages_at + 8 + 20] ^= 1;
  m.replace(b);
  CHECK(read_all(m.fd) == "bad image: record PAGES at offset " + std::to_string(pages_at) + ": checksum mismatch");
}

TEST_CASE("image: record2_crc writes what record2 writes") {
  std::vector<uint8_t> data(300000);
  for (size_t i = 0; i < data.size(); i++) data[i] = (uint8_t)(i * 7 + (i >> 9));
  uint8_t hdr[16] = {9, 8, 7};
  MemImage one, two;
  {
    ImageWriter w(one.fd);
    REQUIRE(!w.record2(Rec::Pages, hdr, sizeof hdr, data.data(), data.size()));
    REQUIRE(!w.flush());
  }
  {
    ImageWriter w(two.fd);
    uint32_t crc = crc32c(ImageWriter::head_crc(Rec::Pages, hdr, sizeof hdr, data.size()), data.data(), data.size());
    REQUIRE(!w.record2_crc(Rec::Pages, hdr, sizeof hdr, data.data(), data.size(), crc));
    REQUIRE(!w.flush());
  }
  CHECK(one.bytes() == two.bytes());
  CHECK(one.bytes().size() == 8 + 16 + data.size() + 4);
}
