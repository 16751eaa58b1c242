// Character devices that are not terminals (/dev/null, /dev/zero, /dev/urandom,
// ...): reopened by their path with their status flags; the device number
// must be the same at restore.
//
// Payload: u64 rdev, empty blob. A terminal's since 2.2 has then, for
// /dev/tty (5:0), u64 tty: the terminal it was opened on (TIOCGDEV on the very
// file, through pidfd_getfd(2)), which pty.cpp looks for among the set's ptys.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "model.h"

namespace {
// Terminals by device major (Documentation/admin-guide/devices.txt): 4 = tty0..
// and ttyS*, 136-143 = Unix98 pty slaves, 5:0 /dev/tty, 5:1 /dev/console.
bool is_terminal(dev_t rdev) {
  unsigned maj = major(rdev), min = minor(rdev);
  return maj == 4 || (maj >= 136 && maj <= 143) || (maj == 5 && min <= 1);
}

// A pseudo-terminal master (/dev/ptmx, 5:2) reopened would be a new pty, not
// the one its slave belongs to: it is a kind of its own (pty.cpp).
bool is_ptmx(dev_t rdev) { return major(rdev) == 5 && minor(rdev) == 2; }

bool match(const FdProbe &p) {
  return p.link[0] == '/' && S_ISCHR(p.st->st_mode) && !is_terminal(p.st->st_rdev) && !is_ptmx(p.st->st_rdev) &&
         !ends_with(p.link, " (deleted)");
}

Err dump(const FdProbe &p, FdescRec *f) { return set_u64_payload(f, p.st->st_rdev); }

bool rdev_of(const FdescRec &f, uint64_t *rdev) { return u64_payload(f, rdev); }

bool valid(const FdescRec &f) {
  uint64_t rdev;
  return rdev_of(f, &rdev) && f.path.c()[0] == '/' && !is_terminal((dev_t)rdev) && !is_ptmx((dev_t)rdev);
}

Err open_device(OpenCtx &c, size_t i) {
  const FdescRec &f = c.set.fdescs[i];
  uint64_t rdev;
  if (!rdev_of(f, &rdev)) return bad_image("device description %u", (unsigned)i);
  int flags = (int)(f.flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)) | O_NOCTTY | O_CLOEXEC;
  Fd fd(open(f.path.c(), flags));
  if (!fd.ok()) return sys_err("cannot reopen %s", f.path.c());
  struct stat st;
  if (fstat(fd.get(), &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != rdev)
    return errf("%s is not the device it was at the checkpoint", f.path.c());
  return c.place(i, fd.release());
}

// A terminal becomes rstrt's own terminal (the restored job is attached to it).
bool match_terminal(const FdProbe &p) { return S_ISCHR(p.st->st_mode) && is_terminal(p.st->st_rdev); }

bool is_dev_tty(dev_t rdev) { return major(rdev) == 5 && minor(rdev) == 0; }

// /dev/tty: also the terminal behind it (drivers/tty/tty_io.c TIOCGDEV).
Err dump_terminal(const FdProbe &p, FdescRec *f) {
  if (!is_dev_tty(p.st->st_rdev)) return set_u64_payload(f, p.st->st_rdev);
  Fd pidfd(syscall(SYS_pidfd_open, p.pid, 0));
  Fd mine(pidfd.ok() ? syscall(SYS_pidfd_getfd, pidfd.get(), p.fd, 0) : -1);
  unsigned int tty = 0;
  if (!mine.ok() || ioctl(mine.get(), TIOCGDEV, &tty) < 0)
    return sys_err("process %d fd %d: the terminal behind /dev/tty", p.pid, p.fd);
  uint8_t head[8], t[8];
  Enc e(head, sizeof head), tail(t, sizeof t);
  e.u64(p.st->st_rdev);
  tail.u64(tty);
  return set_payload(f, e, nullptr, 0, &tail);
}

bool valid_terminal(const FdescRec &f) {
  uint64_t rdev, tty;
  return terminal_fields(f, &rdev, &tty);
}

Err open_terminal(OpenCtx &c, size_t i) {
  const FdescRec &f = c.set.fdescs[i];
  if (c.tty_fd < 0) return errf("%s was a terminal, and rstrt has no terminal to attach it to", f.path.c());
  int fd = fcntl(c.tty_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return sys_err("dup of the terminal");
  return c.place_as_is(i, fd);
}
}  // namespace

bool terminal_fields(const FdescRec &f, uint64_t *rdev, uint64_t *tty) {
  Dec d = payload_of(f);
  *rdev = d.u64();
  uint32_t n;
  d.blob(&n, 0);
  *tty = d.left() ? d.u64() : 0;  // since 2.2, /dev/tty only
  return payload_done(d);
}

extern const FdKind kCharDevKind = {
    FileKind::CharDev, "character device", match, dump, valid, open_device, nullptr, nullptr, nullptr, nullptr,
};
extern const FdKind kTerminalKind = {
    FileKind::Terminal, "terminal", match_terminal, dump_terminal, valid_terminal, open_terminal, nullptr, nullptr, nullptr, nullptr,
};
