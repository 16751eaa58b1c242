// libFuzzer target for the restore planner: plan_image() runs every check that
// rstrt makes on an image before and while it rebuilds the processes (preamble,
// header, tree, per-process metadata decoders, each fd kind's payload, page
// records against the saved layout, the trailer), the rights checks and the
// plan rstrt makes before its first side effect (file rights per process, fd
// slots, gadget addresses): the same code, without opening or creating anything.
//
// Each input gets its record CRCs recomputed first (the framing of
// docs/FORMAT.md), so that mutations reach the decoders instead of stopping at
// the checksum; the checksum path itself is covered by tests/unit and
// tests/faults/badimg.sh. What is checked besides "no crash, no leak, no
// undefined behaviour" (ASan, UBSan): every refusal is one line that rstrt
// reports with exit status 2: of kind ErrKind::BadImage (src/base.h), and
// saying so, i.e. starting with "bad image" or "not a chkpt image".
//
// Build and run: make fuzz FUZZ_SECONDS=N (tests/fuzz/run.sh).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codec.h"
#include "crc32c.h"
#include "restore.h"

// The product's commands report through complain() and fail() and chkpt
// --help lists the commands with print_commands() (main.cpp, not linked here).
void complain(const char *, const char *) {}
int fail(const char *, const Err &e) { return exit_status(e); }
void print_commands(int) {}

namespace {
void fix_crcs(uint8_t *p, size_t n) {
  size_t off = 8;
  while (off + 12 <= n) {
    uint32_t len = load_le32(p + off + 4);
    if (len > n - off - 12) break;
    store_le32(p + off + 8 + len, crc32c(0, p + off, 8 + (size_t)len));
    off += 12 + (size_t)len;
  }
}

bool starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int fd = memfd_create("image", 0);
  if (fd < 0) abort();
  uint8_t *copy = static_cast<uint8_t *>(malloc(size + 1));
  memcpy(copy, data, size);
  fix_crcs(copy, size);
  if (ftruncate(fd, 0) < 0 || pwrite(fd, copy, size, 0) != (ssize_t)size || lseek(fd, 0, SEEK_SET) < 0) abort();
  free(copy);
  Err e = plan_image(fd);
  bool says_bad = starts(e.msg, "bad image") || starts(e.msg, "not a chkpt image");
  // A well-formed image may still ask for rights the caller does not give
  // (process attributes beyond its user's): that is refused, as not permitted.
  bool refused = e.kind == ErrKind::NotPermitted && exit_status(e) == 1;
  if (e && (strchr(e.msg, '\n') || !((says_bad && exit_status(e) == 2) || refused))) {
    fprintf(stderr, "refusal that rstrt would not report as a bad image or a refusal: %s\n", e.msg);
    abort();
  }
  return 0;
}
