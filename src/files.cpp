// File descriptors and the open file descriptions behind them. Every fd of every
// process in the set refers to one FdescRec; fds that share a description (dup,
// fork) are found with kcmp(2) KCMP_FILE and share one FdescRec, so they share
// their offset and flags again after restore. rstrt opens each description once,
// before it forks the tree, and every process dups the ones it had.
// Regular files, directories and character devices are reopened by path with
// their flags and offset; terminals become rstrt's terminal; eventfds are made
// anew with their count; pipes (pipes.cpp) and unix socketpairs (unix.cpp) are
// rebuilt with their queued data.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "process.h"
#include "procfs.h"

namespace {
constexpr int kKcmpFile = 0;  // include/uapi/linux/kcmp.h

// Terminals by device major (Documentation/admin-guide/devices.txt): 4 = tty0..
// and ttyS*, 136-143 = Unix98 pty slaves, 5:0 /dev/tty, 5:1 /dev/console.
bool is_terminal(dev_t rdev) {
  unsigned maj = major(rdev), min = minor(rdev);
  return maj == 4 || (maj >= 136 && maj <= 143) || (maj == 5 && min <= 1);
}

bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool starts_with(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

Err classify(int pid, int fd, const char *target, const struct stat &st, FdescRec *f) {
  if (S_ISFIFO(st.st_mode) && (starts_with(target, "pipe:") || target[0] == '/')) f->kind = FileKind::Pipe;
  else if (S_ISSOCK(st.st_mode)) f->kind = FileKind::UnixSocket;
  else if (strcmp(target, "anon_inode:[eventfd]") == 0) f->kind = FileKind::Eventfd;
  else if (is_memfd_name(target) && S_ISREG(st.st_mode)) f->kind = FileKind::Memfd;
  else if (target[0] != '/') return errf("process %d fd %d (%s): this kind of file is not supported yet", pid, fd, target);
  else if (ends_with(target, " (deleted)")) return errf("process %d fd %d (%s): the file was deleted: not supported yet", pid, fd, target);
  else if (S_ISREG(st.st_mode)) f->kind = FileKind::Regular;
  else if (S_ISDIR(st.st_mode)) f->kind = FileKind::Directory;
  else if (S_ISCHR(st.st_mode)) f->kind = is_terminal(st.st_rdev) ? FileKind::Terminal : FileKind::CharDev;
  else return errf("process %d fd %d (%s): this file type is not supported yet", pid, fd, target);
  return ok();
}

// Fill a new description from one fd that refers to it.
Err describe(int pid, int fd, const char *target, const struct stat &st, const char *info, FdescRec *f) {
  TRY(classify(pid, fd, target, st, f));
  FdInfo fi;
  if (!parse_fdinfo(info, &fi)) return errf("cannot parse fdinfo of process %d fd %d", pid, fd);
  f->flags = fi.flags & ~O_CLOEXEC;
  f->pos = fi.pos;
  f->dev = st.st_dev; f->ino = st.st_ino; f->size = st.st_size; f->rdev = st.st_rdev; f->mode = st.st_mode;
  f->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  f->path = Str(target);
  if (f->kind == FileKind::Pipe) return dump_pipe(pid, fd, f);
  if (f->kind == FileKind::UnixSocket) return dump_unix_socket(pid, fd, f);
  if (f->kind == FileKind::Memfd) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    return dump_memfd(path, f);
  }
  if (f->kind == FileKind::Eventfd) {
    char v[32];
    if (!status_field(info, "eventfd-count", v, sizeof v)) return errf("process %d fd %d: no eventfd-count", pid, fd);
    f->count = strtoull(v, nullptr, 16);  // fs/eventfd.c prints it in hex
  }
  return ok();
}

// The description this fd refers to, if the set has seen it already.
int find_shared(const DescIndex &idx, const SetImage &set, int pid, int fd, const struct stat &st) {
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdescRec &d = set.fdescs[i];
    if (d.ino != st.st_ino || d.dev != st.st_dev) continue;
    if (idx.rep_fd[i] < 0) return (int)i;  // a memfd seen only mapped so far: the same object
    if (syscall(SYS_kcmp, pid, idx.rep_pid[i], kKcmpFile, fd, idx.rep_fd[i]) == 0) return (int)i;
  }
  return -1;
}

