// Pipes and FIFOs: unread data survives. At checkpoint the pipe is opened anew
// through /proc/PID/fd/N (which opens the pipe itself, like a FIFO) and its
// contents are duplicated with tee(2) into a private pipe, so nothing is
// consumed. At restore rstrt makes one pipe per saved pipe (a FIFO is opened by
// its path, held open read-write meanwhile so that neither end blocks and the
// data stays), sets its size, writes the data back in without blocking and
// hands the ends to the descriptions that had them.
//
// Payload: u8 write_end, u32 pipe_size (F_GETPIPE_SZ), blob data (the unread
// bytes, carried by the first description of the pipe only).
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "image.h"
#include "model.h"

namespace {
struct PipeEnd {
  uint8_t write_end = 0;
  uint32_t size = 0;
  const uint8_t *data = nullptr;
  uint32_t len = 0;
};

bool fields(const FdescRec &f, PipeEnd *p) {
  Dec d = payload_of(f);
  p->write_end = d.u8();
  p->size = d.u32();
  p->data = d.blob(&p->len, kMaxRecord);
  return payload_done(d);
}

bool is_write_end(const FdescRec &f) {
  PipeEnd p;
  return fields(f, &p) && p.write_end;
}

Err read_contents(int in, uint32_t size, Str *out) {
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

bool match(const FdProbe &p) {
  return S_ISFIFO(p.st->st_mode) && (starts_with(p.link, "pipe:") || p.link[0] == '/');
}

Err dump(const FdProbe &p, FdescRec *f) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", p.pid, p.fd);
  Fd in(open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!in.ok()) return sys_err("opening the pipe of process %d fd %d", p.pid, p.fd);
  int size = fcntl(in.get(), F_GETPIPE_SZ);
  if (size < 0) return sys_err("F_GETPIPE_SZ");
  Str data;
  TRY(read_contents(in.get(), (uint32_t)size, &data));
  uint8_t head[8];
  Enc e(head, sizeof head);
  e.u8((f->flags & O_ACCMODE) == O_WRONLY);
  e.u32((uint32_t)size);
  return set_payload(f, e, data.c(), (uint32_t)data.size());
}

// Data fits the pipe's size (so refilling it cannot block), which is a page
// multiple no larger than the kernel ever allows (pipe-max-size tops at 2^31).
bool valid(const FdescRec &f) {
  PipeEnd p;
  if (!fields(f, &p) || p.write_end > 1 || p.size % 4096 || p.size > (1u << 31)) return false;
  return p.len <= p.size;
}

// Only one description per pipe carries the data: drop it from the others.
void after_collect(SetImage &set, size_t i) {
  FdescRec &f = set.fdescs[i];
  for (size_t j = 0; j < i; j++) {
    if (set.fdescs[j].kind != FileKind::Pipe || set.fdescs[j].ino != f.ino) continue;
    PipeEnd p;
    if (!fields(f, &p) || !p.len) return;
    uint8_t head[8];
    Enc e(head, sizeof head);
    e.u8(p.write_end);
    e.u32(p.size);
    (void)set_payload(&f, e, nullptr, 0);
    return;
  }
}

// An anonymous pipe needs both ends inside the set (a named FIFO is reopened
// by its path: whoever else opens it later may).
bool peer_outside(const SetImage &set, const FdescRec &f, PeerWanted *w) {
  if (f.path.c()[0] == '/') return false;
  bool mine = is_write_end(f);
  for (auto &o : set.fdescs)
    if (o.kind == FileKind::Pipe && o.ino == f.ino && is_write_end(o) != mine) return false;
  *w = {"pipe:[", f.ino};
  return true;
}

// Size first, then the data, without blocking: a pipe that cannot take it all
// is an error, never a hang.
Err fill(int wr, const FdescRec &f) {
  PipeEnd p;
  if (!fields(f, &p)) return bad_image("pipe description %u", f.id);
  if (p.size && fcntl(wr, F_SETPIPE_SZ, (int)p.size) < 0) return sys_err("F_SETPIPE_SZ %u", p.size);
  if (!p.len) return ok();
  int fl = fcntl(wr, F_GETFL);
  if (fl < 0 || fcntl(wr, F_SETFL, fl | O_NONBLOCK) < 0) return sys_err("pipe flags");
  ssize_t n = write(wr, p.data, p.len);
  if (n != (ssize_t)p.len) return n < 0 ? sys_err("refilling a pipe") : errf("a pipe took only %zd of its %u bytes", n, p.len);
  return fcntl(wr, F_SETFL, fl) < 0 ? sys_err("pipe flags") : ok();
}

// Every description of this pipe's end gets its own open of it: the first the
// end itself, the others (the pipe was opened again through /proc) a reopen.
Err give_end(OpenCtx &c, uint64_t ino, bool write_end, int fd) {
  bool first = true;
  for (size_t i = 0; i < c.set.fdescs.size(); i++) {
    const FdescRec &f = c.set.fdescs[i];
    if (f.kind != FileKind::Pipe || f.ino != ino || is_write_end(f) != write_end) continue;
    int mine = fd;
    if (!first) {
      char path[64];
      snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
      if ((mine = open(path, write_end ? O_WRONLY : O_RDONLY)) < 0) return sys_err("reopening a pipe end");
    } else {
      mine = dup(fd);
      if (mine < 0) return sys_err("dup");
    }
    first = false;
    TRY(c.place(i, mine));
  }
  return ok();
}

// A named FIFO: every description is a fresh open of the path.
Err open_fifo(OpenCtx &c, const FdescRec &first) {
  Fd hold(open(first.path.c(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!hold.ok()) return sys_err("cannot open FIFO %s", first.path.c());
  struct stat st;
  if (fstat(hold.get(), &st) < 0 || !S_ISFIFO(st.st_mode)) return errf("%s is no longer a FIFO", first.path.c());
  TRY(fill(hold.get(), first));
  for (size_t i = 0; i < c.set.fdescs.size(); i++) {
    const FdescRec &f = c.set.fdescs[i];
    if (f.kind != FileKind::Pipe || f.ino != first.ino || f.dev != first.dev) continue;
    int end = open(f.path.c(), (is_write_end(f) ? O_WRONLY : O_RDONLY) | O_NONBLOCK);
    if (end < 0) return sys_err("cannot open FIFO %s", f.path.c());
    TRY(c.place(i, end));
  }
  return ok();
}

Err open_pipe(OpenCtx &c, size_t i) {
  const FdescRec &f = c.set.fdescs[i];
  if (f.path.c()[0] == '/') return open_fifo(c, f);
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return sys_err("pipe");
  Fd r(p[0]), w(p[1]);
  TRY(fill(w.get(), f));  // the first description of a pipe carries its data
  TRY(give_end(c, f.ino, false, r.get()));
  return give_end(c, f.ino, true, w.get());
}
}  // namespace

extern const FdKind kPipeKind = {
    FileKind::Pipe, "pipe", match, dump, valid, open_pipe, after_collect, peer_outside, nullptr, nullptr,
};
