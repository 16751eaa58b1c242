// Deleted files ("ghost" files: open or mapped after they were unlinked, as
// Python's tempfile.TemporaryFile does). Their contents go into the image,
// only the data (SEEK_DATA/SEEK_HOLE: holes stay holes), with mode, owner,
// size and times, up to chkpt --ghost-limit. At restore the file is made
// again unnamed in its directory (O_TMPFILE, or a hidden name unlinked at once
// where the filesystem has no O_TMPFILE; /tmp if the directory is gone), and
// every description and mapping of it shares that one new file again.
//
// Payload: u32 mode, u32 uid, u32 gid, u64 size, i64 atime_ns, i64 mtime_ns,
// blob extents: (u64 offset, u32 length, bytes) each, in order; carried by
// the first description of the file only (the others have an empty blob).
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "model.h"

namespace {
constexpr char kDeleted[] = " (deleted)";

struct GhostFields {
  uint32_t mode = 0, uid = 0, gid = 0;
  uint64_t size = 0;
  int64_t atime = 0, mtime = 0;
  const uint8_t *extents = nullptr;
  uint32_t len = 0;
};

bool fields(const FdescRec &f, GhostFields *g) {
  Dec d = payload_of(f);
  g->mode = d.u32();
  g->uid = d.u32();
  g->gid = d.u32();
  g->size = d.u64();
  g->atime = d.i64();
  g->mtime = d.i64();
  g->extents = d.blob(&g->len, kMaxRecord);
  return payload_done(d);
}

bool is_ghost_name(const char *path) {
  return path[0] == '/' && ends_with(path, kDeleted) && !starts_with(path, "/memfd:");
}

int64_t ns(const struct timespec &t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

// The data extents of the open file, as the payload's blob.
Err read_extents(int fd, const struct stat &st, uint64_t limit, const char *what, Vec<uint8_t> *out) {
  uint64_t total = 0;
  for (off_t off = 0; off < st.st_size;) {
    off_t data = lseek(fd, off, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only a hole left
    if (data < 0) return sys_err("%s", what);
    off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0 || hole > st.st_size) hole = st.st_size;
    uint64_t n = (uint64_t)(hole - data);
    total += n;
    if (total > limit)
      return errf("%s holds more than %llu bytes of data (chkpt --ghost-limit)", what, (unsigned long long)limit);
    size_t at = out->size();
    for (size_t i = 0; i < 12 + n; i++) out->push(0);
    uint8_t *p = out->begin() + at;
    Enc e(p, 12);
    e.u64((uint64_t)data);
    e.u32((uint32_t)n);
    if (pread(fd, p + 12, n, data) != (ssize_t)n) return sys_err("reading %s", what);
    off = hole;
  }
  return ok();
}

// Everything about the deleted file open at proc_path (/proc/PID/fd/N or map_files).
Err describe_ghost(const char *proc_path, const char *what, uint64_t limit, FdescRec *f) {
  Fd fd(open(proc_path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return sys_err("opening %s", what);
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return sys_err("%s", what);
  Vec<uint8_t> extents;
  TRY(read_extents(fd.get(), st, limit, what, &extents));
  uint8_t head[48];
  Enc e(head, sizeof head);
  e.u32(st.st_mode); e.u32(st.st_uid); e.u32(st.st_gid); e.u64((uint64_t)st.st_size);
  e.i64(ns(st.st_atim)); e.i64(ns(st.st_mtim));
  return set_payload(f, e, extents.begin(), (uint32_t)extents.size());
}

bool match(const FdProbe &p) { return is_ghost_name(p.link) && S_ISREG(p.st->st_mode); }

Err dump(const FdProbe &p, FdescRec *f) {
  char path[64], what[4200];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", p.pid, p.fd);
  snprintf(what, sizeof what, "process %d fd %d: deleted file %s", p.pid, p.fd, p.link);
  return describe_ghost(path, what, p.ghost_limit, f);
}

bool maps(const VmaRec &v) { return v.kind == VmaKind::File && is_ghost_name(v.name.c()); }

Err dump_mapped(int pid, const VmaRec &v, uint64_t limit, FdescRec *f) {
  f->flags = O_RDWR;
  char path[96], what[4200];
  snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)v.start, (unsigned long long)v.end);
  snprintf(what, sizeof what, "process %d: mapped deleted file %s", pid, v.name.c());
  return describe_ghost(path, what, limit, f);
}

// The extents lie in order inside the file's size, each whole in the blob.
bool valid(const FdescRec &f) {
  GhostFields g;
  if (!fields(f, &g) || !S_ISREG(g.mode) || !is_ghost_name(f.path.c())) return false;
  uint64_t next = 0;
  for (uint32_t at = 0; at < g.len;) {
    if (g.len - at < 12) return false;
    Dec d(g.extents + at, 12);
    uint64_t off = d.u64();
    uint32_t n = d.u32();
    if (off < next || n > g.len - at - 12 || off > g.size || n > g.size - off) return false;
    next = off + n;
    at += 12 + n;
  }
  return true;
}

// The directory the file was in: its path without " (deleted)" and the name.
void dir_of(const char *path, char *out, size_t cap) {
  snprintf(out, cap, "%s", path);
  char *slash = strrchr(out, '/');
  if (slash == out) slash[1] = 0;
  else if (slash) *slash = 0;
}

// The file made again under its own name and unlinked at once, so that its
// fds and mappings show the very "/DIR/NAME (deleted)" they showed; if that
// name is taken now, an unnamed file in DIR (shown as "/DIR/#INODE (deleted)").
int deleted_file(const char *path, const char *dir, uint32_t mode) {
  char name[4200];
  snprintf(name, sizeof name, "%.*s", (int)(strlen(path) - (sizeof kDeleted - 1)), path);
  int fd = open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, mode & 07777);  // reopened for its flags
  if (fd >= 0) {
    if (unlink(name) == 0) return fd;
    close(fd);
    return -1;
  }
  return errno == ENOENT ? -1 : -2;  // -1: the directory is gone; -2: try unnamed
}

// A new unnamed file in dir, read-write.
int unnamed_file(const char *dir, uint32_t mode) {
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, mode & 07777);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) return fd;
  char tmp[4200];
  for (int i = 0; i < 100; i++) {  // no O_TMPFILE here: a hidden name, unlinked once open
    snprintf(tmp, sizeof tmp, "%s/.chkpt-ghost-%d-%d", dir, getpid(), i);
    fd = open(tmp, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, mode & 07777);
    if (fd >= 0) { unlink(tmp); return fd; }
    if (errno != EEXIST) return -1;
  }
  return -1;
}

