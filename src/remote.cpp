#include "remote.h"

#include <string.h>

Err Remote::must(const char *what, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                 uint64_t a5) {
  int64_t r;
  TRY(t_.syscall(nr, &r, a0, a1, a2, a3, a4, a5));
  if (r < 0) return errf("%s in thread %d: %s", what, t_.tid(), strerror((int)-r));
  return ok();
}

Err Remote::fits(size_t off, size_t n) const {
  if (!g_.scratch || off > g_.scratch_len || n > g_.scratch_len - off)
    return errf("internal: %zu bytes at %zu do not fit the %llu-byte scratch area", n, off,
                (unsigned long long)g_.scratch_len);
  return ok();
}

Err Remote::put(size_t off, const void *p, size_t n) const {
  TRY(fits(off, n));
  return mem_.write(g_.scratch + off, p, n);
}

Err Remote::get(size_t off, void *p, size_t n) const {
  TRY(fits(off, n));
  return mem_.read(g_.scratch + off, p, n);
}
