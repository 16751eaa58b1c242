// eventfd(2): a 64-bit counter, shown in fdinfo as "eventfd-count: <hex>"
// (fs/eventfd.c eventfd_show_fdinfo). Made anew at restore with the same count.
//
// Payload: u64 count.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "model.h"
#include "procfs.h"

namespace {
constexpr uint64_t kMaxCount = 0xfffffffffffffffeull;  // ULLONG_MAX - 1: a larger one cannot be written

bool match(const FdProbe &p) { return strcmp(p.link, "anon_inode:[eventfd]") == 0; }

Err dump(const FdProbe &p, FdescRec *f) {
  char v[32];
  if (!status_field(p.fdinfo, "eventfd-count", v, sizeof v))
    return errf("process %d fd %d: no eventfd-count", p.pid, p.fd);
  return set_u64_payload(f, strtoull(v, nullptr, 16));
}

bool count_of(const FdescRec &f, uint64_t *count) { return u64_payload(f, count) && *count <= kMaxCount; }

bool valid(const FdescRec &f) {
  uint64_t c;
  return count_of(f, &c);
}

// eventfd(2) takes an unsigned int; the rest is written, which cannot block
// as the total stays within kMaxCount.
Err open_eventfd(OpenCtx &c, size_t i) {
  uint64_t count;
  if (!count_of(c.set.fdescs[i], &count)) return bad_image("eventfd description %u", (unsigned)i);
  uint32_t first = count > 0xffffffffull ? 0xffffffffu : (uint32_t)count;
  int fd = eventfd(first, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return sys_err("eventfd");
  Fd ev(fd);
  uint64_t rest = count - first;
  if (rest && write(fd, &rest, 8) != 8) return sys_err("eventfd count");
  return c.place(i, ev.release());
}
}  // namespace

extern const FdKind kEventfdKind = {
    FileKind::Eventfd, "eventfd", match, dump, valid, open_eventfd, nullptr, nullptr, nullptr, nullptr,
};
