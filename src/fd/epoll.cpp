// epoll(7): its interest list is in fdinfo, one line per registration
// (fs/eventpoll.c ep_show_fdinfo): "tfd: N events: HEX data: HEX pos:N
// ino:HEX sdev:HEX". A registration names the target by the fd number it was
// added with in the process that added it, and the target's inode. At
// restore the epoll is made anew and, in its first holder once all of that
// process's fds exist, every target is added again by that fd number with its
// events (EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE... included: a disarmed
// one-shot registration shows only those bits and comes back disarmed) and
// data. Readiness is the kernel's to recompute.
//
// The checkpoint is refused if a target's fd number no longer refers to that
// target in the first holder (closed or reused since epoll_ctl): saving those
// needs kcmp(2) KCMP_EPOLL_TFD, not done yet.
//
// Payload: u32 count, then per target u32 tfd, u32 events, u64 data, u64 ino;
// empty blob.
#include <sys/epoll.h>
#include <unistd.h>

#include "model.h"

namespace {
struct Target {
  uint32_t tfd = 0, events = 0;
  uint64_t data = 0, ino = 0;
};
constexpr uint32_t kMaxTargets = 1u << 20;

bool targets(const FdescRec &f, Vec<Target> *out) {
  Dec d = payload_of(f);
  uint32_t n = d.u32();
  if (n > kMaxTargets) return false;
  for (uint32_t i = 0; i < n && !d.bad(); i++) {
    Target t;
    t.tfd = d.u32();
    t.events = d.u32();
    t.data = d.u64();
    t.ino = d.u64();
    out->push(t);
  }
  uint32_t len;
  d.blob(&len, 0);
  return payload_done(d);
}

bool match(const FdProbe &p) { return strcmp(p.link, "anon_inode:[eventpoll]") == 0; }

Err dump(const FdProbe &p, FdescRec *f) {
  Vec<Target> list;
  for (const char *l = p.fdinfo; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : nullptr) {
    if (strncmp(l, "tfd:", 4) != 0) continue;
    uint64_t tfd, events, data, ino;
    if (!line_field(l, "tfd:", 10, &tfd) || !line_field(l, "events:", 16, &events) ||
        !line_field(l, "data:", 16, &data) || !line_field(l, "ino:", 16, &ino))
      return errf("process %d fd %d: cannot parse the epoll's fdinfo", p.pid, p.fd);
    list.push(Target{(uint32_t)tfd, (uint32_t)events, data, ino});
  }
  size_t cap = 8 + list.size() * 24;
  uint8_t *head = static_cast<uint8_t *>(malloc(cap));
  if (!head) return errf("out of memory");
  Enc e(head, cap);
  e.u32((uint32_t)list.size());
  for (auto &t : list) { e.u32(t.tfd); e.u32(t.events); e.u64(t.data); e.u64(t.ino); }
  Err r = set_payload(f, e, nullptr, 0);
  free(head);
  return r;
}

bool valid(const FdescRec &f) {
  Vec<Target> list;
  return targets(f, &list);
}

// The description of fd `fd` in process k, or -1.
int desc_at(const SetImage &set, size_t k, uint32_t fd) {
  for (auto &r : set.procs[k].files)
    if ((uint32_t)r.fd == fd) return (int)r.desc;
  return -1;
}

Err check(const SetImage &set, size_t i) {
  size_t k;
  int epfd;
  if (!first_holder(set, (uint32_t)i, &k, &epfd)) return ok();  // held by no fd: nothing waits on it
  Vec<Target> list;
  targets(set.fdescs[i], &list);
  for (auto &t : list) {
    int d = desc_at(set, k, t.tfd);
    if (d < 0 || set.fdescs[d].ino != t.ino)
      return errf("process %d fd %d: epoll target fd %u was closed or replaced since it was added: not supported yet",
                  set.procs[k].proc.pid, epfd, t.tfd);
  }
  return ok();
}

Err open_epoll(OpenCtx &c, size_t i) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return sys_err("epoll_create1");
  return c.place(i, fd);
}

Err in_process(const SetImage &set, size_t k, const FdescRec &f, int fd) {
  Vec<Target> list;
  if (!targets(f, &list)) return bad_image("epoll description %u", f.id);
  for (auto &t : list) {
    struct epoll_event ev = {};
    ev.events = t.events;
    ev.data.u64 = t.data;
    if (epoll_ctl(fd, EPOLL_CTL_ADD, (int)t.tfd, &ev) < 0) return sys_err("epoll fd %d: adding fd %u", fd, t.tfd);
  }
  return ok();
}
}  // namespace

extern const FdKind kEpollKind = {
    FileKind::Epoll, "epoll", match, dump, valid, open_epoll, nullptr, nullptr, nullptr, nullptr, check, in_process,
};
