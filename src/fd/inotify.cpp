// inotify(7) instances: every watch with its wd number and mask. fdinfo lists
// each watch as "inotify wd:HEX ino:HEX sdev:HEX mask:HEX ignored_mask:HEX
// fhandle-bytes:HEX fhandle-type:HEX f_handle:HEX" (fs/notify/fdinfo.c; the
// mask includes IN_ONESHOT and IN_EXCL_UNLINK since Linux 6.0,
// fs/notify/inotify/inotify.h inotify_mark_user_mask). The watched inode's
// path comes from its file handle (open_by_handle_at(2) on a mount of the
// same filesystem, then the link of /proc/self/fd/N), and must still be that
// inode. At restore the watches are added again in wd order; inotify hands
// out wds one after the other (idr_alloc_cyclic), so a wd that was removed
// before the checkpoint is used up by adding and removing a watch, and the
// IN_IGNORED events that leaves are read off.
//
// Refused at checkpoint: events not yet read (FIONREAD), a watch without a
// file handle in fdinfo (a kernel without CONFIG_EXPORTFS, or a filesystem
// without handles), a watched inode that has no path any more.
//
// Payload (docs/FORMAT.md, kind 17): u32 count, then per watch in wd order
// u32 wd, u32 mask, u64 ino, str path; empty blob.
#include <errno.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <stdlib.h>
#include <unistd.h>

#include "model.h"
#include "procfs.h"

namespace {
constexpr uint32_t kMaxWatches = 65536;
constexpr uint32_t kMaxWd = 1 << 20;  // what rstrt will use up to reach a wd
constexpr uint32_t kMaskBits = IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK | IN_ONLYDIR | IN_DONT_FOLLOW;

bool match(const FdProbe &p) { return strcmp(p.link, "anon_inode:inotify") == 0; }

// A mount of the filesystem with device `sdev` (the kernel's dev_t: major
// << 20 | minor, include/linux/kdev_t.h), from /proc/self/mountinfo.
}  // namespace

Err mount_of(uint64_t sdev, Fd *out) {
  Fd mi;
  TRY(open_proc(getpid(), "mountinfo", &mi));
  LineReader r(mi.get());
  char want[32];
  snprintf(want, sizeof want, " %u:%u ", (unsigned)(sdev >> 20), (unsigned)(sdev & 0xfffff));
  while (char *l = r.next()) {
    char *at = strstr(l, want);
    if (!at) continue;
    // "... MAJ:MIN ROOT MOUNTPOINT ...": escaped names (\040) are skipped
    char *point = strchr(at + strlen(want), ' ');
    char *end = point ? strchr(point + 1, ' ') : nullptr;
    if (!end || memchr(point, '\\', (size_t)(end - point))) continue;
    *end = 0;
    out->reset(open(point + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC));  // not O_PATH: open_by_handle_at wants a real fd
    if (out->ok()) return ok();
  }
  return errf("no mount of device %u:%u", (unsigned)(sdev >> 20), (unsigned)(sdev & 0xfffff));
}

namespace {

int hex_digit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

}  // namespace

Err marked_inode_path(const FdProbe &p, const char *what, const char *line, uint64_t ino, uint64_t sdev, char *path,
                      size_t cap) {
  uint64_t bytes, type;
  const char *hex = strstr(line, "f_handle:");
  if (!line_field(line, "fhandle-bytes:", 16, &bytes) || !line_field(line, "fhandle-type:", 16, &type) || !hex ||
      bytes > 128)
    return errf("process %d fd %d: %s has no file handle in fdinfo (a kernel without CONFIG_EXPORTFS?): its path "
                "cannot be found", p.pid, p.fd, what);
  struct {
    uint32_t bytes;
    int32_t type;
    uint8_t h[128];
  } fh = {(uint32_t)bytes, (int32_t)type, {}};
  hex += strlen("f_handle:");
  for (uint64_t k = 0; k < bytes; k++) {
    int hi = hex_digit(hex[2 * k]), lo = hi < 0 ? -1 : hex_digit(hex[2 * k + 1]);
    if (lo < 0) return errf("process %d fd %d: bad file handle of %s", p.pid, p.fd, what);
    fh.h[k] = (uint8_t)(hi << 4 | lo);
  }
  Fd mnt;
  TRY(mount_of(sdev, &mnt));
  Fd f(syscall(SYS_open_by_handle_at, mnt.get(), &fh, O_PATH | O_CLOEXEC));
  if (!f.ok()) return sys_err("process %d fd %d: %s: open_by_handle_at", p.pid, p.fd, what);
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", f.get());
  ssize_t n = readlink(link, path, cap - 1);
  struct stat st, now;
  if (n <= 0 || (size_t)n >= cap - 1 || path[0] != '/' || fstat(f.get(), &st) < 0 || st.st_ino != ino ||
      lstat((path[n] = 0, path), &now) < 0 || now.st_ino != ino || now.st_dev != st.st_dev)
    return errf("process %d fd %d: %s is on a file that has no path any more: not supported", p.pid, p.fd, what);
  return ok();
}

