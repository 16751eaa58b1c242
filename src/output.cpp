#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "dump.h"
#include "restore.h"

namespace {
// The directory part of path ("." when there is none), for the directory fsync.
void dir_of(const char *path, char *out, size_t cap) {
  const char *slash = strrchr(path, '/');
  if (!slash) { snprintf(out, cap, "."); return; }
  size_t n = slash == path ? 1 : (size_t)(slash - path);
  snprintf(out, cap, "%.*s", (int)n, path);
}

// A terminal (a serial line) carries the image in raw mode, as after `stty raw`:
// no byte translated, none taken for a control character.
Err raw_if_tty(int fd, const char *path) {
  struct termios t;
  if (tcgetattr(fd, &t) < 0) return ok();
  cfmakeraw(&t);
  if (tcsetattr(fd, TCSANOW, &t) < 0) return sys_err("cannot set %s to raw mode", path);
  return ok();
}

// "fd:N" (an inherited socket, pipe or serial line), "fifo:PATH" and
// "dev:PATH": used in place, no temporary file, no rename. fifo: and dev: must
// be what they say once open. *found is false for anything else.
Err open_stream(const char *path, int flags, Fd *out, bool *found) {
  uint64_t n;
  mode_t want = 0;
  *found = false;
  if (!strncmp(path, "fd:", 3)) {
    if (!parse_u64(path + 3, &n) || n > 0x7fffffff) return errf("bad descriptor '%s' (expected fd:N)", path);
    out->reset(fcntl((int)n, F_DUPFD_CLOEXEC, 0));
  } else if (!strncmp(path, "fifo:", 5) || !strncmp(path, "dev:", 4)) {
    want = path[0] == 'f' ? S_IFIFO : S_IFCHR;
    path = strchr(path, ':') + 1;
  } else {
    return ok();
  }
  // fifo:/dev: are checked before the open (which may block, or act on a
  // device) and again on what was opened.
  struct stat st;
  for (int opened = 0; opened < 2; opened++) {
    if (opened && want) out->reset(::open(path, flags | O_NOCTTY | O_CLOEXEC));
    if (opened ? !out->ok() || fstat(out->get(), &st) < 0 : want && stat(path, &st) < 0)
      return sys_err("cannot open %s", path);
    if (want && (st.st_mode & S_IFMT) != want)
      return errf("%s is not a %s", path, want == S_IFIFO ? "FIFO" : "character device");
  }
  *found = true;
  return raw_if_tty(out->get(), path);
}

// An existing `name` in dirfd (what path leads to) that is not a regular file
// is not replaced by an image, nor written into.
Err refuse_non_regular(int dirfd, const char *name, const char *path) {
  struct stat st;
  if (fstatat(dirfd, name, &st, 0) < 0 || S_ISREG(st.st_mode)) return ok();
  return errf("refusing to write into %s: not a regular file (name a FIFO fifo:%s, a device dev:%s)", path, path, path);
}

constexpr int kGenDigits = 8;

// "00000042.img" -> 42; with `tail`, also "00000042.img.tmp.123" (tail points at
// ".tmp.123"). ~0 if the name is neither.
uint64_t generation_number(const char *name, const char **tail) {
  uint64_t n = 0;
  const char *p = name;
  for (; *p >= '0' && *p <= '9' && n < (1ull << 60); p++) n = n * 10 + (uint64_t)(*p - '0');
  if (p - name < kGenDigits || strncmp(p, ".img", 4) != 0) return ~0ull;
  if (tail) *tail = p + 4;
  return (tail || !p[4]) ? n : ~0ull;
}

// Complete generations (temps = false) or temporary files (temps = true) in
// dirfd, read from that descriptor (getdents64(2): no DIR stream to set up).
Err list_names(int dirfd, const char *dir, bool temps, Vec<Str> *out) {
  alignas(8) char buf[4096];
  long n;
  lseek(dirfd, 0, SEEK_SET);
  while ((n = syscall(SYS_getdents64, dirfd, buf, sizeof buf)) > 0)
    for (long off = 0; off < n; off += reinterpret_cast<struct dirent64 *>(buf + off)->d_reclen) {
      const char *name = reinterpret_cast<struct dirent64 *>(buf + off)->d_name, *tail = "";
      uint64_t g = generation_number(name, temps ? &tail : nullptr);
      if (g != ~0ull && (!temps || !strncmp(tail, ".tmp.", 5))) out->push(Str(name));
    }
  if (n < 0) return sys_err("cannot read directory %s", dir);
  return ok();
}

// "DIR/NNNNNNNN.img" into path; returns the name's part of it.
const char *generation_path(const char *dir, uint64_t n, char (&path)[4200]) {
  int off = snprintf(path, sizeof path, "%s/", dir);
  generation_name(n, path + off, sizeof path - off);
  return path + off;
}

// The newest generation in the directory dirfd that passes check_image(),
// rewound. Falling back to an older one says so on stderr. Each is opened
// without following a link, and must be a regular file.
Err open_newest_generation(int dirfd, const char *dir, Fd *out) {
  TRY(check_trusted_dir(dirfd, dir));
  Vec<uint64_t> gens;
  TRY(list_generations(dirfd, dir, &gens));
  if (gens.empty()) return errk(ErrKind::BadImage, "not a chkpt image: %s is a directory without checkpoint generations (NNNNNNNN.img)", dir);
  char newest[4200], path[4200];
  generation_path(dir, gens.back(), newest);
  Err first = ok();
  for (size_t i = gens.size(); i-- > 0;) {
    out->reset(openat(dirfd, generation_path(dir, gens[i], path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st;
    Err e = !out->ok() || fstat(out->get(), &st) < 0 ? sys_err("cannot open %s", path)
            : !S_ISREG(st.st_mode)                  ? errf("%s is not a regular file", path)
                                                    : check_image(out->get());
    if (!e && lseek(out->get(), 0, SEEK_SET) < 0) e = sys_err("rewinding %s", path);
    if (!e && first) outf(2, "using %s: the newer %s failed: %s\n", path, newest, first.msg);
    if (!e) return ok();
    if (!first) first = e;
  }
  return with_kind(wrap(first, "bad image: no generation in %s passes the checks; the newest, %s", dir, newest), ErrKind::BadImage);
}
}  // namespace

Err Output::open(const char *path, int dirfd) {
  bool stream = false;
  if (dirfd < 0) TRY(open_stream(path, O_WRONLY, &fd_, &stream));
  if (stream) { is_stdout_ = true; return ok(); }
  if (dirfd < 0 && strcmp(path, "-") == 0) {
    if (isatty(1)) return errf("refusing to write an image to a terminal (redirect it, or -o fd:1 for a serial line)");
    is_stdout_ = true;
    fd_.reset(dup(1));
    if (!fd_.ok()) return sys_err("standard output");
    return ok();
  }
  return open_file(path, dirfd);
}

// The temporary file beside path (in dirfd: its last component there),
// created with O_EXCL, so nothing planted under its name is followed.
Err Output::open_file(const char *path, int dirfd) {
  const char *name = dirfd >= 0 ? strrchr(path, '/') + 1 : path;
  if (strlen(path) >= sizeof path_) return errf("output path too long");
  snprintf(path_, sizeof path_, "%s", path);
  snprintf(name_, sizeof name_, "%s", name);
  dir_.reset(dirfd >= 0 ? fcntl(dirfd, F_DUPFD_CLOEXEC, 0) : -1);
  TRY(refuse_non_regular(at(), name_, path));
  snprintf(tmp_, sizeof tmp_, "%s.tmp.%d", name_, (int)getpid());
  // 0600: an image holds the whole memory of a process.
  fd_.reset(openat(at(), tmp_, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd_.ok()) {
    tmp_[0] = 0;
    return sys_err("cannot create %s", path);
  }
  return ok();
}

Err Output::commit() {
  if (is_stdout_) {  // a serial line: wait until the last byte has gone out
    if (isatty(fd_.get()) && tcdrain(fd_.get()) < 0) return sys_err("draining the output line");
    committed_ = true;
    return ok();
  }
  if (fsync(fd_.get()) < 0) return sys_err("fsync %s", tmp_);
  fd_.reset();
  if (renameat(at(), tmp_, at(), name_) < 0) return sys_err("rename %s to %s", tmp_, path_);
  committed_ = true;
  char dir[4096];
  dir_of(path_, dir, sizeof dir);
  Fd d(dir_.ok() ? -1 : ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fsync(dir_.ok() ? dir_.get() : d.get()) < 0) return sys_err("fsync directory %s", dir);
  return ok();
}

void Output::abandon() {
  if (committed_ || is_stdout_ || !tmp_[0]) return;
  fd_.reset();
  unlinkat(at(), tmp_, 0);
  tmp_[0] = 0;
}

Err open_input(const char *path, Fd *out) {
  bool stream;
  TRY(open_stream(path, O_RDONLY, out, &stream));
  if (stream) return ok();
  if (strcmp(path, "-") == 0) {
    if (isatty(0)) return errf("refusing to read an image from a terminal (redirect it, or fd:0 for a serial line)");
    out->reset(dup(0));
    if (!out->ok()) return sys_err("standard input");
    return ok();
  }
  // A FIFO or a character device by its plain path is read in place too.
  out->reset(::open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC));
  struct stat st;
  if (!out->ok() || fstat(out->get(), &st) < 0) return sys_err("cannot open %s", path);
  if (S_ISDIR(st.st_mode)) {
    Fd dir(out->release());
    return open_newest_generation(dir.get(), path, out);
  }
  return raw_if_tty(out->get(), path);
}

// ---- trusted directories ------------------------------------------------------

Err check_trusted_dir(int dirfd, const char *path) {
  struct stat st;
  if (fstat(dirfd, &st) < 0) return sys_err("%s", path);
  if (!S_ISDIR(st.st_mode)) return errf("%s is not a directory", path);
  if ((st.st_uid == geteuid() || st.st_uid == 0) && !(st.st_mode & (S_IWGRP | S_IWOTH))) return ok();
  return errf("refusing directory %s (uid %u, mode %04o): others could plant images in it", path, (unsigned)st.st_uid,
              (unsigned)(st.st_mode & 07777));
}

Err open_generation_dir(const char *path, bool create, Fd *out) {
  if (create && mkdir(path, 0700) < 0 && errno != EEXIST) return sys_err("cannot create %s", path);
  out->reset(::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!out->ok()) return sys_err("cannot open %s", path);
  return check_trusted_dir(out->get(), path);
}

// ---- generations (chkpt --every) ------------------------------------------------

void generation_name(uint64_t n, char *out, size_t cap) {
  snprintf(out, cap, "%0*llu.img", kGenDigits, (unsigned long long)n);
}

Err list_generations(int dirfd, const char *dir, Vec<uint64_t> *out) {
  Vec<Str> names;
  TRY(list_names(dirfd, dir, false, &names));
  for (auto &n : names) out->push(generation_number(n.c(), nullptr));
  sort_by_key(out->begin(), out->size(), [](uint64_t g) { return g; });
  return ok();
}

Err list_temp_generations(int dirfd, const char *dir, Vec<Str> *names) { return list_names(dirfd, dir, true, names); }
