// imgtool: look inside and damage chkpt images, for the bad-input tests
// (tests/faults/badimg.sh). Built like the product (static, any ARCH), so it
// also runs in the QEMU guests. The framing is docs/FORMAT.md's:
//   preamble (8 bytes) | u32 type | u32 length | payload | u32 crc32c | ...
//
//   imgtool list IMAGE                  one line per record: OFFSET TYPE NAME LENGTH
//   imgtool fixcrc IMAGE                recompute every record's CRC in place, so a
//                                       patched field reaches the decoders
//   imgtool poke IMAGE OFFSET WIDTH VALUE   store VALUE little-endian, WIDTH = 1, 2, 4 or 8
//   imgtool flip IMAGE BIT              invert bit BIT (byte BIT/8, bit BIT%8)
//   imgtool setcrc IMAGE OFFSET         fix the CRC of the one record at OFFSET
#include <fcntl.h>
#include <unistd.h>

#include "base.h"
#include "codec.h"
#include "crc32c.h"
#include "image.h"

namespace {
struct File {
  uint8_t *p = nullptr;
  size_t n = 0;
};

Err load(const char *path, File *f) {
  Fd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return sys_err("%s", path);
  off_t size = lseek(fd.get(), 0, SEEK_END);
  if (size < 0 || lseek(fd.get(), 0, SEEK_SET) < 0) return sys_err("%s", path);
  f->n = (size_t)size;
  f->p = static_cast<uint8_t *>(malloc(f->n + 1));
  if (!f->p) return errf("out of memory");
  if (read_full(fd.get(), f->p, f->n) != (long)f->n) return sys_err("reading %s", path);
  return ok();
}

Err store(const char *path, const File &f) {
  Fd fd(open(path, O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd.ok()) return sys_err("%s", path);
  return write_full(fd.get(), f.p, f.n);
}

// Calls fn(offset, type, length) for every record whose frame and CRC are
// within the file; returns the offset where that stopped.
template <typename Fn> size_t each_record(const File &f, Fn fn) {
  size_t off = 8;
  while (off + 12 <= f.n) {
    uint32_t len = load_le32(f.p + off + 4);
    if (len > f.n - off - 12) break;
    fn(off, load_le32(f.p + off), len);
    off += 12 + (size_t)len;
  }
  return off;
}

void fix_one(File &f, size_t off) {
  uint32_t len = load_le32(f.p + off + 4);
  store_le32(f.p + off + 8 + len, crc32c(0, f.p + off, 8 + (size_t)len));
}

bool number(const char *s, uint64_t *v) {
  char *end;
  *v = strtoull(s, &end, 0);
  return *s && !*end;
}

Err poke(File &f, const char *off_s, const char *width_s, const char *value_s) {
  uint64_t off, width, value;
  if (!number(off_s, &off) || !number(width_s, &width) || !number(value_s, &value))
    return errf("poke: bad number");
  if (width != 1 && width != 2 && width != 4 && width != 8) return errf("poke: width must be 1, 2, 4 or 8");
  if (off > f.n || width > f.n - off) return errf("poke: offset %llu beyond the end", (unsigned long long)off);
  for (uint64_t i = 0; i < width; i++) f.p[off + i] = (uint8_t)(value >> (8 * i));
  return ok();
}

Err run(int argc, char **argv) {
  if (argc < 3) return errf("usage: imgtool list|fixcrc|poke|flip|setcrc IMAGE [ARGS]");
  const char *cmd = argv[1];
  File f;
  TRY(load(argv[2], &f));
  if (!strcmp(cmd, "list")) {
    each_record(f, [](size_t off, uint32_t type, uint32_t len) {
      outf(1, "%zu %u %s %u\n", off, type, rec_name(type), len);
    });
    return ok();
  }
  if (!strcmp(cmd, "fixcrc")) {
    each_record(f, [&f](size_t off, uint32_t, uint32_t) { fix_one(f, off); });
  } else if (!strcmp(cmd, "setcrc") && argc == 4) {
    uint64_t off;
    if (!number(argv[3], &off) || off + 12 > f.n || load_le32(f.p + off + 4) > f.n - off - 12)
      return errf("setcrc: no whole record at %s", argv[3]);
    fix_one(f, off);
  } else if (!strcmp(cmd, "poke") && argc == 6) {
    TRY(poke(f, argv[3], argv[4], argv[5]));
  } else if (!strcmp(cmd, "flip") && argc == 4) {
    uint64_t bit;
    if (!number(argv[3], &bit) || bit / 8 >= f.n) return errf("flip: bit %s beyond the end", argv[3]);
    f.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  } else {
    return errf("unknown command or wrong arguments: %s", cmd);
  }
  return store(argv[2], f);
}
}  // namespace

int main(int argc, char **argv) {
  Err e = run(argc, argv);
  if (e) {
    outf(2, "imgtool: %s\n", e.msg);
    return 1;
  }
  return 0;
}
