// File descriptors and the open file descriptions behind them: the generic
// part. Every fd of every process in the set refers to one FdescRec; fds that
// share a description (dup, fork) are found with kcmp(2) KCMP_FILE and share
// one FdescRec, so they share their offset and flags again after restore.
// What a description is beyond its head (fdesc.h) is its kind's business: the
// loop here asks the table (src/fd/table.cpp) which kind an fd is, and lets
// that kind dump it and, at restore, open it. rstrt opens each description
// once, before it forks the tree, and every process dups the ones it had.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "process.h"
#include "procfs.h"

namespace {
constexpr int kKcmpFile = 0;  // include/uapi/linux/kcmp.h
// fcntl(2) F_GETOWN_EX / F_SETOWN_EX (include/uapi/asm-generic/fcntl.h)
constexpr int kGetOwnEx = 16, kSetOwnEx = 15, kOwnerTid = 0, kOwnerPgrp = 2;
struct OwnerEx { int32_t type, pid; };
// Status flags F_SETFL can change (fs/fcntl.c SETFL_MASK); the access mode
// comes from how the kind opened the description. O_ASYNC is set by the
// restored process itself: the kernel records the fd number that set it and
// reports it as si_fd (fs/fcntl.c fasync_helper).
constexpr uint32_t kSetflMask = O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME;

const FdKind *kind_of(const FdProbe &p) {
  size_t n;
  const FdKind *const *kinds = fd_kinds(&n);
  for (size_t i = 0; i < n; i++)
    if (kinds[i]->match(p)) return kinds[i];
  return nullptr;
}

// SO_DOMAIN of the target's socket, through a duplicate (pidfd_getfd(2)).
Err socket_family(int pidfd, int pid, int fd, int *family) {
  Fd sk(syscall(SYS_pidfd_getfd, pidfd, fd, 0));
  socklen_t l = sizeof *family;
  if (!sk.ok() || getsockopt(sk.get(), SOL_SOCKET, SO_DOMAIN, family, &l) < 0)
    return sys_err("process %d fd %d: the socket's family", pid, fd);
  return ok();
}

Err unsupported(const FdProbe &p) {
  if (p.sock_family)
    return errf("process %d fd %d (%s): sockets of family %d (netlink, packet, ...) are not supported", p.pid, p.fd,
                p.link, p.sock_family);
  if (ends_with(p.link, " (deleted)"))
    return errf("process %d fd %d (%s): the file was deleted: not supported yet", p.pid, p.fd, p.link);
  if (p.link[0] != '/') return errf("process %d fd %d (%s): this kind of file is not supported yet", p.pid, p.fd, p.link);
  return errf("process %d fd %d (%s): this file type is not supported yet", p.pid, p.fd, p.link);
}

// The SIGIO owner lives in the open file description: read it through a
// duplicate of the target's fd (pidfd_getfd(2); chkpt is its tracer).
Err dump_owner(int pidfd, const FdProbe &p, FdescRec *f) {
  Fd dup(syscall(SYS_pidfd_getfd, pidfd, p.fd, 0));
  if (!dup.ok()) return sys_err("pidfd_getfd of process %d fd %d", p.pid, p.fd);
  OwnerEx o = {0, 0};
  if (fcntl(dup.get(), kGetOwnEx, &o) < 0) return sys_err("F_GETOWN_EX of process %d fd %d", p.pid, p.fd);
  int sig = fcntl(dup.get(), F_GETSIG);
  f->owner_type = (uint32_t)o.type;
  f->owner_pid = o.pid;
  f->owner_sig = sig > 0 ? (uint32_t)sig : 0;
  return ok();
}

// Fill a new description from one fd that refers to it.
Err describe(int pidfd, const FdProbe &p, FdescRec *f) {
  const FdKind *kind = kind_of(p);
  if (!kind) return unsupported(p);
  FdInfo fi;
  if (!parse_fdinfo(p.fdinfo, &fi)) return errf("cannot parse fdinfo of process %d fd %d", p.pid, p.fd);
  f->kind = kind->kind;
  f->flags = fi.flags & ~O_CLOEXEC;
  f->pos = fi.pos;
  f->dev = p.st->st_dev;
  f->ino = p.st->st_ino;
  f->mode = p.st->st_mode;
  f->path = Str(p.link);
  TRY(dump_owner(pidfd, p, f));
  return kind->dump(p, f);
}

// Where (pid, fd) of file st stands against description i: <0 before it, 0 the
// same open file description, >0 after it. kcmp(2) KCMP_FILE orders open files
// (by their obfuscated kernel pointers), so the set's descriptions can be
// searched in O(log n) kcmp calls: thousands of fds on one file are no
// quadratic cost. *unordered: kcmp could not order these two.
int compare_desc(const DescIndex &idx, const SetImage &set, size_t i, int pid, int fd, const struct stat &st,
                 bool *unordered) {
  const FdescRec &d = set.fdescs[i];
  if (st.st_dev != d.dev) return st.st_dev < d.dev ? -1 : 1;
  if (st.st_ino != d.ino) return st.st_ino < d.ino ? -1 : 1;
  long r = syscall(SYS_kcmp, pid, idx.rep_pid[i], kKcmpFile, fd, idx.rep_fd[i]);
  if (r == 0) return 0;
  if (r == 1 || r == 2) return r == 1 ? -1 : 1;
  *unordered = true;
  return 1;
}

// Index in idx.sorted of the first description not before (pid, fd); *same
// if it is the one.
size_t lower_bound(const DescIndex &idx, const SetImage &set, int pid, int fd, const struct stat &st, bool *same,
                   bool *unordered) {
  size_t lo = 0, hi = idx.sorted.size();
  *same = false;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = compare_desc(idx, set, idx.sorted[mid], pid, fd, st, unordered);
    if (c == 0) { *same = true; return mid; }
    if (c < 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// The description this fd refers to, if the set has seen it already; else -1
// and *at, where a new one goes in idx.sorted.
int find_shared(const DescIndex &idx, const SetImage &set, int pid, int fd, const struct stat &st, size_t *at) {
  *at = SIZE_MAX;
  for (size_t i = 0; i < set.fdescs.size(); i++)  // memfds seen only mapped so far (few): the same object
    if (idx.rep_fd[i] < 0 && set.fdescs[i].ino == st.st_ino && set.fdescs[i].dev == st.st_dev) return (int)i;
  bool same, unordered = false;
  *at = lower_bound(idx, set, pid, fd, st, &same, &unordered);
  if (same) return (int)idx.sorted[*at];
  for (size_t k = 0; unordered && k < idx.sorted.size(); k++) {  // kcmp gave no order: compare one by one
    size_t i = idx.sorted[k];
    if (set.fdescs[i].ino == st.st_ino && set.fdescs[i].dev == st.st_dev &&
        syscall(SYS_kcmp, pid, idx.rep_pid[i], kKcmpFile, fd, idx.rep_fd[i]) == 0)
      return (int)i;
  }
  return -1;
}

// A new description; `at` is its place in idx.sorted (find_shared), or
// SIZE_MAX for one with no fd (a file seen only mapped).
Err add_desc(SetImage &set, DescIndex &idx, FdescRec &&d, int pid, int fd, size_t at) {
  size_t i = set.fdescs.size();
  d.id = (uint32_t)i;
  set.fdescs.push(std::move(d));
  idx.rep_pid.push(pid);
  idx.rep_fd.push(fd);
  if (at == SIZE_MAX) return ok();
  idx.sorted.push(0);
  for (size_t k = idx.sorted.size() - 1; k > at; k--) idx.sorted[k] = idx.sorted[k - 1];
  idx.sorted[at] = (uint32_t)i;
  return ok();
}

Err dump_fd(int pid, int pidfd, int fd, SetImage &set, DescIndex &idx, FileRec *out, Vec<LockRec> *locks) {
  char path[64], link[4096];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
  TRY(read_link(path, link, sizeof link));
  struct stat st;
  if (stat(path, &st) < 0) return sys_err("process %d fd %d (%s)", pid, fd, link);
  snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, fd);
  Str info;
  TRY(read_whole(path, &info));
  FdInfo fi;
  if (!parse_fdinfo(info.c(), &fi)) return errf("cannot parse %s", path);
  out->fd = fd;
  out->fd_flags = (fi.flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
  size_t at;
  int shared = find_shared(idx, set, pid, fd, st, &at);
  if (shared >= 0) {
    out->desc = set.fdescs[shared].id;
    return dump_fd_locks(pid, fd, out->desc, info.c(), locks);
  }
  FdescRec d;
  FdProbe probe = {pid, fd, link, &st, info.c(), idx.ghost_limit, 0, idx.repaired, idx.tcp_close};
  if (S_ISSOCK(st.st_mode)) TRY(socket_family(pidfd, pid, fd, &probe.sock_family));
  TRY(describe(pidfd, probe, &d));
  out->desc = (uint32_t)set.fdescs.size();
  TRY(dump_fd_locks(pid, fd, out->desc, info.c(), locks));
  return add_desc(set, idx, std::move(d), pid, fd, at);
}

bool in_tree(const SetImage &set, int pid) {
  for (auto &e : set.tree)
    if (e.pid == pid) return true;
  return false;
}

bool group_in_tree(const SetImage &set, int pgid) {
  for (auto &e : set.tree)
    if (e.pgid == pgid) return true;
  return false;
}

// SIGIO must go where it went: to a process, group or main thread of the set.
Err check_owner(const SetImage &set, const FdescRec &f) {
  if (f.owner_pid == 0) return ok();
  size_t k = 0;
  int fd = -1;
  int pid = first_holder(set, f.id, &k, &fd) ? set.procs[k].proc.pid : -1;
  bool known = f.owner_type == kOwnerPgrp ? group_in_tree(set, f.owner_pid) : in_tree(set, f.owner_pid);
  if (!known)
    return errf("process %d fd %d: its SIGIO owner %s %d is outside the checkpoint", pid, fd,
                f.owner_type == kOwnerPgrp ? "process group" : f.owner_type == kOwnerTid ? "thread" : "process",
                f.owner_pid);
  if (f.owner_type > kOwnerPgrp) return errf("process %d fd %d: unknown SIGIO owner type %u", pid, fd, f.owner_type);
  return ok();
}

struct Outside {
  PeerWanted want;
  size_t desc;  // the description of the set that wants it
  int pid, fd;  // its first holder inside the set, for the message
  int outside_pid = 0;  // found: who holds the other end (0: nobody outside)
  char outside_comm[32] = "";
};

// Which processes outside the set hold one of the wanted inodes? One pass over
// /proc, each link compared against the wanted ones.
Err scan_outside(const SetImage &set, Vec<Outside> &want) {
  if (want.empty()) return ok();
  DIR *procdir = opendir("/proc");
  if (!procdir) return sys_err("/proc");
  while (struct dirent *de = readdir(procdir)) {
    uint64_t pid;
    if (!parse_u64(de->d_name, &pid) || in_tree(set, (int)pid)) continue;
    char path[320];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *fds = opendir(path);
    if (!fds) continue;
    while (struct dirent *fe = readdir(fds)) {
      char link[64];
      snprintf(path, sizeof path, "/proc/%d/fd/%s", (int)pid, fe->d_name);
      ssize_t n = readlink(path, link, sizeof link - 1);
      if (n <= 0) continue;
      link[n] = 0;
      for (auto &w : want) {
        size_t k = strlen(w.want.prefix);
        if (w.outside_pid || strncmp(link, w.want.prefix, k) != 0 || strtoull(link + k, nullptr, 10) != w.want.ino)
          continue;
        w.outside_pid = (int)pid;
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        if (read_text(path, w.outside_comm, sizeof w.outside_comm)) snprintf(w.outside_comm, sizeof w.outside_comm, "?");
        w.outside_comm[strcspn(w.outside_comm, "\n")] = 0;
      }
    }
    closedir(fds);
  }
  closedir(procdir);
  return ok();
}

bool listed(const Vec<int> &fds, int fd) {
  for (int f : fds)
    if (f == fd) return true;
  return false;
}

// A channel to the outside is external when every fd of the set that holds
// it is 0, 1, 2 or one the user named (chkpt --external): rstrt will connect
// its own fd of the first holder's number there. Anything else is refused,
// naming the fd, its peer and the option.
Err take_external(SetImage &set, const Outside &o, const Vec<int> &external) {
  for (auto &p : set.procs)
    for (auto &f : p.files)
      if (f.desc == o.desc && f.fd > 2 && !listed(external, f.fd))
        return errf("process %d fd %d (%s) is connected to process %d (%s) outside the checkpoint "
                    "(chkpt --external %d saves it as external: rstrt connects its own fd %d there)",
                    p.proc.pid, f.fd, set.fdescs[o.desc].path.c(), o.outside_pid, o.outside_comm, f.fd, f.fd);
  FdescRec &d = set.fdescs[o.desc];
  d.kind = FileKind::External;
  uint8_t head[4];
  Enc e(head, sizeof head);
  e.u32((uint32_t)o.fd);
  return set_payload(&d, e, nullptr, 0);
}
}  // namespace

bool line_field(const char *line, const char *key, int base, uint64_t *v) {
  const char *s = strstr(line, key);
  if (!s) return false;
  s += strlen(key);
  while (*s == ' ') s++;
  char *end;
  *v = strtoull(s, &end, base);
  return end != s;
}

bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

Err set_payload(FdescRec *f, const Enc &fields, const void *data, uint32_t n, const Enc *tail) {
  size_t tail_len = tail ? tail->len() : 0;
  size_t total = fields.len() + 4 + (size_t)n + tail_len;
  char *buf = static_cast<char *>(malloc(total));
  if (!buf) return errf("out of memory");
  if (fields.len()) memcpy(buf, fields.data(), fields.len());
  store_le32(reinterpret_cast<uint8_t *>(buf) + fields.len(), n);
  if (n) memcpy(buf + fields.len() + 4, data, n);
  if (tail_len) memcpy(buf + fields.len() + 4 + n, tail->data(), tail_len);
  f->payload = Str(buf, total);
  free(buf);
  return ok();
}

Err set_u64_payload(FdescRec *f, uint64_t v) {
  uint8_t head[8];
  Enc e(head, sizeof head);
  e.u64(v);
  return set_payload(f, e, nullptr, 0);
}

bool u64_payload(const FdescRec &f, uint64_t *v) {
  Dec d = payload_of(f);
  *v = d.u64();
  uint32_t n;
  d.blob(&n, 0);
  return payload_done(d);
}

Err OpenCtx::place(size_t i, int fd) {
  Fd mine(fd);
  int high = fcntl(fd, F_DUPFD_CLOEXEC, above);
  if (high < 0) return sys_err("placing %s", set.fdescs[i].path.c());
  fds[i] = high;
  return ok();
}

Err OpenCtx::place_as_is(size_t i, int fd) {
  while (as_is.size() <= i) as_is.push(0);
  as_is[i] = 1;
  return place(i, fd);
}

Err dump_files(int pid, SetImage &set, DescIndex &idx, Vec<FileRec> *out, Vec<LockRec> *locks) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd", pid);
  Fd pidfd(syscall(SYS_pidfd_open, pid, 0));
  if (!pidfd.ok()) return sys_err("pidfd_open %d", pid);
  DIR *d = opendir(path);
  if (!d) return sys_err("%s", path);
  Err e = ok();
  while (struct dirent *de = readdir(d)) {
    uint64_t fd;
    if (!parse_u64(de->d_name, &fd)) continue;
    FileRec f;
    if ((e = dump_fd(pid, pidfd.get(), (int)fd, set, idx, &f, locks))) break;
    out->push(f);
  }
  closedir(d);
  return e;
}

// One description (no fd refers to it) for each file that is mapped but not
// open and whose kind restores mappings from the description (memfd).
Err dump_mapped_files(int pid, const Vec<VmaRec> &vmas, SetImage &set, DescIndex &idx) {
  size_t n;
  const FdKind *const *kinds = fd_kinds(&n);
  for (auto &v : vmas) {
    for (size_t k = 0; k < n; k++) {
      if (!kinds[k]->maps || !kinds[k]->maps(v) || desc_of_mapping(set, v) >= 0) continue;
      FdescRec f;
      f.kind = kinds[k]->kind;
      f.dev = v.dev;
      f.ino = v.ino;
      f.path = Str(v.name.c());
      TRY(kinds[k]->dump_mapped(pid, v, idx.ghost_limit, &f));
      TRY(add_desc(set, idx, std::move(f), pid, -1, SIZE_MAX));
    }
  }
  return ok();
}

int desc_of_mapping(const SetImage &set, const VmaRec &v) {
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdescRec &d = set.fdescs[i];
    const FdKind *kind = fd_kind(d.kind);
    if (kind && kind->maps && kind->maps(v) && d.dev == v.dev && d.ino == v.ino) return (int)i;
  }
  return -1;
}

