#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {
// The directory part of path ("." when there is none), for the directory fsync.
void dir_of(const char *path, char *out, size_t cap) {
  const char *slash = strrchr(path, '/');
  if (!slash) { snprintf(out, cap, "."); return; }
  size_t n = slash == path ? 1 : (size_t)(slash - path);
  snprintf(out, cap, "%.*s", (int)n, path);
}
}  // namespace

Err Output::open(const char *path) {
  if (strcmp(path, "-") == 0) {
    is_stdout_ = true;
    fd_.reset(dup(1));
    if (!fd_.ok()) return sys_err("standard output");
    return ok();
  }
  if (strlen(path) >= sizeof path_) return errf("output path too long");
  snprintf(path_, sizeof path_, "%s", path);
  snprintf(tmp_, sizeof tmp_, "%s.tmp.%d", path, (int)getpid());
  // 0600: an image holds the whole memory of a process.
  fd_.reset(::open(tmp_, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd_.ok()) {
    tmp_[0] = 0;
    return sys_err("cannot create %s", path);
  }
  return ok();
}

Err Output::commit() {
  if (is_stdout_) {
    committed_ = true;
    return ok();
  }
  if (fsync(fd_.get()) < 0) return sys_err("fsync %s", tmp_);
  fd_.reset();
  if (rename(tmp_, path_) < 0) return sys_err("rename %s to %s", tmp_, path_);
  committed_ = true;
  char dir[4096];
  dir_of(path_, dir, sizeof dir);
  Fd d(::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.ok() || fsync(d.get()) < 0) return sys_err("fsync directory %s", dir);
  return ok();
}

void Output::abandon() {
  if (committed_ || is_stdout_ || !tmp_[0]) return;
  fd_.reset();
  unlink(tmp_);
  tmp_[0] = 0;
}

Err open_input(const char *path, Fd *out) {
  if (strcmp(path, "-") == 0) {
    out->reset(dup(0));
    if (!out->ok()) return sys_err("standard input");
    return ok();
  }
  out->reset(::open(path, O_RDONLY | O_CLOEXEC));
  if (!out->ok()) return sys_err("cannot open %s", path);
  struct stat st;
  if (fstat(out->get(), &st) == 0 && S_ISDIR(st.st_mode)) return errf("%s is a directory, not an image", path);
  return ok();
}
