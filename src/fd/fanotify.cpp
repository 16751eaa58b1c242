// fanotify(7) groups with inode marks. fdinfo has the group's flags, then one
// line per mark (fs/notify/fdinfo.c fanotify_show_fdinfo):
//   fanotify flags:HEX event-flags:HEX
//   fanotify ino:HEX sdev:HEX mflags:HEX mask:HEX ignored_mask:HEX
//            fhandle-bytes:HEX fhandle-type:HEX f_handle:HEX
// The marked inode's path comes from its file handle, as for inotify. At
// restore the group is made again with fanotify_init(2) (root: CAP_SYS_ADMIN)
// and each mark added with its mask, ignored mask and mark flags
// (FAN_MARK_IGNORED_SURV_MODIFY, FAN_MARK_EVICTABLE).
//
// Refused at checkpoint: events not yet read (FIONREAD), mount and
// filesystem marks, a mark without a file handle in fdinfo or on a file that
// has no path any more.
//
// Payload (docs/FORMAT.md, kind 18): u32 init_flags, u32 event_flags, u32
// count, then per mark u32 mflags, u32 mask, u32 ignored_mask, u64 ino, str
// path; empty blob.
#include <errno.h>
#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "model.h"

namespace {
constexpr uint32_t kMaxMarks = 65536;
// fanotify_mark(2) flags fdinfo shows (include/uapi/linux/fanotify.h)
constexpr uint32_t kMarkFlags = FAN_MARK_IGNORED_SURV_MODIFY | 0x200 /* FAN_MARK_EVICTABLE */;

bool match(const FdProbe &p) { return strcmp(p.link, "anon_inode:[fanotify]") == 0; }

struct Mark {
  uint32_t mflags = 0, mask = 0, ignored = 0;
  uint64_t ino = 0;
  const char *path = nullptr;
  uint32_t path_len = 0;
};

Err dump(const FdProbe &p, FdescRec *f) {
  Fd pidfd(syscall(SYS_pidfd_open, p.pid, 0));
  Fd fan(pidfd.ok() ? syscall(SYS_pidfd_getfd, pidfd.get(), p.fd, 0) : -1);
  int queued = 0;
  if (!fan.ok() || ioctl(fan.get(), FIONREAD, &queued) < 0) return sys_err("process %d fd %d: FIONREAD", p.pid, p.fd);
  if (queued)
    return errf("process %d fd %d: a fanotify group with %d bytes of events not yet read: not supported", p.pid, p.fd,
                queued);
  uint64_t init = 0, event = 0;
  Vec<char> enc;
  uint32_t count = 0;
  for (const char *l = p.fdinfo; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : nullptr) {
    if (strncmp(l, "fanotify ", 9) != 0) continue;
    uint64_t fl, ev;  // the group's line (a mark line's "mflags:" has "flags:" in it too)
    if (line_field(l, "event-flags:", 16, &ev) && line_field(l, "flags:", 16, &fl)) {
      init = fl;
      event = ev;
      continue;
    }
    uint64_t ino, sdev, mflags, mask, ignored;
    if (!line_field(l, "ino:", 16, &ino))
      return errf("process %d fd %d: a fanotify mount or filesystem mark: not supported yet", p.pid, p.fd);
    if (!line_field(l, "sdev:", 16, &sdev) || !line_field(l, "mflags:", 16, &mflags) ||
        !line_field(l, " mask:", 16, &mask) || !line_field(l, "ignored_mask:", 16, &ignored) || ++count > kMaxMarks)
      return errf("process %d fd %d: cannot parse the fanotify fdinfo", p.pid, p.fd);
    char path[4096], what[48];
    snprintf(what, sizeof what, "fanotify mark on inode %llu", (unsigned long long)ino);
    TRY(marked_inode_path(p, what, l, ino, sdev, path, sizeof path));
    uint8_t head[24];
    Enc e(head, sizeof head);
    e.u32((uint32_t)mflags); e.u32((uint32_t)mask); e.u32((uint32_t)ignored); e.u64(ino); e.u32((uint32_t)strlen(path));
    for (size_t k = 0; k < e.len(); k++) enc.push((char)head[k]);
    for (const char *c = path; *c; c++) enc.push(*c);
  }
  size_t cap = 12 + enc.size();
  uint8_t *buf = static_cast<uint8_t *>(malloc(cap));
  if (!buf) return errf("out of memory");
  Enc e(buf, cap);
  e.u32((uint32_t)init);
  e.u32((uint32_t)event);
  e.u32(count);
  e.bytes(enc.begin(), enc.size());
  Err r = set_payload(f, e, nullptr, 0);
  free(buf);
  return r;
}

// Calls fn(mark) for each; false if the payload is malformed.
template <class Fn>
bool each_mark(const FdescRec &f, uint32_t *init, uint32_t *event, Fn fn) {
  Dec d = payload_of(f);
  *init = d.u32();
  *event = d.u32();
  uint32_t n = d.u32();
  if (n > kMaxMarks) return false;
  for (uint32_t k = 0; k < n && !d.bad(); k++) {
    Mark m;
    m.mflags = d.u32();
    m.mask = d.u32();
    m.ignored = d.u32();
    m.ino = d.u64();
    m.path = reinterpret_cast<const char *>(d.blob(&m.path_len, 4095));
    if (d.bad() || (m.mflags & ~kMarkFlags) || !m.path_len || m.path[0] != '/' || memchr(m.path, 0, m.path_len))
      return false;
    if (!fn(m)) return false;
  }
  uint32_t blob;
  d.blob(&blob, 0);
  return payload_done(d);
}

bool valid(const FdescRec &f) {
  uint32_t init, event;
  return each_mark(f, &init, &event, [](const Mark &) { return true; });
}

Err open_fanotify(OpenCtx &c, size_t i) {
  const FdescRec &f = c.set.fdescs[i];
  uint32_t init, event;
  if (!valid(f)) return bad_image("fanotify description %u", (unsigned)i);
  each_mark(f, &init, &event, [](const Mark &) { return true; });
  // its flags as they were (FAN_CLOEXEC, FAN_NONBLOCK too: fdinfo shows them)
  Fd fan(syscall(SYS_fanotify_init, init, event));
  if (!fan.ok()) return sys_err("fanotify_init");
  Err e = ok();
  each_mark(f, &init, &event, [&](const Mark &m) {
    char path[4096];
    memcpy(path, m.path, m.path_len);
    path[m.path_len] = 0;
    unsigned base = FAN_MARK_ADD | FAN_MARK_DONT_FOLLOW | m.mflags;
    if ((m.mask && syscall(SYS_fanotify_mark, fan.get(), base, (uint64_t)m.mask, AT_FDCWD, path) < 0) ||
        (m.ignored &&
         syscall(SYS_fanotify_mark, fan.get(), base | FAN_MARK_IGNORED_MASK, (uint64_t)m.ignored, AT_FDCWD, path) < 0)) {
      e = sys_err("fanotify mark on %s", path);
      return false;
    }
    return true;
  });
  if (e) return e;
  return c.place(i, fan.release());
}
}  // namespace

extern const FdKind kFanotifyKind = {
    FileKind::Fanotify, "fanotify", match, dump, valid, open_fanotify, nullptr, nullptr, nullptr, nullptr,
};
