#include <doctest/doctest.h>

#include <stdlib.h>
#include <initializer_list>
#include <string.h>

#include "lz4.h"

// Round trips through the product's LZ4 (src/lz4.cpp) and its refusal of
// hostile blocks; natively also against the reference liblz4 (Makefile:
// CHKPT_HAVE_LIBLZ4, linked into this binary only).
#ifdef CHKPT_HAVE_LIBLZ4
// (lz4hc.h brings the system's lz4.h: <lz4.h> would find src/lz4.h first)
#include <lz4frame.h>
#include <lz4hc.h>
#endif

namespace {
constexpr size_t kMax = 256u << 10, kGuard = 64;
uint32_t table[kLz4TableEntries];

uint64_t next(uint64_t *s) {
  *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
  return *s;
}

// Kinds of data a heap holds.
enum Kind { Zeros, Random, Text, Period, Mixed, Kinds };
void fill(uint8_t *p, size_t n, Kind k, uint64_t seed, size_t period = 7) {
  static const char *const words[] = {"the ", "process ", "image ", "record ", "page ", "of ", "and ", "struct ",
                                      "0x7fff", "\n", "= ", "NULL", "{ ", "} ", "int ", "memory "};
  uint64_t s = seed | 1;
  size_t i = 0;
  while (i < n) {
    switch (k) {
      case Zeros: p[i++] = 0; break;
      case Random: p[i++] = (uint8_t)next(&s); break;
      case Text: {
        const char *w = words[next(&s) % 16];
        for (; *w && i < n; w++) p[i++] = (uint8_t)*w;
        break;
      }
      case Period: p[i] = i < period ? (uint8_t)next(&s) : p[i - period]; i++; break;
      default: {  // runs of each of the others
        size_t run = 1 + next(&s) % 3000;
        if (run > n - i) run = n - i;
        Kind sub = (Kind)(next(&s) % 4);
        fill(p + i, run, sub, next(&s), 1 + next(&s) % 300);
        i += run;
      }
    }
  }
}

struct Bufs {
  uint8_t *in, *z, *out;
  Bufs() {
    in = (uint8_t *)malloc(kMax);
    z = (uint8_t *)malloc(2 * kMax + 100);
    out = (uint8_t *)malloc(kMax + 1 + kGuard);
  }
  ~Bufs() { free(in); free(z); free(out); }
};

// Decoding into exactly out_n bytes writes nothing after them.
const char *decode_guarded(const uint8_t *src, size_t n, uint8_t *out, size_t out_n, bool frame) {
  memset(out + out_n, 0xa5, kGuard);
  const char *why = frame ? lz4_unframe(src, n, out, out_n) : lz4_decompress(src, n, out, out_n);
  for (size_t i = 0; i < kGuard; i++) REQUIRE(out[out_n + i] == 0xa5);
  return why;
}

void round_trip(Bufs &b, size_t n, const char *what) {
  CAPTURE(what);
  CAPTURE(n);
  size_t z = lz4_compress(b.in, n, b.z, 2 * kMax + 100, table);
  REQUIRE(z > 0);
  CHECK(decode_guarded(b.z, z, b.out, n, false) == nullptr);
  CHECK(memcmp(b.in, b.out, n) == 0);
  // one byte less or more than the block decodes to: refused
  if (n) CHECK(decode_guarded(b.z, z, b.out, n - 1, false) != nullptr);
  CHECK(decode_guarded(b.z, z, b.out, n + 1, false) != nullptr);
  // too small an output buffer for the compressor: 0, never an overflow
  if (z > 1) {
    memset(b.z + z - 1, 0x5a, 2);
    CHECK(lz4_compress(b.in, n, b.z, z - 1, table) == 0);
  }
#ifdef CHKPT_HAVE_LIBLZ4
  // liblz4 decodes our block, and we its own (fast and high compression)
  z = lz4_compress(b.in, n, b.z, 2 * kMax + 100, table);
  CHECK(LZ4_decompress_safe((const char *)b.z, (char *)b.out, (int)z, (int)n) == (int)n);
  CHECK(memcmp(b.in, b.out, n) == 0);
  for (int hc = 0; hc < 2; hc++) {
    int lz = hc ? LZ4_compress_HC((const char *)b.in, (char *)b.z, (int)n, 2 * kMax, 9)
                : LZ4_compress_default((const char *)b.in, (char *)b.z, (int)n, 2 * kMax);
    REQUIRE(lz > 0);
    CHECK(decode_guarded(b.z, (size_t)lz, b.out, n, false) == nullptr);
    CHECK(memcmp(b.in, b.out, n) == 0);
  }
#endif
}
}  // namespace