namespace {

struct Watch {
  uint32_t wd, mask;
  uint64_t ino;
  const char *path;  // into the payload (decoding) or owned (dumping: `own`)
  uint32_t path_len;
};

struct Line {
  uint64_t wd, ino, sdev, mask;
  const char *text;
};

// The watch lines of fdinfo, in wd order (fdinfo lists the newest first).
Err watch_lines(const FdProbe &p, Vec<Line> *out) {
  for (const char *l = p.fdinfo; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : nullptr) {
    if (strncmp(l, "inotify ", 8) != 0) continue;
    Line w = {0, 0, 0, 0, l};
    if (!line_field(l, "wd:", 16, &w.wd) || !line_field(l, "ino:", 16, &w.ino) || !line_field(l, "sdev:", 16, &w.sdev) ||
        !line_field(l, " mask:", 16, &w.mask))
      return errf("process %d fd %d: cannot parse the inotify fdinfo", p.pid, p.fd);
    if (w.wd < 1 || w.wd >= kMaxWd || out->size() >= kMaxWatches)
      return errf("process %d fd %d: inotify watch %u: too many, or too high a wd", p.pid, p.fd, (unsigned)w.wd);
    out->push(w);
  }
  sort_by_key(out->begin(), out->size(), [](const Line &l) { return l.wd; });
  return ok();
}

Err dump(const FdProbe &p, FdescRec *f) {
  Fd pidfd(syscall(SYS_pidfd_open, p.pid, 0));
  if (!pidfd.ok()) return sys_err("pidfd_open %d", p.pid);
  Fd in(syscall(SYS_pidfd_getfd, pidfd.get(), p.fd, 0));
  int queued = 0;
  if (!in.ok() || ioctl(in.get(), FIONREAD, &queued) < 0) return sys_err("process %d fd %d: FIONREAD", p.pid, p.fd);
  if (queued)
    return errf("process %d fd %d: an inotify instance with %d bytes of events not yet read: not supported yet", p.pid,
                p.fd, queued);
  Vec<Line> lines;
  TRY(watch_lines(p, &lines));
  Vec<char> enc;  // the watches, encoded
  for (const Line &w : lines) {
    char path[4096];
    char what[32];
    snprintf(what, sizeof what, "inotify watch %u", (unsigned)w.wd);
    TRY(marked_inode_path(p, what, w.text, w.ino, w.sdev, path, sizeof path));
    uint8_t head[24];
    Enc e(head, sizeof head);
    e.u32((uint32_t)w.wd); e.u32((uint32_t)w.mask & kMaskBits); e.u64(w.ino); e.u32((uint32_t)strlen(path));
    for (size_t k = 0; k < e.len(); k++) enc.push((char)head[k]);
    for (const char *c = path; *c; c++) enc.push(*c);
  }
  size_t cap = 4 + enc.size();
  uint8_t *buf = static_cast<uint8_t *>(malloc(cap));
  if (!buf) return errf("out of memory");
  Enc e(buf, cap);
  e.u32((uint32_t)lines.size());
  e.bytes(enc.begin(), enc.size());
  Err r = set_payload(f, e, nullptr, 0);
  free(buf);
  return r;
}

// Calls fn(watch) for each watch; false if the payload is malformed.
template <class Fn>
bool each_watch(const FdescRec &f, Fn fn) {
  Dec d = payload_of(f);
  uint32_t n = d.u32(), last = 0;
  if (n > kMaxWatches) return false;
  for (uint32_t k = 0; k < n && !d.bad(); k++) {
    Watch w;
    w.wd = d.u32();
    w.mask = d.u32();
    w.ino = d.u64();
    w.path = reinterpret_cast<const char *>(d.blob(&w.path_len, 4095));
    if (d.bad() || w.wd <= last || w.wd >= kMaxWd || (w.mask & ~kMaskBits) || !(w.mask & IN_ALL_EVENTS) ||
        !w.path_len || w.path[0] != '/' || memchr(w.path, 0, w.path_len))
      return false;
    last = w.wd;
    if (!fn(w)) return false;
  }
  uint32_t blob;
  d.blob(&blob, 0);
  return payload_done(d);
}

bool valid(const FdescRec &f) {
  return each_watch(f, [](const Watch &) { return true; });
}

// Read off the IN_IGNORED events of the watches used up to reach the saved wds.
// (inotify_rm_watch queues its IN_IGNORED before it returns: fsnotify's
// freeing_mark, fs/notify/inotify/inotify_user.c.)
void drop_ignored(int fd, uint32_t n) {
  alignas(struct inotify_event) char buf[4096];
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  while (n) {
    ssize_t got = read(fd, buf, n * sizeof(struct inotify_event) < sizeof buf ? n * sizeof(struct inotify_event) : sizeof buf);
    if (got <= 0) break;
    for (ssize_t at = 0; at + (ssize_t)sizeof(struct inotify_event) <= got && n; n--) {
      struct inotify_event ev;
      memcpy(&ev, buf + at, sizeof ev);
      at += (ssize_t)(sizeof ev + ev.len);
    }
  }
  fcntl(fd, F_SETFL, fl);
}

Err open_inotify(OpenCtx &c, size_t i) {
  const FdescRec &f = c.set.fdescs[i];
  Fd in(inotify_init1(IN_CLOEXEC));
  if (!in.ok()) return sys_err("inotify_init1");
  Err e = ok();
  uint32_t used_up = 0;
  bool good = each_watch(f, [&](const Watch &w) {
    char path[4096];
    memcpy(path, w.path, w.path_len);
    path[w.path_len] = 0;
    for (;;) {
      int wd = inotify_add_watch(in.get(), path, w.mask | IN_DONT_FOLLOW);
      if (wd < 0) { e = sys_err("inotify watch on %s", path); return false; }
      if ((uint32_t)wd == w.wd) return true;
      if ((uint32_t)wd > w.wd) { e = errf("inotify watch on %s: wd %d, not %u", path, wd, w.wd); return false; }
      inotify_rm_watch(in.get(), wd);
      used_up++;
    }
  });
  if (!good && !e) return bad_image("inotify description %u", (unsigned)i);
  if (e) return e;
  drop_ignored(in.get(), used_up);
  return c.place(i, in.release());
}
}  // namespace

extern const FdKind kInotifyKind = {
    FileKind::Inotify, "inotify", match, dump, valid, open_inotify, nullptr, nullptr, nullptr, nullptr,
};
