// LZ4 block and frame codec (lz4.h).
//
// A block is a series of sequences: a token (high nibble: literal count, low:
// match length - 4; 15 in either means more length bytes follow, each added,
// until one is not 255), the literals, a u16 little-endian offset back into
// the output (1..65535), the extra match length bytes. The last sequence has
// literals only. The compressor keeps the format's end rules: the last 5
// bytes are literals and no match starts in the last 12.
#include "lz4.h"

#include <string.h>

namespace {
constexpr size_t kMinMatch = 4, kLastLiterals = 5, kMfLimit = 12;
constexpr uint8_t kFrameHead[7] = {0x04, 0x22, 0x4d, 0x18, 0x60, 0x50, 0xfb};

uint32_t read32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
uint32_t hash(uint32_t v) { return (v * 2654435761u) >> 20; }  // 12 bits: kLz4TableEntries

// How many bytes at a and b are equal, up to end (a < end), 8 at a time.
size_t common(const uint8_t *a, const uint8_t *b, const uint8_t *end) {
  const uint8_t *p = a;
  for (uint64_t x, y; end - p >= 8; p += 8, b += 8) {
    memcpy(&x, p, 8);
    memcpy(&y, b, 8);
    if (x != y)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      return (size_t)(p - a) + (size_t)__builtin_ctzll(x ^ y) / 8;
#else
      return (size_t)(p - a) + (size_t)__builtin_clzll(x ^ y) / 8;
#endif
  }
  while (p < end && *p == *b) p++, b++;
  return (size_t)(p - a);
}

void put_len(uint8_t *&op, size_t l) {
  for (; l >= 255; l -= 255) *op++ = 255;
  *op++ = (uint8_t)l;
}

// One sequence: nlit literals, then (if ml) a match of ml >= 4 bytes at off.
// False if it does not fit before oend.
bool put_seq(uint8_t *&op, const uint8_t *oend, const uint8_t *lit, size_t nlit, size_t off, size_t ml) {
  if ((size_t)(oend - op) < 1 + nlit / 255 + 1 + nlit + 2 + ml / 255 + 1) return false;
  uint8_t *tok = op++;
  *tok = (uint8_t)((nlit < 15 ? nlit : 15) << 4);
  if (nlit >= 15) put_len(op, nlit - 15);
  memcpy(op, lit, nlit);
  op += nlit;
  if (!ml) return true;
  *op++ = (uint8_t)off;
  *op++ = (uint8_t)(off >> 8);
  ml -= kMinMatch;
  *tok |= (uint8_t)(ml < 15 ? ml : 15);
  if (ml >= 15) put_len(op, ml - 15);
  return true;
}

// A length's extra bytes; false past the end of the input or beyond max.
bool get_len(const uint8_t *&ip, const uint8_t *iend, size_t *l, size_t max) {
  for (;;) {
    if (ip == iend) return false;
    uint8_t b = *ip++;
    *l += b;
    if (*l > max) return false;
    if (b != 255) return true;
  }
}
}  // namespace

size_t lz4_compress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap, uint32_t *table) {
  uint8_t *op = dst;
  const uint8_t *const oend = dst + cap, *anchor = src;
  if (n > kMfLimit) {
    memset(table, 0, kLz4TableEntries * sizeof *table);
    const uint8_t *ip = src + 1, *const mflimit = src + n - kMfLimit, *const mlimit = src + n - kLastLiterals;
    unsigned misses = 0;  // step faster through data that does not compress
    while (ip < mflimit) {
      uint32_t h = hash(read32(ip));
      const uint8_t *ref = src + table[h];
      table[h] = (uint32_t)(ip - src);
      if (ip - ref > 65535 || read32(ref) != read32(ip)) {
        ip += 1 + (misses++ >> 5);
        continue;
      }
      misses = 0;
      while (ip > anchor && ref > src && ip[-1] == ref[-1]) ip--, ref--;
      const uint8_t *e = ip + kMinMatch, *r = ref + kMinMatch;
      e += common(e, r, mlimit);
      if (!put_seq(op, oend, anchor, (size_t)(ip - anchor), (size_t)(ip - ref), (size_t)(e - ip))) return 0;
      anchor = ip = e;
    }
  }
  return put_seq(op, oend, anchor, (size_t)(src + n - anchor), 0, 0) ? (size_t)(op - dst) : 0;
}

const char *lz4_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t out_n) {
  const uint8_t *ip = src, *const iend = src + n;
  uint8_t *op = dst, *const oend = dst + out_n;
  for (;;) {
    if (ip == iend) return "LZ4 block ends inside a sequence";
    const unsigned tok = *ip++;
    size_t lit = tok >> 4, ml = tok & 15;
    if (lit == 15 && !get_len(ip, iend, &lit, out_n)) return "LZ4 literal length past the end";
    if (lit > (size_t)(iend - ip) || lit > (size_t)(oend - op)) return "LZ4 literals past the end";
    // Short runs as one 16-byte copy where both buffers have room (what it
    // writes beyond the run is written over by what follows).
    if (lit <= 16 && iend - ip >= 16 && oend - op >= 16) memcpy(op, ip, 16);
    else memcpy(op, ip, lit);
    ip += lit;
    op += lit;
    if (ip == iend) return op == oend ? nullptr : "LZ4 data shorter than the pages it is for";
    if (iend - ip < 2) return "LZ4 block ends inside a match offset";
    size_t off = ip[0] | (size_t)ip[1] << 8;
    ip += 2;
    if (off == 0 || off > (size_t)(op - dst)) return "LZ4 match offset before the start of the data";
    if (ml == 15 && !get_len(ip, iend, &ml, out_n)) return "LZ4 match length past the end";
    ml += kMinMatch;
    if (ml > (size_t)(oend - op)) return "LZ4 match past the end of the pages";
    const uint8_t *m = op - off;
    if (off >= 8 && (size_t)(oend - op) >= ml + 8) {  // 8 bytes at a time, each already there
      for (size_t i = 0; i < ml; i += 8) memcpy(op + i, m + i, 8);
      op += ml;
      continue;
    }
    // An overlapping match repeats the last off bytes: copy in doubling
    // pieces, each from before where it goes.
    for (; ml > off; off *= 2) {
      memcpy(op, m, off);
      op += off;
      ml -= off;
    }
    memcpy(op, m, ml);
    op += ml;
  }
}

size_t lz4_frame(const uint8_t *src, size_t n, uint8_t *dst, size_t cap, uint32_t *table) {
  if (cap < kLz4FrameOverhead + 1 || n > kLz4MaxData) return 0;
  size_t z = lz4_compress(src, n, dst + 11, cap - kLz4FrameOverhead, table);
  if (!z) return 0;
  memcpy(dst, kFrameHead, sizeof kFrameHead);
  for (int i = 0; i < 4; i++) dst[7 + i] = (uint8_t)(z >> 8 * i), dst[11 + z + i] = 0;
  return z + kLz4FrameOverhead;
}

const char *lz4_unframe(const uint8_t *src, size_t n, uint8_t *dst, size_t out_n) {
  if (n < kLz4FrameOverhead || memcmp(src, kFrameHead, sizeof kFrameHead))
    return "not the LZ4 frame header chkpt writes";
  uint32_t z = (uint32_t)src[7] | (uint32_t)src[8] << 8 | (uint32_t)src[9] << 16 | (uint32_t)src[10] << 24;
  if (z != n - kLz4FrameOverhead || read32(src + n - 4) != 0) return "LZ4 frame is not one compressed block";
  return lz4_decompress(src + 11, z, dst, out_n);
}
