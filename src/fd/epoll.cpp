// epoll(7): its interest list is in fdinfo, one line per registration
// (fs/eventpoll.c ep_show_fdinfo): "tfd: N events: HEX data: HEX pos:N
// ino:HEX sdev:HEX". A registration is keyed by the target's open file and
// the fd number it was added with in the process that added it; that number
// may have been closed or reused since (the registration lasts while the file
// is open anywhere). At checkpoint each target's description in the set is
// found with kcmp(2) KCMP_EPOLL_TFD (kernel/kcmp.c: the file of the toff-th
// registration with that fd number, in fdinfo's order, against an fd of any
// process of the set); a target no process of the set holds is refused.
//
// At restore the epoll is made anew and, in its first holder once all of that
// process's fds exist, every target is added again by its old fd number with
// its events (EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE... included: a disarmed
// one-shot registration shows only those bits and comes back disarmed) and
// data. A target whose number now holds something else, or nothing, is put at
// that number for the epoll_ctl only (the process holds every description of
// the set above its own fds then), and the number given back. Readiness is the
// kernel's to recompute.
//
// Payload: u32 count, then per target u32 tfd, u32 events, u64 data, u64 ino;
// empty blob; since 2.2 then u32 count again and per target u32 description
// (absent: the target is what the first holder's fd tfd refers to).
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "model.h"

