// Pipes and FIFOs: unread data survives. At checkpoint the pipe is opened anew
// through /proc/PID/fd/N (which opens the pipe itself, like a FIFO) and its
// contents are duplicated with tee(2) into a private pipe, so nothing is
// consumed. At restore rstrt makes one pipe per saved pipe (a FIFO is opened by
// its path, held open read-write meanwhile so that neither end blocks and the
// data stays), sets its size, writes the data back in and hands the ends to the
// descriptions that had them.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "process.h"

namespace {
Err read_pipe_contents(int in, uint32_t size, Str *out) {
  int tmp[2];
  if (pipe2(tmp, O_CLOEXEC | O_NONBLOCK) < 0) return sys_err("pipe");
  Fd r(tmp[0]), w(tmp[1]);
  if (fcntl(w.get(), F_SETPIPE_SZ, (int)size) < 0) return sys_err("F_SETPIPE_SZ");
  ssize_t n = tee(in, w.get(), size, SPLICE_F_NONBLOCK);
  if (n < 0 && errno != EAGAIN) return sys_err("tee");
  if (n <= 0) return ok();  // empty pipe
  char *buf = static_cast<char *>(malloc((size_t)n));
  if (!buf) return errf("out of memory");
  long got = read_full(r.get(), buf, (size_t)n);
  if (got == n) *out = Str(buf, (size_t)n);
  free(buf);
  return got == n ? ok() : errf("reading pipe contents");
}

// Pipe ends of the set with this inode: which description is the read end,
// which the write end (-1: closed, or outside the set).
void ends_of(const SetImage &set, uint64_t ino, int *rd, int *wr) {
  *rd = *wr = -1;
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdescRec &f = set.fdescs[i];
    if (f.kind != FileKind::Pipe || f.ino != ino) continue;
    int &end = f.pipe_write_end ? *wr : *rd;
    if (end < 0) end = (int)i;
  }
}

Err fill_pipe(int wr, const FdescRec &f) {
  if (f.pipe_size && fcntl(wr, F_SETPIPE_SZ, (int)f.pipe_size) < 0) return sys_err("F_SETPIPE_SZ %u", f.pipe_size);
  if (f.data.size()) TRY(write_full(wr, f.data.c(), f.data.size()));
  return ok();
}

// A description gets its own end; a second description of the same end (the
// pipe was opened again through /proc) gets a fresh open of it.
Err give_end(const SetImage &set, uint64_t ino, bool write_end, int fd, int above, Vec<int> *fds) {
  bool first = true;
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdescRec &f = set.fdescs[i];
    if (f.kind != FileKind::Pipe || f.ino != ino || (bool)f.pipe_write_end != write_end) continue;
    int mine = fd;
    if (!first) {
      char path[64];
      snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
      if ((mine = open(path, write_end ? O_WRONLY : O_RDONLY)) < 0) return sys_err("reopening a pipe end");
    }
    first = false;
    (*fds)[i] = fcntl(mine, F_DUPFD, above);
    if (mine != fd) close(mine);
    if ((*fds)[i] < 0) return sys_err("placing a pipe end");
    if (fcntl((*fds)[i], F_SETFL, (int)(f.flags & O_NONBLOCK)) < 0) return sys_err("pipe flags");
  }
  return ok();
}
}  // namespace

Err dump_pipe(int pid, int fd, FdescRec *f) {
  f->pipe_write_end = (f->flags & O_ACCMODE) == O_WRONLY;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
  Fd in(open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!in.ok()) return sys_err("opening the pipe of process %d fd %d", pid, fd);
  int size = fcntl(in.get(), F_GETPIPE_SZ);
  if (size < 0) return sys_err("F_GETPIPE_SZ");
  f->pipe_size = (uint32_t)size;
  return read_pipe_contents(in.get(), (uint32_t)size, &f->data);
}

// Only one description per pipe carries the data: drop it from the others.
void dedupe_pipe_data(SetImage &set) {
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    FdescRec &f = set.fdescs[i];
    if (f.kind != FileKind::Pipe) continue;
    for (size_t j = 0; j < i; j++)
      if (set.fdescs[j].kind == FileKind::Pipe && set.fdescs[j].ino == f.ino) { f.data = Str(); break; }
  }
}

namespace {
bool is_fifo(const FdescRec &f) { return f.path.c()[0] == '/'; }

// A named FIFO: every description is a fresh open of the path.
Err open_fifo(const SetImage &set, const FdescRec &first, int above, Vec<int> *fds) {
  Fd hold(open(first.path.c(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!hold.ok()) return sys_err("cannot open FIFO %s", first.path.c());
  TRY(fill_pipe(hold.get(), first));
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdescRec &f = set.fdescs[i];
    if (f.kind != FileKind::Pipe || f.ino != first.ino || f.dev != first.dev) continue;
    Fd end(open(f.path.c(), (f.pipe_write_end ? O_WRONLY : O_RDONLY) | O_NONBLOCK));
    if (!end.ok()) return sys_err("cannot open FIFO %s", f.path.c());
    (*fds)[i] = fcntl(end.get(), F_DUPFD, above);
    if ((*fds)[i] < 0) return sys_err("placing a FIFO end");
    if (fcntl((*fds)[i], F_SETFL, (int)(f.flags & O_NONBLOCK)) < 0) return sys_err("FIFO flags");
  }
  return ok();
}
}  // namespace

Err open_pipes(const SetImage &set, int above, Vec<int> *fds) {
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdescRec &f = set.fdescs[i];
    if (f.kind != FileKind::Pipe || (*fds)[i] >= 0) continue;
    if (is_fifo(f)) {
      TRY(open_fifo(set, f, above, fds));
      continue;
    }
    int rd, wr, p[2];
    ends_of(set, f.ino, &rd, &wr);
    if (pipe2(p, O_CLOEXEC) < 0) return sys_err("pipe");
    Fd r(p[0]), w(p[1]);
    TRY(fill_pipe(w.get(), f));  // the first description of a pipe carries its data
    if (rd >= 0) TRY(give_end(set, f.ino, false, r.get(), above, fds));
    if (wr >= 0) TRY(give_end(set, f.ino, true, w.get(), above, fds));
  }
  return ok();
}