Err fill(int fd, const GhostFields &g) {
  for (uint32_t at = 0; at < g.len;) {
    Dec d(g.extents + at, 12);
    uint64_t off = d.u64();
    uint32_t n = d.u32();
    if (pwrite(fd, g.extents + at + 12, n, (off_t)off) != (ssize_t)n) return sys_err("refilling a deleted file");
    at += 12 + n;
  }
  if (ftruncate(fd, (off_t)g.size) < 0) return sys_err("sizing a deleted file");
  if (fchown(fd, g.uid, g.gid) < 0) return sys_err("owner of a deleted file");
  if (fchmod(fd, g.mode & 07777) < 0) return sys_err("mode of a deleted file");
  struct timespec t[2] = {{(time_t)(g.atime / 1000000000), (long)(g.atime % 1000000000)},
                          {(time_t)(g.mtime / 1000000000), (long)(g.mtime % 1000000000)}};
  return futimens(fd, t) < 0 ? sys_err("times of a deleted file") : ok();
}

// The file once, then every description of it as a reopen with its own
// access mode, at its offset.
Err open_ghost(OpenCtx &c, size_t i) {
  const FdescRec &first = c.set.fdescs[i];
  GhostFields g;
  if (!fields(first, &g)) return bad_image("deleted-file description %u", (unsigned)i);
  char dir[4200];
  dir_of(first.path.c(), dir, sizeof dir);
  // A file made with O_TMPFILE (Python's TemporaryFile) is made so again,
  // with the flags it was opened with: its fd shows them.
  const uint32_t tmpfile = (uint32_t)(O_TMPFILE & ~O_DIRECTORY), keep = O_NOFOLLOW | O_APPEND | O_NONBLOCK;
  bool was_tmpfile = (first.flags & tmpfile) && (first.flags & O_ACCMODE) == O_RDWR;
  int made = was_tmpfile ? open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC | (int)(first.flags & keep), g.mode & 07777)
                         : deleted_file(first.path.c(), dir, g.mode);
  if (made == -2 || (made < 0 && was_tmpfile && errno != ENOENT)) made = unnamed_file(dir, g.mode);
  Fd file(made >= 0 ? made : -1);
  if (!file.ok() && errno == ENOENT) file = Fd(unnamed_file("/tmp", g.mode));  // its directory is gone
  if (!file.ok()) return sys_err("making deleted file %s again", first.path.c());
  TRY(fill(file.get(), g));
  for (size_t k = i; k < c.set.fdescs.size(); k++) {
    const FdescRec &f = c.set.fdescs[k];
    if (f.kind != FileKind::Ghost || f.dev != first.dev || f.ino != first.ino) continue;
    if (k == i && was_tmpfile) {  // the file as made is this one, flags and all
      if (lseek(file.get(), (off_t)f.pos, SEEK_SET) < 0) return sys_err("offset in deleted file %s", f.path.c());
      TRY(c.place(k, dup(file.get())));
      continue;
    }
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", file.get());
    int flags = (int)(f.flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)) | O_CLOEXEC;
    Fd fd(open(self, flags));
    if (!fd.ok()) return sys_err("reopening deleted file %s", f.path.c());
    if (lseek(fd.get(), (off_t)f.pos, SEEK_SET) < 0) return sys_err("offset in deleted file %s", f.path.c());
    TRY(c.place(k, fd.release()));
  }
  return ok();
}

// Only one description of a file carries its data.
void after_collect(SetImage &set, size_t i) {
  FdescRec &f = set.fdescs[i];
  for (size_t j = 0; j < i; j++) {
    const FdescRec &o = set.fdescs[j];
    if (o.kind != FileKind::Ghost || o.dev != f.dev || o.ino != f.ino) continue;
    GhostFields g;
    if (!fields(f, &g)) return;
    uint8_t head[48];
    Enc e(head, sizeof head);
    e.u32(g.mode); e.u32(g.uid); e.u32(g.gid); e.u64(g.size); e.i64(g.atime); e.i64(g.mtime);
    (void)set_payload(&f, e, nullptr, 0);
    return;
  }
}
}  // namespace

extern const FdKind kGhostKind = {
    FileKind::Ghost, "deleted file", match, dump, valid, open_ghost, after_collect, nullptr, maps, dump_mapped,
};
