// memfd: anonymous files (memfd_create(2)), shown as "/memfd:NAME (deleted)".
// Their contents travel in the FDESC record (up to kMaxMemfd), with their seals;
// a memfd that is only mapped, with no fd left, gets an FDESC too, so every
// mapping of one memfd maps the same restored object again.
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process.h"

namespace {
constexpr uint64_t kMaxMemfd = 8u << 20;
constexpr char kPrefix[] = "/memfd:";
constexpr char kDeleted[] = " (deleted)";

// NAME out of "/memfd:NAME (deleted)".
void memfd_name(const char *path, char *out, size_t cap) {
  const char *s = strncmp(path, kPrefix, sizeof kPrefix - 1) == 0 ? path + sizeof kPrefix - 1 : path;
  size_t n = strlen(s);
  size_t k = sizeof kDeleted - 1;
  if (n >= k && strcmp(s + n - k, kDeleted) == 0) n -= k;
  snprintf(out, cap, "%.*s", (int)n, s);
}
}  // namespace

bool is_memfd_name(const char *path) { return strncmp(path, kPrefix, sizeof kPrefix - 1) == 0; }

Err dump_memfd(const char *proc_path, FdescRec *f) {
  Fd fd(open(proc_path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return sys_err("opening memfd %s", f->path.c());
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return sys_err("memfd %s", f->path.c());
  if ((uint64_t)st.st_size > kMaxMemfd)
    return errf("memfd %s holds %lld bytes: memfds larger than %llu bytes are not supported yet", f->path.c(),
                (long long)st.st_size, (unsigned long long)kMaxMemfd);
  int seals = fcntl(fd.get(), F_GET_SEALS);
  f->count = seals > 0 ? (uint64_t)seals : 0;
  f->size = (uint64_t)st.st_size;
  char *buf = static_cast<char *>(malloc(st.st_size ? st.st_size : 1));
  if (!buf) return errf("out of memory");
  ssize_t n = pread(fd.get(), buf, st.st_size, 0);
  if (n == st.st_size) f->data = Str(buf, (size_t)n);
  free(buf);
  return n == st.st_size ? ok() : sys_err("reading memfd %s", f->path.c());
}

// One FDESC (no fd refers to it) for each memfd that is mapped but not open.
Err dump_mapped_memfds(int pid, const Vec<VmaRec> &vmas, SetImage &set, DescIndex &idx) {
  for (auto &v : vmas) {
    if (v.kind != VmaKind::File || !is_memfd_name(v.name.c())) continue;
    bool known = false;
    for (auto &d : set.fdescs) known |= d.kind == FileKind::Memfd && d.dev == v.dev && d.ino == v.ino;
    if (known) continue;
    FdescRec f;
    f.id = (uint32_t)set.fdescs.size();
    f.kind = FileKind::Memfd;
    f.flags = O_RDWR;
    f.dev = v.dev;
    f.ino = v.ino;
    f.path = Str(v.name.c());
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)v.start, (unsigned long long)v.end);
    TRY(dump_memfd(path, &f));
    set.fdescs.push(std::move(f));
    idx.rep_pid.push(pid);
    idx.rep_fd.push(-1);
  }
  return ok();
}

Err open_memfd(const FdescRec &f, int *out) {
  char name[256];
  memfd_name(f.path.c(), name, sizeof name);
  *out = memfd_create(name, f.count ? MFD_ALLOW_SEALING : 0);
  if (*out < 0) return sys_err("memfd_create %s", name);
  if (f.data.size()) TRY(write_full(*out, f.data.c(), f.data.size()));
  if (ftruncate(*out, (off_t)f.size) < 0) return sys_err("memfd %s size", name);
  if (lseek(*out, (off_t)f.pos, SEEK_SET) < 0) return sys_err("memfd %s offset", name);
  if (f.count && fcntl(*out, F_ADD_SEALS, (int)f.count) < 0) return sys_err("memfd %s seals", name);
  return ok();
}

// The restored memfd a mapping refers to (by the inode it had), or -1.
int memfd_desc_of(const SetImage &set, const VmaRec &v) {
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdescRec &d = set.fdescs[i];
    if (d.kind == FileKind::Memfd && d.dev == v.dev && d.ino == v.ino) return (int)i;
  }
  return -1;
}
