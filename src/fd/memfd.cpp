// memfd: anonymous files (memfd_create(2)), shown as "/memfd:NAME (deleted)".
// A small one's contents travel in the description, with its seals; a larger
// one's (over kInline bytes, of any size) follow its FDESC as FDESC_DATA
// records, only its data (SEEK_DATA/SEEK_HOLE: holes stay holes), which rstrt
// writes into a memfd it makes as soon as it reads the description (stage),
// so neither side holds the contents in memory. A memfd that is only mapped,
// with no fd left, gets a description too, so every mapping of one memfd maps
// the same restored object again.
//
// Payload: u64 size, u32 seals (F_GET_SEALS), blob contents; since 2.2 then
// u8 streamed (1: the blob is empty and the contents follow as FDESC_DATA).
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"

namespace {
constexpr uint64_t kMaxMemfd = 8u << 20;  // inline contents of a 2.1 image
constexpr uint64_t kInline = 64u << 10;    // larger ones are streamed
constexpr char kPrefix[] = "/memfd:";
constexpr char kDeleted[] = " (deleted)";

struct MemfdFields {
  uint64_t size = 0;
  uint32_t seals = 0;
  const uint8_t *data = nullptr;
  uint32_t len = 0;
  uint8_t streamed = 0;
};

bool fields(const FdescRec &f, MemfdFields *m) {
  Dec d = payload_of(f);
  m->size = d.u64();
  m->seals = d.u32();
  m->data = d.blob(&m->len, kMaxMemfd);
  if (!d.bad() && d.left()) m->streamed = d.u8();  // since 2.2
  return payload_done(d) && m->streamed <= 1 && (!m->streamed || m->len == 0) && m->len <= m->size &&
         (m->streamed || m->size <= kMaxMemfd);
}

// NAME out of "/memfd:NAME (deleted)".
void memfd_name(const char *path, char *out, size_t cap) {
  const char *s = starts_with(path, kPrefix) ? path + sizeof kPrefix - 1 : path;
  size_t n = strlen(s);
  size_t k = sizeof kDeleted - 1;
  if (n >= k && strcmp(s + n - k, kDeleted) == 0) n -= k;
  snprintf(out, cap, "%.*s", (int)n, s);
}

// Contents through a path that opens the memfd itself (/proc/PID/fd/N or
// map_files): inline if small, else that path for the writer (FDESC_DATA).
Err read_memfd(const char *proc_path, FdescRec *f) {
  Fd fd(open(proc_path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return sys_err("opening memfd %s", f->path.c());
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return sys_err("memfd %s", f->path.c());
  int seals = fcntl(fd.get(), F_GET_SEALS);
  uint8_t head[16], tail_buf[1];
  Enc e(head, sizeof head), tail(tail_buf, sizeof tail_buf);
  e.u64((uint64_t)st.st_size);
  e.u32(seals > 0 ? (uint32_t)seals : 0);
  bool streamed = (uint64_t)st.st_size > kInline;
  tail.u8(streamed);
  if (streamed) {
    f->data_from = Str(proc_path);
    return set_payload(f, e, nullptr, 0, &tail);
  }
  char *buf = static_cast<char *>(malloc(kInline));
  if (!buf) return errf("out of memory");
  ssize_t n = pread(fd.get(), buf, st.st_size, 0);
  Err r = n == st.st_size ? set_payload(f, e, buf, (uint32_t)n, &tail) : sys_err("reading memfd %s", f->path.c());
  free(buf);
  return r;
}

bool match(const FdProbe &p) { return starts_with(p.link, kPrefix) && S_ISREG(p.st->st_mode); }

Err dump(const FdProbe &p, FdescRec *f) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", p.pid, p.fd);
  return read_memfd(path, f);
}

bool valid(const FdescRec &f) {
  MemfdFields m;
  return fields(f, &m) && starts_with(f.path.c(), kPrefix);
}

bool streams(const FdescRec &f, uint64_t *size) {
  MemfdFields m;
  *size = 0;
  if (!fields(f, &m) || !m.streamed) return false;
  *size = m.size;
  return true;
}

Err make_memfd(const FdescRec &f, const MemfdFields &m, Fd *out) {
  char name[256];
  memfd_name(f.path.c(), name, sizeof name);
  Fd fd(memfd_create(name, MFD_CLOEXEC | (m.seals ? MFD_ALLOW_SEALING : 0)));
  if (!fd.ok()) return sys_err("memfd_create %s", name);
  if (ftruncate(fd.get(), (off_t)m.size) < 0) return sys_err("memfd %s size", name);
  *out = std::move(fd);
  return ok();
}

// rstrt, at the FDESC of a streamed memfd: made now (its size set), to take
// the FDESC_DATA records that follow.
Err stage(const FdescRec &f, int *out) {
  MemfdFields m;
  if (!fields(f, &m)) return bad_image("memfd description %u", f.id);
  Fd fd;
  TRY(make_memfd(f, m, &fd));
  *out = fd.release();
  return ok();
}

bool maps(const VmaRec &v) { return v.kind == VmaKind::File && starts_with(v.name.c(), kPrefix); }

Err dump_mapped(int pid, const VmaRec &v, uint64_t, FdescRec *f) {
  f->flags = O_RDWR;
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)v.start,
           (unsigned long long)v.end);
  return read_memfd(path, f);
}

// Made read-write (to fill it); a description that was opened read-only or
// write-only is a reopen of it with that access mode.
Err open_memfd(OpenCtx &c, size_t i) {
  const FdescRec &f = c.set.fdescs[i];
  MemfdFields m;
  if (!fields(f, &m)) return bad_image("memfd description %u", (unsigned)i);
  Fd fd;
  if (m.streamed) {
    int staged = c.staged && i < c.staged->size() ? (*c.staged)[i] : -1;
    if (staged < 0) return errf("internal: memfd %s was not staged", f.path.c());
    fd = Fd(staged);
    (*c.staged)[i] = -1;
  } else {
    TRY(make_memfd(f, m, &fd));
    if (m.len) TRY(write_full(fd.get(), m.data, m.len));
  }
  const char *name = f.path.c();
  if (m.seals && fcntl(fd.get(), F_ADD_SEALS, (int)m.seals) < 0) return sys_err("memfd %s seals", name);
  if ((f.flags & O_ACCMODE) != O_RDWR) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd.get());
    fd = Fd(open(path, (int)(f.flags & O_ACCMODE) | O_CLOEXEC));
    if (!fd.ok()) return sys_err("reopening memfd %s", name);
  }
  if (lseek(fd.get(), (off_t)f.pos, SEEK_SET) < 0) return sys_err("memfd %s offset", name);
  return c.place(i, fd.release());
}
}  // namespace

extern const FdKind kMemfdKind = {
    FileKind::Memfd, "memfd", match, dump, valid, open_memfd, nullptr, nullptr, maps, dump_mapped,
    nullptr, nullptr, nullptr, nullptr, streams, stage,
};
