// File locks (fcntl(2) "Advisory record locking" and "Open file description
// locks", flock(2)): what a process holds is in the fdinfo of the fds it took
// them through (fs/locks.c show_fd_locks, lock_get_status):
//   lock:	1: POSIX  ADVISORY  WRITE 27609 fe:00:10953789 5 14
//   lock:	1: OFDLCK ADVISORY  READ  -1 fe:00:10953791 0 EOF
//   lock:	1: FLOCK  ADVISORY  WRITE 27609 fe:00:10953790 0 EOF
// (start and inclusive end, or EOF). A LOCK record keeps each one with the fd
// it shows on. Leases, delegations and anything else are refused.
//
// At restore OFD locks and flocks, which belong to the open file description,
// are taken again in new process k by the description's first holder once
// its fds exist. POSIX locks belong to the process and go away when it closes
// any fd of the file, as the restore does with its own copies: they are taken
// last, by a call injected once the restorer's fds are gone (procattr.cpp
// restore_posix_locks: this file is linked into the unit tests, which have
// no injection).
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>

#include "codec.h"
#include "image.h"
#include "model.h"
#include "procattr.h"

namespace {
constexpr uint64_t kOffsetMax = 0x7fffffffffffffffull;  // OFFSET_MAX: a lock to EOF

const char *kind_name(uint8_t kind) {
  return kind == LockRec::kPosix ? "POSIX" : kind == LockRec::kOfd ? "OFD" : "flock";
}

// The next blank-separated word of *s into w (false if none or too long).
bool word(const char **s, char *w, size_t cap) {
  while (**s == ' ' || **s == '\t') (*s)++;
  size_t n = 0;
  while ((*s)[n] && (*s)[n] != ' ' && (*s)[n] != '\t' && (*s)[n] != '\n') n++;
  if (n == 0 || n >= cap) return false;
  memcpy(w, *s, n);
  w[n] = 0;
  *s += n;
  return true;
}

// One "lock:" line after its tab: ID: KIND ADVISORY TYPE PID DEV:INO START END|EOF.
// (no sscanf: it would pull all of musl's scanf in)
bool parse_lock_line(const char *l, LockRec *r) {
  char w[8][24];
  for (auto &x : w)
    if (!word(&l, x, sizeof x)) return false;
  const char *kind = w[1], *adv = w[2], *type = w[3], *start = w[6], *end = w[7];
  if (strcmp(kind, "POSIX") == 0) r->kind = LockRec::kPosix;
  else if (strcmp(kind, "OFDLCK") == 0) r->kind = LockRec::kOfd;
  else if (strcmp(kind, "FLOCK") == 0) r->kind = LockRec::kFlock;
  else return false;
  if (strcmp(adv, "ADVISORY") != 0) return false;
  if (strcmp(type, "WRITE") == 0) r->write = 1;
  else if (strcmp(type, "READ") == 0) r->write = 0;
  else return false;
  if (!parse_u64(start, &r->start) || r->start > kOffsetMax) return false;
  if (strcmp(end, "EOF") == 0) {
    r->len = 0;
    return true;
  }
  uint64_t last;
  if (!parse_u64(end, &last) || last < r->start || last >= kOffsetMax) return false;
  r->len = last - r->start + 1;
  return true;
}
}  // namespace

Err dump_fd_locks(int pid, int fd, uint32_t desc, const char *fdinfo, Vec<LockRec> *out) {
  for (auto &l : *out)
    if (l.desc == desc) return ok();  // every fd of the description shows the same locks
  for (const char *l = fdinfo; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : nullptr) {
    if (!starts_with(l, "lock:\t")) continue;
    LockRec r;
    r.fd = fd;
    r.desc = desc;
    if (!parse_lock_line(l + 6, &r)) {
      int n = (int)strcspn(l + 6, "\n");
      return errf("process %d fd %d holds a file lock that cannot be restored: %.*s", pid, fd, n, l + 6);
    }
    out->push(r);
  }
  return ok();
}

Err check_locks_image(const ProcImage &img, int pid) {
  for (auto &l : img.attrs.locks) {
    bool open = false;
    for (auto &f : img.files) open |= f.fd == l.fd;
    if (!open) return bad_image("process %d: a lock on fd %d, which it does not have", pid, l.fd);
  }
  return ok();
}

struct flock lock_range(const LockRec &l) {
  struct flock fl = {};
  fl.l_type = l.write ? F_WRLCK : F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = (off_t)l.start;
  fl.l_len = (off_t)l.len;
  return fl;
}

Err lock_failed(int pid, const LockRec &l, int err) {
  errno = err;
  return sys_err("process %d fd %d: taking its %s %s lock again%s", pid, l.fd, kind_name(l.kind), l.write ? "write" : "read",
                 err == EAGAIN || err == EACCES ? " (another process holds the file locked)" : "");
}

Err restore_description_locks(const SetImage &set, size_t k) {
  const ProcImage &img = set.procs[k];
  for (auto &l : img.attrs.locks) {
    if (l.kind == LockRec::kPosix) continue;
    uint32_t desc = 0;
    for (auto &f : img.files)
      if (f.fd == l.fd) desc = f.desc;
    size_t p;
    int fd;
    if (!first_holder(set, desc, &p, &fd) || p != k) continue;  // taken by its first holder
    struct flock fl = lock_range(l);
    int r = l.kind == LockRec::kOfd ? fcntl(l.fd, F_OFD_SETLK, &fl) : flock(l.fd, (l.write ? LOCK_EX : LOCK_SH) | LOCK_NB);
    if (r < 0) return lock_failed(img.proc.pid, l, errno);
  }
  return ok();
}