namespace {
struct Target {
  uint32_t tfd = 0, events = 0;
  uint64_t data = 0, ino = 0;
  uint32_t desc = kNoDesc;  // its description in the set (2.2), kNoDesc where the image does not say
  static constexpr uint32_t kNoDesc = 0xffffffffu;
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
  if (!d.bad() && d.left()) {  // since 2.2: each target's description
    if (d.u32() != n) return false;
    for (uint32_t i = 0; i < n && !d.bad(); i++) (*out)[i].desc = d.u32();
  }
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

// include/uapi/linux/kcmp.h
constexpr int kKcmpEpollTfd = 7;
struct KcmpEpollSlot {
  uint32_t efd, tfd, toff;
};

// The description of the toff-th registration with fd number tfd of epoll fd
// epfd of process k: the fd of the set whose file kcmp says it is (same inode
// first, the fd tfd itself first of all), or kNoDesc.
uint32_t find_target(const SetImage &set, size_t k, int epfd, const Target &t, uint32_t toff) {
  KcmpEpollSlot slot = {(uint32_t)epfd, t.tfd, toff};
  int epoll_pid = set.procs[k].proc.pid;
  auto same = [&](size_t p, int fd) {
    return syscall(SYS_kcmp, set.procs[p].proc.pid, epoll_pid, kKcmpEpollTfd, fd, &slot) == 0;
  };
  int d = desc_at(set, k, t.tfd);
  if (d >= 0 && set.fdescs[d].ino == t.ino && same(k, (int)t.tfd)) return (uint32_t)d;
  for (size_t p = 0; p < set.procs.size(); p++)
    for (auto &r : set.procs[p].files)
      if (set.fdescs[r.desc].ino == t.ino && same(p, r.fd)) return r.desc;
  return Target::kNoDesc;
}

// Once the set is collected, while it is frozen: each target's description,
// behind the payload (kNoDesc for one no process of the set holds: check
// refuses it).
void after_collect(SetImage &set, size_t i) {
  size_t k;
  int epfd;
  if (!first_holder(set, (uint32_t)i, &k, &epfd)) return;  // held by no fd: nothing waits on it
  FdescRec &f = set.fdescs[i];
  Vec<Target> list;
  if (!targets(f, &list)) return;
  size_t cap = f.payload.size() + 4 + 4 * list.size();
  uint8_t *buf = static_cast<uint8_t *>(malloc(cap));
  if (!buf) return;  // check finds no descriptions and refuses
  memcpy(buf, f.payload.c(), f.payload.size());
  Enc e(buf + f.payload.size(), cap - f.payload.size());
  e.u32((uint32_t)list.size());
  for (size_t j = 0; j < list.size(); j++) {
    uint32_t toff = 0;
    for (size_t m = 0; m < j; m++) toff += list[m].tfd == list[j].tfd;
    e.u32(find_target(set, k, epfd, list[j], toff));
  }
  f.payload = Str(reinterpret_cast<char *>(buf), cap);
  free(buf);
}

Err check(const SetImage &set, size_t i) {
  size_t k;
  int epfd;
  if (!first_holder(set, (uint32_t)i, &k, &epfd)) return ok();
  Vec<Target> list;
  targets(set.fdescs[i], &list);
  for (auto &t : list)
    if (t.desc == Target::kNoDesc)
      return errf("process %d fd %d: epoll target added as fd %u is not open in any process of the set: not supported",
                  set.procs[k].proc.pid, epfd, t.tfd);
  return ok();
}

// rstrt: every target is a description of the set, and not the epoll itself.
Err targets_in_set(const SetImage &set, size_t i) {
  Vec<Target> list;
  if (!targets(set.fdescs[i], &list)) return bad_image("epoll description %u", (unsigned)i);
  for (auto &t : list)
    if (t.desc != Target::kNoDesc && (t.desc >= set.fdescs.size() || t.desc == i))
      return bad_image("epoll description %u: target fd %u names description %u", (unsigned)i, t.tfd, t.desc);
  return ok();
}

Err open_epoll(OpenCtx &c, size_t i) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return sys_err("epoll_create1");
  return c.place(i, fd);
}

// epoll_ctl ADD of description `desc` by fd number tfd in new process k: if
// tfd holds another description (or nothing), the target is put there for the
// call and tfd given back as it was.
Err add_at(const SetImage &set, size_t k, const Vec<int> &desc_fds, int epfd, const Target &t, struct epoll_event *ev) {
  int now = desc_at(set, k, t.tfd);
  if (t.desc == Target::kNoDesc || now == (int)t.desc) {  // 2.1 images: the fd itself
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, (int)t.tfd, ev) < 0) return sys_err("epoll fd %d: adding fd %u", epfd, t.tfd);
    return ok();
  }
  int fd = (int)t.tfd;
  int saved = now >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
  if (now >= 0 && saved < 0) return sys_err("epoll fd %d: moving fd %d aside", epfd, fd);
  int fd_flags = now >= 0 ? fcntl(fd, F_GETFD) : 0;
  Err r = ok();
  if (dup2(desc_fds[t.desc], fd) < 0) r = sys_err("epoll fd %d: target at fd %d", epfd, fd);
  else if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, ev) < 0) r = sys_err("epoll fd %d: adding fd %d (closed since)", epfd, fd);
  if (saved >= 0) {
    if (dup2(saved, fd) < 0 || fcntl(fd, F_SETFD, fd_flags) < 0) r = sys_err("epoll fd %d: fd %d back", epfd, fd);
    close(saved);
  } else {
    close(fd);
  }
  return r;
}

int highest_tfd(const FdescRec &f) {
  Vec<Target> list;
  int top = -1;
  if (targets(f, &list))
    for (auto &t : list) top = (int)t.tfd > top ? (int)t.tfd : top;
  return top;
}

Err in_process(const SetImage &set, size_t k, const Vec<int> &desc_fds, const FdescRec &f, int fd) {
  Vec<Target> list;
  if (!targets(f, &list)) return bad_image("epoll description %u", f.id);
  for (auto &t : list) {
    struct epoll_event ev = {};
    ev.events = t.events;
    ev.data.u64 = t.data;
    TRY(add_at(set, k, desc_fds, fd, t, &ev));
  }
  return ok();
}
}  // namespace

extern const FdKind kEpollKind = {
    FileKind::Epoll, "epoll", match, dump, valid, open_epoll, after_collect, nullptr, nullptr, nullptr, check, in_process,
    targets_in_set, highest_tfd,
};