TEST_CASE("lz4: round trips of zeros, random bytes, text, patterns, mixtures at boundary sizes") {
  Bufs b;
  const size_t sizes[] = {0,   1,   4,    5,    11,   12,   13,    14,    15,    16,    17,    19,     20,
                          30,  100, 269,  270,  271,  272,  524,   525,   4095,  4096,  4097,  65535,  65536,
                          65537, 65540, 100000, 131072, kMax - 1, kMax};
  const char *names[] = {"zeros", "random", "text", "period 7", "mixed"};
  for (size_t n : sizes)
    for (int k = 0; k < Kinds; k++) {
      fill(b.in, n, (Kind)k, n * 31 + k);
      round_trip(b, n, names[k]);
    }
  // repeats at the edges of the offset range, and literal runs of 15 + 255k
  for (size_t period : {1, 2, 3, 8, 255, 4096, 65534, 65535, 65536, 70000}) {
    fill(b.in, kMax, Period, period, period);
    round_trip(b, kMax, "long period");
  }
  for (size_t lit : {14, 15, 16, 269, 270, 271, 524, 525}) {
    fill(b.in, lit, Random, lit);
    memset(b.in + lit, 'x', 40);
    fill(b.in + lit + 40, lit, Random, lit + 1);
    round_trip(b, 2 * lit + 40, "literal runs");
  }
}

TEST_CASE("lz4: zeros, text and patterns compress; random bytes do not fit in fewer") {
  Bufs b;
  fill(b.in, kMax, Zeros, 1);
  CHECK(lz4_compress(b.in, kMax, b.z, kMax, table) < kMax / 200);
  fill(b.in, kMax, Text, 2);
  CHECK(lz4_compress(b.in, kMax, b.z, kMax, table) < kMax / 2);
  fill(b.in, kMax, Random, 3);
  CHECK(lz4_compress(b.in, kMax, b.z, kMax - kMax / 32, table) == 0);
}

TEST_CASE("lz4: frames round-trip; only the exact frame is accepted") {
  Bufs b;
  fill(b.in, kMax, Mixed, 9);
  size_t f = lz4_frame(b.in, kMax, b.z, kMax, table);
  REQUIRE(f > kLz4FrameOverhead);
  const uint8_t head[] = {0x04, 0x22, 0x4d, 0x18, 0x60, 0x50, 0xfb};
  CHECK(memcmp(b.z, head, sizeof head) == 0);
  CHECK(decode_guarded(b.z, f, b.out, kMax, true) == nullptr);
  CHECK(memcmp(b.in, b.out, kMax) == 0);
  CHECK(lz4_frame(b.in, kMax + 1, b.z, 2 * kMax, table) == 0);   // more than a frame's block holds
  CHECK(lz4_frame(b.in, kMax, b.z, kLz4FrameOverhead, table) == 0);
  for (size_t i = 0; i < 11; i++) {  // any header byte changed
    b.z[i] ^= 0x10;
    CHECK(decode_guarded(b.z, f, b.out, kMax, true) != nullptr);
    b.z[i] ^= 0x10;
  }
  b.z[f - 1] = 1;  // the end mark
  CHECK(decode_guarded(b.z, f, b.out, kMax, true) != nullptr);
  b.z[f - 1] = 0;
  b.z[10] |= 0x80;  // an uncompressed block: not what chkpt writes
  CHECK(decode_guarded(b.z, f, b.out, kMax, true) != nullptr);
  b.z[10] &= 0x7f;
  CHECK(decode_guarded(b.z, f - 1, b.out, kMax, true) != nullptr);
  CHECK(decode_guarded(b.z, 3, b.out, kMax, true) != nullptr);
#ifdef CHKPT_HAVE_LIBLZ4
  // the reference frame decoder reads ours
  LZ4F_dctx *dc = nullptr;
  REQUIRE(!LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION)));
  size_t out_n = kMax + kGuard, in_n = f;
  size_t r = LZ4F_decompress(dc, b.out, &out_n, b.z, &in_n, nullptr);
  CHECK(r == 0);  // the frame is complete
  CHECK(in_n == f);
  CHECK(out_n == kMax);
  CHECK(memcmp(b.in, b.out, kMax) == 0);
  LZ4F_freeDecompressionContext(dc);
