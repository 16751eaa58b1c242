// signalfd(2): a set of signals read as siginfo. fdinfo shows the set as
// "sigmask:\t<hex>" (fs/signalfd.c signalfd_show_fdinfo; bit N-1 is signal N).
// Made anew at restore with the same set; the head's status flags carry
// O_NONBLOCK.
//
// Payload: u64 mask, empty blob.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "model.h"
#include "procfs.h"

namespace {
bool match(const FdProbe &p) { return strcmp(p.link, "anon_inode:[signalfd]") == 0; }

Err dump(const FdProbe &p, FdescRec *f) {
  char v[32];
  if (!status_field(p.fdinfo, "sigmask", v, sizeof v)) return errf("process %d fd %d: no signalfd sigmask", p.pid, p.fd);
  return set_u64_payload(f, strtoull(v, nullptr, 16));
}

bool mask_of(const FdescRec &f, uint64_t *mask) { return u64_payload(f, mask); }

bool valid(const FdescRec &f) {
  uint64_t m;
  return mask_of(f, &m);
}

Err open_signalfd(OpenCtx &c, size_t i) {
  uint64_t mask;
  if (!mask_of(c.set.fdescs[i], &mask)) return bad_image("signalfd description %u", (unsigned)i);
  // The raw call takes the kernel's 8-byte sigset (libc's sigset_t is larger).
  long fd = syscall(SYS_signalfd4, -1, &mask, sizeof mask, O_CLOEXEC);
  if (fd < 0) return sys_err("signalfd");
  return c.place(i, (int)fd);
}
}  // namespace

extern const FdKind kSignalfdKind = {
    FileKind::Signalfd, "signalfd", match, dump, valid, open_signalfd, nullptr, nullptr, nullptr, nullptr,
};
