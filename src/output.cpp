#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
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

// "fd:N" (an inherited socket, pipe or serial line), or an existing FIFO or
// character device: used in place, no temporary file, no rename. *found is
// false for anything else.
Err open_stream(const char *path, int flags, Fd *out, bool *found) {
  uint64_t n;
  struct stat st;
  *found = false;
  if (strncmp(path, "fd:", 3) == 0) {
    if (!parse_u64(path + 3, &n) || n > 0x7fffffff) return errf("bad descriptor '%s' (expected fd:N)", path);
    out->reset(fcntl((int)n, F_DUPFD_CLOEXEC, 0));
  } else if (stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
    out->reset(::open(path, flags | O_NOCTTY | O_CLOEXEC));
  } else {
    return ok();
  }
  if (!out->ok()) return sys_err("cannot open %s", path);
  *found = true;
  return raw_if_tty(out->get(), path);
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

// Complete generations (temps = false) or temporary files (temps = true) in dir.
Err list_names(const char *dir, bool temps, Vec<Str> *out) {
  DIR *d = opendir(dir);
  if (!d) return sys_err("cannot read directory %s", dir);
  while (struct dirent *de = readdir(d)) {
    const char *tail = "";
    uint64_t n = generation_number(de->d_name, temps ? &tail : nullptr);
    if (n != ~0ull && (!temps || !strncmp(tail, ".tmp.", 5))) out->push(Str(de->d_name));
  }
  closedir(d);
  return ok();
}

// The newest generation in dir that passes check_image(), rewound. Falling
// back to an older one says so on stderr.
Err open_newest_generation(const char *dir, Fd *out) {
  Vec<uint64_t> gens;
  TRY(list_generations(dir, &gens));
  if (gens.empty()) return errk(ErrKind::BadImage, "not a chkpt image: %s is a directory without checkpoint generations (NNNNNNNN.img)", dir);
  char newest[4200];
  generation_path(dir, gens.back(), newest, sizeof newest);
  Err first = ok();
  for (size_t i = gens.size(); i-- > 0;) {
    char path[4200];
    generation_path(dir, gens[i], path, sizeof path);
    out->reset(::open(path, O_RDONLY | O_CLOEXEC));
    Err e = out->ok() ? check_image(out->get()) : sys_err("cannot open %s", path);
    if (!e && lseek(out->get(), 0, SEEK_SET) < 0) e = sys_err("rewinding %s", path);
    if (!e && first) outf(2, "using %s: the newer %s failed: %s\n", path, newest, first.msg);
    if (!e) return ok();
    if (!first) first = e;
  }
  return with_kind(wrap(first, "bad image: no generation in %s passes the checks; the newest, %s", dir, newest), ErrKind::BadImage);
}
}  // namespace

Err Output::open(const char *path) {
  bool stream;
  TRY(open_stream(path, O_WRONLY, &fd_, &stream));
  if (stream) { is_stdout_ = true; return ok(); }
  if (strcmp(path, "-") == 0) {
    if (isatty(1)) return errf("refusing to write an image to a terminal (redirect it, or -o fd:1 for a serial line)");
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
  if (is_stdout_) {  // a serial line: wait until the last byte has gone out
    if (isatty(fd_.get()) && tcdrain(fd_.get()) < 0) return sys_err("draining the output line");
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
  bool stream;
  TRY(open_stream(path, O_RDONLY, out, &stream));
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
  if (fstat(out->get(), &st) == 0 && S_ISDIR(st.st_mode)) return open_newest_generation(path, out);
  return ok();
}

// ---- generations (chkpt --every) ------------------------------------------------

void generation_path(const char *dir, uint64_t n, char *out, size_t cap) {
  snprintf(out, cap, "%s/%0*llu.img", dir, kGenDigits, (unsigned long long)n);
}

Err list_generations(const char *dir, Vec<uint64_t> *out) {
  Vec<Str> names;
  TRY(list_names(dir, false, &names));
  for (auto &n : names) out->push(generation_number(n.c(), nullptr));
  if (out->size() > 1) qsort(out->begin(), out->size(), sizeof(uint64_t), [](const void *a, const void *b) {
    uint64_t x = *static_cast<const uint64_t *>(a), y = *static_cast<const uint64_t *>(b);
    return x < y ? -1 : x > y;
  });
  return ok();
}

Err list_temp_generations(const char *dir, Vec<Str> *names) { return list_names(dir, true, names); }
