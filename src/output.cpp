#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "dump.h"

namespace {
// A terminal (a serial line) carries the image in raw mode, as after `stty raw`:
// no byte translated, none taken for a control character.
Err raw_if_tty(int fd, const char *path) {
  struct termios t;
  if (tcgetattr(fd, &t) < 0) return ok();
  cfmakeraw(&t);
  if (tcsetattr(fd, TCSANOW, &t) < 0) return sys_err("cannot set %s to raw mode", path);
  return ok();
}

bool is_stream_type(mode_t m) { return S_ISCHR(m) || S_ISFIFO(m); }

// Open `path`, which must be a FIFO (fifo:) or a character device (dev:), and
// still be one once open (fstat of what was opened, not of the name).
Err open_named_stream(const char *path, bool fifo, int flags, Fd *out) {
  const char *kind = fifo ? "a FIFO" : "a character device";
  struct stat st;
  if (stat(path, &st) < 0) return sys_err("%s:%s", fifo ? "fifo" : "dev", path);
  bool right = fifo ? S_ISFIFO(st.st_mode) : S_ISCHR(st.st_mode);
  if (right) out->reset(::open(path, flags | O_NOCTTY | O_CLOEXEC));
  if (right && !out->ok()) return sys_err("cannot open %s", path);
  if (right && (fstat(out->get(), &st) < 0 || !(fifo ? S_ISFIFO(st.st_mode) : S_ISCHR(st.st_mode)))) right = false;
  if (!right) { out->reset(); return errf("%s:%s is not %s", fifo ? "fifo" : "dev", path, kind); }
  return ok();
}

// "fd:N" (an inherited socket, pipe or serial line), "fifo:PATH", "dev:PATH",
// and for reading (bare_streams) an existing FIFO or character device by its
// path: used in place, no temporary file, no rename. *found is false for
// anything else.
Err open_stream(const char *path, int flags, bool bare_streams, Fd *out, bool *found) {
  uint64_t n;
  struct stat st;
  *found = false;
  if (strncmp(path, "fd:", 3) == 0) {
    if (!parse_u64(path + 3, &n) || n > 0x7fffffff) return errf("bad descriptor '%s' (expected fd:N)", path);
    out->reset(fcntl((int)n, F_DUPFD_CLOEXEC, 0));
    if (!out->ok()) return sys_err("cannot open %s", path);
  } else if (strncmp(path, "fifo:", 5) == 0 || strncmp(path, "dev:", 4) == 0) {
    bool fifo = path[0] == 'f';
    path += fifo ? 5 : 4;
    TRY(open_named_stream(path, fifo, flags, out));
  } else if (bare_streams && stat(path, &st) == 0 && is_stream_type(st.st_mode)) {
    out->reset(::open(path, flags | O_NOCTTY | O_CLOEXEC));
    if (!out->ok()) return sys_err("cannot open %s", path);
  } else {
    return ok();
  }
  *found = true;
  return raw_if_tty(out->get(), path);
}

// Why an existing `name` in dirfd (what path leads to) must not be replaced
// by an image: ok() if it does not exist or is a regular file.
Err refuse_non_regular(int dirfd, const char *name, const char *path) {
  struct stat st;
  if (fstatat(dirfd, name, &st, 0) < 0) return ok();
  if (S_ISREG(st.st_mode)) return ok();
  if (S_ISFIFO(st.st_mode))
    return errf("refusing to write into %s, a FIFO: to stream the image into it, name it fifo:%s", path, path);
  if (S_ISCHR(st.st_mode))
    return errf("refusing to write into %s, a character device: to send the image through it, name it dev:%s", path,
                path);
  if (S_ISDIR(st.st_mode)) return errf("%s is a directory (chkpt --every writes generations into one)", path);
  return errf("refusing to replace %s: not a regular file", path);
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

// Complete generations (temps = false) or temporary files (temps = true) in dirfd.
Err list_names(int dirfd, const char *dir, bool temps, Vec<Str> *out) {
  int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : nullptr;
  if (!d) {
    if (dup_fd >= 0) close(dup_fd);
    return sys_err("cannot read directory %s", dir);
  }
  rewinddir(d);  // the duplicate shares the position of an earlier listing
  while (struct dirent *de = readdir(d)) {
    const char *tail = "";
    uint64_t n = generation_number(de->d_name, temps ? &tail : nullptr);
    if (n != ~0ull && (!temps || !strncmp(tail, ".tmp.", 5))) out->push(Str(de->d_name));
  }
  closedir(d);
  return ok();
}

// Generation n of dirfd, opened for reading: a regular file, not a link.
Err open_generation(int dirfd, const char *path, uint64_t n, Fd *out) {
  char name[64];
  generation_name(n, name, sizeof name);
  out->reset(openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st;
  if (!out->ok() || fstat(out->get(), &st) < 0) return sys_err("cannot open %s", path);
  if (!S_ISREG(st.st_mode)) return errf("%s is not a regular file", path);
  return ok();
}

// The newest generation in the directory dirfd that passes check_image(),
// rewound. Falling back to an older one says so on stderr.
Err open_newest_generation(int dirfd, const char *dir, Fd *out) {
  TRY(check_trusted_dir(dirfd, dir));
  Vec<uint64_t> gens;
  TRY(list_generations(dirfd, dir, &gens));
  if (gens.empty()) return errf("not a chkpt image: %s is a directory without checkpoint generations (NNNNNNNN.img)", dir);
  char newest[4200], name[64];
  generation_name(gens.back(), name, sizeof name);
  snprintf(newest, sizeof newest, "%s/%s", dir, name);
  Err first = ok();
  for (size_t i = gens.size(); i-- > 0;) {
    char path[4200];
    generation_name(gens[i], name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    Err e = open_generation(dirfd, path, gens[i], out);
    if (!e) e = check_image(out->get());
    if (!e && lseek(out->get(), 0, SEEK_SET) < 0) e = sys_err("rewinding %s", path);
    if (!e && first) outf(2, "using %s: the newer %s failed: %s\n", path, newest, first.msg);
    if (!e) return ok();
    if (!first) first = e;
  }
  return wrap(first, "bad image: no generation in %s passes the checks; the newest, %s", dir, newest);
}
}  // namespace

Err Output::open(const char *path, int dirfd) {
  bool stream = false;
  if (dirfd < 0) TRY(open_stream(path, O_WRONLY, false, &fd_, &stream));
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

// The temporary file beside path, in the directory the path names now (or
// dirfd): created with O_EXCL, so nothing planted under its name is followed.
Err Output::open_file(const char *path, int dirfd) {
  if (strlen(path) >= sizeof path_) return errf("output path too long");
  snprintf(path_, sizeof path_, "%s", path);
  const char *slash = strrchr(path, '/');
  const char *name = slash ? slash + 1 : path;
  if (!*name) return errf("%s is a directory (chkpt --every writes generations into one)", path);
  if (strlen(name) + 24 > sizeof name_) return errf("output file name too long: %s", path);
  snprintf(name_, sizeof name_, "%s", name);
  if (dirfd >= 0) {
    dir_.reset(fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  } else {
    char dir[4096] = ".";
    size_t n = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
    if (n) snprintf(dir, sizeof dir, "%.*s", (int)n, path);
    dir_.reset(::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  if (!dir_.ok()) return sys_err("cannot create %s", path);
  TRY(refuse_non_regular(dir_.get(), name_, path));
  snprintf(tmp_, sizeof tmp_, "%s.tmp.%d", name_, (int)getpid());
  // 0600: an image holds the whole memory of a process.
  fd_.reset(openat(dir_.get(), tmp_, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
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
  if (fsync(fd_.get()) < 0) return sys_err("fsync %s.tmp.%d", path_, (int)getpid());
  fd_.reset();
  if (renameat(dir_.get(), tmp_, dir_.get(), name_) < 0) return sys_err("rename %s.tmp.%d to %s", path_, (int)getpid(), path_);
  committed_ = true;
  if (fsync(dir_.get()) < 0) return sys_err("fsync the directory of %s", path_);
  return ok();
}

void Output::abandon() {
  if (committed_ || is_stdout_ || !tmp_[0]) return;
  fd_.reset();
  unlinkat(dir_.get(), tmp_, 0);
  tmp_[0] = 0;
}

Err open_input(const char *path, Fd *out) {
  bool stream;
  TRY(open_stream(path, O_RDONLY, true, out, &stream));
  if (stream) return ok();
  if (strcmp(path, "-") == 0) {
    if (isatty(0)) return errf("refusing to read an image from a terminal (redirect it, or fd:0 for a serial line)");
    out->reset(dup(0));
    if (!out->ok()) return sys_err("standard input");
    return ok();
  }
  out->reset(::open(path, O_RDONLY | O_CLOEXEC));
  if (!out->ok()) return sys_err("cannot open %s", path);
  struct stat st;
  if (fstat(out->get(), &st) == 0 && S_ISDIR(st.st_mode)) {
    Fd dir(out->release());
    return open_newest_generation(dir.get(), path, out);
  }
  return ok();
}

// ---- trusted directories ------------------------------------------------------

Err check_trusted_dir(int dirfd, const char *path) {
  struct stat st;
  if (fstat(dirfd, &st) < 0) return sys_err("%s", path);
  if (!S_ISDIR(st.st_mode)) return errf("%s is not a directory", path);
  if (st.st_uid != geteuid() && st.st_uid != 0)
    return errf("refusing directory %s: it belongs to uid %u, who could plant images in it (use a directory of your own)",
                path, (unsigned)st.st_uid);
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return errf("refusing directory %s: mode %04o lets others plant images in it (chmod go-w, or use a directory of your own)",
                path, (unsigned)(st.st_mode & 07777));
  return ok();
}

Err open_generation_dir(const char *path, bool create, Fd *out) {
  if (create && mkdir(path, 0700) < 0 && errno != EEXIST) return sys_err("cannot create %s", path);
  out->reset(::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!out->ok() && errno == ENOTDIR)
    return errf("%s is not a directory (--every writes generations into a directory)", path);
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
  if (out->size() > 1) qsort(out->begin(), out->size(), sizeof(uint64_t), [](const void *a, const void *b) {
    uint64_t x = *static_cast<const uint64_t *>(a), y = *static_cast<const uint64_t *>(b);
    return x < y ? -1 : x > y;
  });
  return ok();
}

Err list_temp_generations(int dirfd, const char *dir, Vec<Str> *names) { return list_names(dirfd, dir, true, names); }
