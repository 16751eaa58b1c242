// Open file descriptors: regular files (path, flags, offset), directories,
// character devices reopened by path, and terminals, which are reattached to
// rstrt's terminal. Anything else is refused at checkpoint time, naming the fd.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "process.h"
#include "procfs.h"

namespace {
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

Err classify(int fd, const char *target, const struct stat &st, FileRec *f) {
  if (target[0] != '/') return errf("fd %d (%s) is not a file or device: not supported yet", fd, target);
  if (ends_with(target, " (deleted)")) return errf("fd %d (%s): the file was deleted: not supported yet", fd, target);
  if (S_ISREG(st.st_mode)) f->kind = FileKind::Regular;
  else if (S_ISDIR(st.st_mode)) f->kind = FileKind::Directory;
  else if (S_ISCHR(st.st_mode)) f->kind = is_terminal(st.st_rdev) ? FileKind::Terminal : FileKind::CharDev;
  else return errf("fd %d (%s): %s not supported yet", fd, target, S_ISFIFO(st.st_mode) ? "FIFOs are" : "this file type is");
  return ok();
}

Err dump_one(int pid, int fd, FileRec *f) {
  char path[64], target[4096], info[1024];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
  TRY(read_link(path, target, sizeof target));
  struct stat st;
  if (stat(path, &st) < 0) return sys_err("fd %d (%s)", fd, target);
  f->fd = fd;
  TRY(classify(fd, target, st, f));
  snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, fd);
  TRY(read_text(path, info, sizeof info));
  FdInfo fi;
  if (!parse_fdinfo(info, &fi)) return errf("cannot parse %s", path);
  f->flags = fi.flags & ~O_CLOEXEC;
  f->fd_flags = (fi.flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
  f->pos = fi.pos;
  f->dev = st.st_dev; f->ino = st.st_ino; f->size = st.st_size; f->rdev = st.st_rdev; f->mode = st.st_mode;
  f->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  f->path = Str(target);
  return ok();
}

// Open one saved fd's file in the new process, returning the new fd.
Err reopen(const FileRec &f, int tty_fd, int *out) {
  if (f.kind == FileKind::Terminal) {
    if (tty_fd < 0) return errf("fd %d was the terminal %s, and rstrt has no terminal to attach it to", f.fd, f.path.c());
    *out = fcntl(tty_fd, F_DUPFD, 0);
    if (*out < 0) return sys_err("dup of the terminal for fd %d", f.fd);
    return ok();
  }
  int flags = (int)(f.flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)) | O_NOCTTY;
  *out = open(f.path.c(), flags);
  if (*out < 0) return sys_err("cannot reopen fd %d: %s", f.fd, f.path.c());
  if (f.kind == FileKind::Regular || f.kind == FileKind::Directory) {
    if (lseek(*out, (off_t)f.pos, SEEK_SET) < 0) return sys_err("cannot seek fd %d (%s)", f.fd, f.path.c());
  }
  return ok();
}

// Put `fd` at number `want` (the number is free or only held by a stale fd).
Err place(int fd, int want, uint32_t fd_flags) {
  if (fd != want) {
    if (dup2(fd, want) < 0) return sys_err("dup2 to fd %d", want);
    close(fd);
  }
  if (fcntl(want, F_SETFD, (int)fd_flags) < 0) return sys_err("fcntl fd %d", want);
  return ok();
}
}  // namespace

Err dump_files(int pid, Vec<FileRec> *out) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd", pid);
  DIR *d = opendir(path);
  if (!d) return sys_err("%s", path);
  Err e = ok();
  while (struct dirent *de = readdir(d)) {
    uint64_t fd;
    if (!parse_u64(de->d_name, &fd)) continue;
    FileRec f;
    if ((e = dump_one(pid, (int)fd, &f))) break;
    out->push(std::move(f));
  }
  closedir(d);
  return e;
}

int highest_fd(const Vec<FileRec> &files) {
  int m = -1;
  for (auto &f : files) m = f.fd > m ? f.fd : m;
  return m;
}

// Called with every fd closed except tty_fd, which sits above every target fd.
// Opening in ascending fd order means open() can only return a number that is
// not yet a restored target fd, so place() never clobbers one.
Err restore_files_child(const Vec<FileRec> &files, int tty_fd) {
  for (int want = 0; want <= highest_fd(files); want++) {
    for (auto &f : files) {
      if (f.fd != want) continue;
      int fd = -1;
      TRY(reopen(f, tty_fd, &fd));
      TRY(place(fd, want, f.fd_flags));
    }
  }
  return ok();
}