Err dump_fd(int pid, int fd, SetImage &set, DescIndex &idx, FileRec *out) {
  char path[64], target[4096], info[2048];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
  TRY(read_link(path, target, sizeof target));
  struct stat st;
  if (stat(path, &st) < 0) return sys_err("process %d fd %d (%s)", pid, fd, target);
  snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, fd);
  TRY(read_text(path, info, sizeof info));
  FdInfo fi;
  if (!parse_fdinfo(info, &fi)) return errf("cannot parse %s", path);
  out->fd = fd;
  out->fd_flags = (fi.flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
  int shared = find_shared(idx, set, pid, fd, st);
  if (shared >= 0) {
    out->desc = set.fdescs[shared].id;
    return ok();
  }
  FdescRec d;
  d.id = (uint32_t)set.fdescs.size();
  TRY(describe(pid, fd, target, st, info, &d));
  out->desc = d.id;
  set.fdescs.push(std::move(d));
  idx.rep_pid.push(pid);
  idx.rep_fd.push(fd);
  return ok();
}

// Open one description in rstrt; returns the new fd.
Err open_desc(const FdescRec &f, int tty_fd, int *out) {
  if (f.kind == FileKind::Terminal) {
    if (tty_fd < 0) return errf("%s was a terminal, and rstrt has no terminal to attach it to", f.path.c());
    *out = dup(tty_fd);
    return *out < 0 ? sys_err("dup of the terminal") : ok();
  }
  if (f.kind == FileKind::Eventfd) {
    *out = eventfd((unsigned)f.count, (f.flags & O_NONBLOCK) ? EFD_NONBLOCK : 0);
    if (f.count > 0xffffffffull && *out >= 0) {  // eventfd(2) takes an int; add the rest
      uint64_t rest = f.count - 0xffffffffull;
      if (write(*out, &rest, 8) != 8) return sys_err("eventfd count");
    }
    return *out < 0 ? sys_err("eventfd") : ok();
  }
  if (f.kind == FileKind::Memfd) return open_memfd(f, out);
  int flags = (int)(f.flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)) | O_NOCTTY;
  *out = open(f.path.c(), flags);
  if (*out < 0) return sys_err("cannot reopen %s", f.path.c());
  if ((f.kind == FileKind::Regular || f.kind == FileKind::Directory) && lseek(*out, (off_t)f.pos, SEEK_SET) < 0)
    return sys_err("cannot seek %s", f.path.c());
  return ok();
}
}  // namespace

Err dump_files(int pid, SetImage &set, DescIndex &idx, Vec<FileRec> *out) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd", pid);
  DIR *d = opendir(path);
  if (!d) return sys_err("%s", path);
  Err e = ok();
  while (struct dirent *de = readdir(d)) {
    uint64_t fd;
    if (!parse_u64(de->d_name, &fd)) continue;
    FileRec f;
    if ((e = dump_fd(pid, (int)fd, set, idx, &f))) break;
    out->push(f);
  }
  closedir(d);
  return e;
}

int highest_fd(const Vec<FileRec> &files) {
  int m = -1;
  for (auto &f : files) m = f.fd > m ? f.fd : m;
  return m;
}

// In rstrt, before the tree is forked: every description once, at fds >= `above`.
Err open_fdescs(const SetImage &set, int tty_fd, int above, Vec<int> *fds) {
  for (size_t i = 0; i < set.fdescs.size(); i++) fds->push(-1);
  TRY(open_pipes(set, above, fds));
  TRY(open_unix_sockets(set, above, fds));
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdescRec &f = set.fdescs[i];
    if ((*fds)[i] >= 0) continue;
    int fd = -1;
    TRY(open_desc(f, tty_fd, &fd));
    int high = fcntl(fd, F_DUPFD, above);
    close(fd);
    if (high < 0) return sys_err("placing %s", f.path.c());
    (*fds)[i] = high;
  }
  return ok();
}

// In the new process, whose fds below the descriptions' are all closed.
Err restore_files_child(const Vec<FileRec> &files, const Vec<int> &desc_fds) {
  for (auto &f : files) {
    if (f.desc >= desc_fds.size()) return errf("fd %d refers to a missing description", f.fd);
    if (dup2(desc_fds[f.desc], f.fd) < 0) return sys_err("dup2 to fd %d", f.fd);
    if (fcntl(f.fd, F_SETFD, (int)f.fd_flags) < 0) return sys_err("fcntl fd %d", f.fd);
  }
  return ok();
}
