// memfd: anonymous files (memfd_create(2)), shown as "/memfd:NAME (deleted)".
// Their contents travel in the description (up to kMaxMemfd), with their
// seals; a memfd that is only mapped, with no fd left, gets a description too,
// so every mapping of one memfd maps the same restored object again.
//
// Payload: u64 size, u32 seals (F_GET_SEALS), blob contents.
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"

namespace {
constexpr uint64_t kMaxMemfd = 8u << 20;
constexpr char kPrefix[] = "/memfd:";
constexpr char kDeleted[] = " (deleted)";

struct MemfdFields {
  uint64_t size = 0;
  uint32_t seals = 0;
  const uint8_t *data = nullptr;
  uint32_t len = 0;
};

bool fields(const FdescRec &f, MemfdFields *m) {
  Dec d = payload_of(f);
  m->size = d.u64();
  m->seals = d.u32();
  m->data = d.blob(&m->len, kMaxMemfd);
  return payload_done(d);
}

// NAME out of "/memfd:NAME (deleted)".
void memfd_name(const char *path, char *out, size_t cap) {
  const char *s = starts_with(path, kPrefix) ? path + sizeof kPrefix - 1 : path;
  size_t n = strlen(s);
  size_t k = sizeof kDeleted - 1;
  if (n >= k && strcmp(s + n - k, kDeleted) == 0) n -= k;
  snprintf(out, cap, "%.*s", (int)n, s);
}

// Contents through a path that opens the memfd itself (/proc/PID/fd/N or map_files).
Err read_memfd(const char *proc_path, FdescRec *f) {
  Fd fd(open(proc_path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return sys_err("opening memfd %s", f->path.c());
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return sys_err("memfd %s", f->path.c());
  if ((uint64_t)st.st_size > kMaxMemfd)
    return errf("memfd %s holds %lld bytes: memfds larger than %llu bytes are not supported yet", f->path.c(),
                (long long)st.st_size, (unsigned long long)kMaxMemfd);
  int seals = fcntl(fd.get(), F_GET_SEALS);
  char *buf = static_cast<char *>(malloc(st.st_size ? st.st_size : 1));
  if (!buf) return errf("out of memory");
  ssize_t n = pread(fd.get(), buf, st.st_size, 0);
  uint8_t head[16];
  Enc e(head, sizeof head);
  e.u64((uint64_t)st.st_size);
  e.u32(seals > 0 ? (uint32_t)seals : 0);
  Err r = n == st.st_size ? set_payload(f, e, buf, (uint32_t)n) : sys_err("reading memfd %s", f->path.c());
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
  return fields(f, &m) && m.len <= m.size && m.size <= kMaxMemfd && starts_with(f.path.c(), kPrefix);
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
  char name[256];
  memfd_name(f.path.c(), name, sizeof name);
  Fd fd(memfd_create(name, MFD_CLOEXEC | (m.seals ? MFD_ALLOW_SEALING : 0)));
  if (!fd.ok()) return sys_err("memfd_create %s", name);
  if (m.len) TRY(write_full(fd.get(), m.data, m.len));
  if (ftruncate(fd.get(), (off_t)m.size) < 0) return sys_err("memfd %s size", name);
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
};