Err finish_fdescs(SetImage &set, const Vec<int> &external) {
  Vec<Outside> want;
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdKind *kind = fd_kind(set.fdescs[i].kind);
    if (kind->after_collect) kind->after_collect(set, i);
    TRY(check_owner(set, set.fdescs[i]));
    if (kind->check) TRY(kind->check(set, i));
    Outside o;
    o.desc = i;
    if (!kind->peer_outside || !kind->peer_outside(set, set.fdescs[i], &o.want)) continue;
    size_t p;
    if (!first_holder(set, (uint32_t)i, &p, &o.fd)) continue;  // held by no fd (a memfd only mapped)
    o.pid = set.procs[p].proc.pid;
    want.push(o);
  }
  TRY(scan_outside(set, want));
  for (auto &o : want)
    if (o.outside_pid) TRY(take_external(set, o, external));
  return ok();
}

int highest_fd(const Vec<FileRec> &files) {
  int m = -1;
  for (auto &f : files) m = f.fd > m ? f.fd : m;
  return m;
}

bool fdesc_valid(const FdescRec &f) {
  const FdKind *kind = fd_kind(f.kind);
  return kind && f.owner_type <= kOwnerPgrp && f.owner_pid >= 0 && f.owner_sig <= 64 && kind->valid(f);
}

