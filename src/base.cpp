#include "base.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <new>
#include <unistd.h>

static_assert(sizeof(Err) <= 512, "Err is returned by value everywhere: keep it small");

Err ok() {
  Err e;
  e.msg[0] = 0;
  e.kind = ErrKind::None;
  e.errnum = 0;
  return e;
}

namespace {
// "<prefix><fmt...>[: <strerror(errnum)>]" of the given kind.
Err make(ErrKind kind, int errnum, const char *prefix, const char *fmt, va_list ap) {
  Err e;
  e.kind = kind;
  e.errnum = (uint8_t)(errnum > 0 && errnum < 256 ? errnum : 0);
  size_t n = strlen(prefix);
  memcpy(e.msg, prefix, n + 1);
  int m = vsnprintf(e.msg + n, sizeof e.msg - n, fmt, ap);
  if (m > 0) n += (size_t)m;
  if (n >= sizeof e.msg) n = sizeof e.msg - 1;
  if (errnum) snprintf(e.msg + n, sizeof e.msg - n, ": %s", strerror(errnum));
  if (!e.msg[0]) snprintf(e.msg, sizeof e.msg, "unknown error");
  return e;
}
}  // namespace

Err errf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Err e = make(ErrKind::Other, 0, "", fmt, ap);
  va_end(ap);
  return e;
}

Err errk(ErrKind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Err e = make(kind, 0, "", fmt, ap);
  va_end(ap);
  return e;
}

Err bad_image(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Err e = make(ErrKind::BadImage, 0, "bad image: ", fmt, ap);
  va_end(ap);
  return e;
}

Err sys_err(const char *fmt, ...) {
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  Err e = make(saved == EPERM || saved == EACCES ? ErrKind::NotPermitted : ErrKind::System, saved, "", fmt, ap);
  va_end(ap);
  return e;
}

Err wrap(const Err &inner, const char *fmt, ...) {
  Err e;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(e.msg, sizeof e.msg, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n < sizeof e.msg) snprintf(e.msg + n, sizeof e.msg - n, ": %.200s", inner.msg);
  e.kind = inner.kind == ErrKind::None ? ErrKind::Other : inner.kind;
  e.errnum = inner.errnum;
  return e;
}

int exit_status(const Err &e) {
  if (!e) return 0;
  return e.kind == ErrKind::BadImage ? 2 : 1;
}

void send_err(int fd, const Err &e) { (void)write_full(fd, &e, sizeof e); }

bool recv_err(int fd, Err *e) {
  if (read_full(fd, e, sizeof *e) != (long)sizeof *e) return false;
  e->msg[sizeof e->msg - 1] = 0;  // from another process: trust nothing
  if (!e->msg[0]) return false;
  if (e->kind > ErrKind::Busy) e->kind = ErrKind::Other;
  return true;
}

void Str::assign(const char *s, size_t n) {
  free(p_);
  p_ = static_cast<char *>(malloc(n + 1));
  if (!p_) abort();
  if (n) memcpy(p_, s, n);  // s may be null when n is 0
  p_[n] = 0;
  n_ = n;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

long read_full(int fd, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, static_cast<char *>(buf) + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += r;
  }
  return (long)got;
}

Err write_full(int fd, const void *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = write(fd, static_cast<const char *>(buf) + done, n - done);
    if (r < 0 && errno == EINTR && abort_requested) return check_abort();  // not stuck on a full pipe
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys_err("write");
    done += r;
  }
  return ok();
}

Err read_text(const char *path, char *out, size_t cap, size_t *len) {
  Fd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return sys_err("%s", path);
  long n = read_full(fd.get(), out, cap - 1);
  if (n < 0) return sys_err("%s", path);
  if ((size_t)n == cap - 1) return errf("%s: larger than %zu bytes", path, cap - 1);
  out[n] = 0;
  if (len) *len = n;
  return ok();
}

Err read_link(const char *path, char *out, size_t cap) {
  ssize_t n = readlink(path, out, cap - 1);
  if (n < 0) return sys_err("readlink %s", path);
  out[n] = 0;
  return ok();
}

volatile int abort_requested = 0;

Err check_abort() { return abort_requested ? errf("interrupted") : ok(); }

Err place_fd(int fd, int want, int fd_flags) {
  if (fd != want) {
    if (dup2(fd, want) < 0) return sys_err("dup2 to fd %d", want);
    close(fd);
  }
  if (fcntl(want, F_SETFD, fd_flags) < 0) return sys_err("fcntl fd %d", want);
  return ok();
}

void outf(int fd, const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof buf - 1) n = sizeof buf - 1;
  if (n > 0) (void)write_full(fd, buf, n);
}

bool parse_u64(const char *s, uint64_t *out) {
  if (!*s) return false;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    uint64_t d = *s - '0';
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}