#endif
}

TEST_CASE("lz4: hostile blocks are refused, never read or written out of bounds") {
  Bufs b;
  auto bad = [&](std::initializer_list<uint8_t> blk, size_t out_n) {
    uint8_t in[64];
    size_t n = 0;
    for (uint8_t x : blk) in[n++] = x;
    return decode_guarded(in, n, b.out, out_n, false) != nullptr;
  };
  CHECK(bad({}, 0));                                  // no token
  CHECK(!bad({0x00}, 0));                             // the empty block
  CHECK(bad({0x30, 'a', 'b'}, 3));                    // literals past the end of the input
  CHECK(bad({0x30, 'a', 'b', 'c'}, 2));               // literals past the end of the output
  CHECK(bad({0x10, 'a', 0x00, 0x00, 0x00}, 10));      // offset 0
  CHECK(bad({0x10, 'a', 0x02, 0x00, 0x00}, 10));      // offset before the start
  CHECK(bad({0x10, 'a', 0x01}, 10));                  // offset cut short
  CHECK(bad({0x10, 'a', 0x01, 0x00}, 5));             // a match, then nothing: no last literals
  CHECK(!bad({0x10, 'a', 0x01, 0x00, 0x00}, 5));      // 'a' + 4 more: fine
  CHECK(bad({0x10, 'a', 0x01, 0x00, 0x00}, 4));       // match past the end of the output
  CHECK(bad({0x1f, 'a', 0x01, 0x00}, 100));           // match length byte missing
  CHECK(bad({0x1f, 'a', 0x01, 0x00, 0xff, 0xff}, 100));  // length running off the input
  CHECK(bad({0xf0}, 100));                            // literal length byte missing
  CHECK(bad({0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10}, 100));  // huge literal length
  CHECK(bad({0x1f, 'a', 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, 100));  // huge match
  CHECK(bad({0x10, 'a', 0x01, 0x00, 0x10, 'b'}, 100));  // decodes to fewer bytes than asked

  // every prefix of a valid block, and every single-byte change of it: an
  // answer, never a crash or a write past the output (the guard)
  fill(b.in, 20000, Mixed, 77);
  size_t z = lz4_compress(b.in, 20000, b.z, 2 * kMax, table);
  REQUIRE(z > 0);
  for (size_t cut = 0; cut < z; cut++) {  // in a buffer of exactly that size (for ASan)
    uint8_t *p = (uint8_t *)malloc(cut ? cut : 1);
    memcpy(p, b.z, cut);
    CHECK(decode_guarded(p, cut, b.out, 20000, false) != nullptr);
    free(p);
  }
  uint64_t s = 5;
  for (int i = 0; i < 20000; i++) {
    size_t at = next(&s) % z;
    uint8_t was = b.z[at];
    b.z[at] = (uint8_t)next(&s);
    decode_guarded(b.z, z, b.out, 20000, false);
    b.z[at] = was;
  }
  // random garbage of every short length
  for (int i = 0; i < 100000; i++) {
    size_t n = next(&s) % 64;
    for (size_t j = 0; j < n; j++) b.z[j] = (uint8_t)next(&s);
    uint8_t *p = (uint8_t *)malloc(n ? n : 1);
    memcpy(p, b.z, n);
    decode_guarded(p, n, b.out, next(&s) % 300, false);
    free(p);
  }
}