const char *fdesc_kind_name(FileKind k) {
  const FdKind *kind = fd_kind(k);
  return kind ? kind->name : "unknown";
}

// In rstrt, before the tree is forked: every description once, at fds >= `above`,
// with the status flags it had (a terminal is rstrt's own: left as it is).
Err open_fdescs(const SetImage &set, int tty_fd, int above, const Vec<InheritFd> &inherit, bool tcp_close,
                Vec<int> *staged, Vec<int> *fds) {
  for (size_t i = 0; i < set.fdescs.size(); i++) fds->push(-1);
  OpenCtx c = {set, tty_fd, above, *fds, &inherit, tcp_close, {}, staged};
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdescRec &f = set.fdescs[i];
    if ((*fds)[i] < 0) TRY(fd_kind(f.kind)->open(c, i));
    if ((*fds)[i] < 0) return errf("internal: description %zu was not opened", i);
  }
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdescRec &f = set.fdescs[i];
    if (i < c.as_is.size() && c.as_is[i]) continue;
    int now = fcntl((*fds)[i], F_GETFL);
    if (now < 0 || fcntl((*fds)[i], F_SETFL, (int)((now & ~kSetflMask) | (f.flags & kSetflMask))) < 0)
      return sys_err("status flags of %s", f.path.c());
    if (f.owner_sig && fcntl((*fds)[i], F_SETSIG, (int)f.owner_sig) < 0) return sys_err("F_SETSIG of %s", f.path.c());
  }
  return ok();
}

