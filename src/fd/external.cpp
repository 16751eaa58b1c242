// External: a pipe or socket whose other end was outside the checkpointed set
// (a pipeline's `| tee log`, a supervisor's log pipe). Nothing of it is saved
// but which fd of rstrt's takes its place: the number the first process of
// the set had it at (files.cpp take_external decides which may be external:
// fds 0-2, and those chkpt --external names). At restore that is rstrt's own
// fd of that number, or what rstrt --inherit-fd N=FD|PATH|- says.
//
// Payload: u32 fd (the number rstrt supplies), empty blob. The head's path is
// the link text it had ("pipe:[123]").
#include <fcntl.h>
#include <unistd.h>

#include "model.h"

namespace {
bool fd_of(const FdescRec &f, uint32_t *fd) {
  Dec d = payload_of(f);
  *fd = d.u32();
  uint32_t n;
  d.blob(&n, 0);
  return payload_done(d) && *fd < (1u << 20);
}

bool never(const FdProbe &) { return false; }  // made by take_external, never recognised
Err no_dump(const FdProbe &, FdescRec *) { return errf("internal: external descriptions are not dumped"); }

bool valid(const FdescRec &f) {
  uint32_t fd;
  return fd_of(f, &fd);
}

// "-": a pipe whose other end is closed, so the process reads end of file or
// writes into EPIPE, as when its peer went away.
Err closed_channel(bool reader, int *out) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return sys_err("pipe");
  *out = reader ? p[0] : p[1];
  close(reader ? p[1] : p[0]);
  return ok();
}

Err open_external(OpenCtx &c, size_t i) {
  const FdescRec &f = c.set.fdescs[i];
  uint32_t n;
  if (!fd_of(f, &n)) return bad_image("external description %u", (unsigned)i);
  bool reader = (f.flags & O_ACCMODE) == O_RDONLY;
  for (auto &in : *c.inherit) {
    if (in.n != (int)n) continue;
    int fd = -1;
    if (in.eof) TRY(closed_channel(reader, &fd));
    else if (in.path) fd = open(in.path, (reader ? O_RDONLY : O_WRONLY | O_APPEND | O_CREAT) | O_CLOEXEC | O_NOCTTY, 0666);
    else fd = fcntl(in.fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return sys_err("--inherit-fd %d=%s", in.n, in.path ? in.path : "FD");
    return c.place_as_is(i, fd);
  }
  int fd = fcntl((int)n, F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    return errf("the image expects fd %u from outside (it was %s): rstrt has no fd %u; give it one, or "
                "--inherit-fd %u=FD|PATH|-", n, f.path.c(), n, n);
  return c.place_as_is(i, fd);
}
}  // namespace

extern const FdKind kExternalKind = {
    FileKind::External, "external", never, no_dump, valid, open_external, nullptr, nullptr, nullptr, nullptr,
};