// Once every process of the set exists (SIGIO owners name them).
Err restore_owners(const SetImage &set, const Vec<int> &fds) {
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdescRec &f = set.fdescs[i];
    if (!f.owner_pid) continue;
    OwnerEx o = {(int32_t)f.owner_type, f.owner_pid};
    if (fcntl(fds[i], kSetOwnEx, &o) < 0) return sys_err("F_SETOWN_EX %d of %s", f.owner_pid, f.path.c());
  }
  return ok();
}

bool first_holder(const SetImage &set, uint32_t desc, size_t *proc, int *fd) {
  for (size_t p = 0; p < set.procs.size(); p++) {
    int best = -1;
    for (auto &f : set.procs[p].files)
      if (f.desc == desc && (best < 0 || f.fd < best)) best = f.fd;
    if (best >= 0) { *proc = p; *fd = best; return true; }
  }
  return false;
}

// In new process k, whose fds below the descriptions' are all closed. What a
// description needs done by a process is done by its first holder, once all
// of that process's fds exist: O_ASYNC (the kernel records the fd number that
// set it and reports it as si_fd), the kind's own step (epoll targets).
Err restore_files_child(const SetImage &set, size_t k, const Vec<int> &desc_fds) {
  for (auto &f : set.procs[k].files) {
    if (f.desc >= desc_fds.size()) return errf("fd %d refers to a missing description", f.fd);
    if (dup2(desc_fds[f.desc], f.fd) < 0) return sys_err("dup2 to fd %d", f.fd);
    if (fcntl(f.fd, F_SETFD, (int)f.fd_flags) < 0) return sys_err("fcntl fd %d", f.fd);
  }
  for (auto &f : set.procs[k].files) {
    size_t p;
    int fd;
    if (!first_holder(set, f.desc, &p, &fd) || p != k || fd != f.fd) continue;
    const FdescRec &d = set.fdescs[f.desc];
    if (d.flags & O_ASYNC) {
      int fl = fcntl(f.fd, F_GETFL);
      if (fl < 0 || fcntl(f.fd, F_SETFL, fl | O_ASYNC) < 0) return sys_err("O_ASYNC on fd %d", f.fd);
    }
    const FdKind *kind = fd_kind(d.kind);
    if (kind->in_process) TRY(kind->in_process(set, k, desc_fds, d, f.fd));
  }
  TRY(restore_description_locks(set, k));  // after the epoll steps, which move fds about
  return restore_tty_pgrp_child(set, k, desc_fds);
}
