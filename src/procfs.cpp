#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

namespace {
bool parse_hex(const char *&s, uint64_t *out) {
  uint64_t v = 0;
  const char *start = s;
  for (;; s++) {
    int d;
    if (*s >= '0' && *s <= '9') d = *s - '0';
    else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
    else if (*s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
    else break;
    if (v >> 60) return false;
    v = v << 4 | d;
  }
  *out = v;
  return s != start;
}
bool parse_dec(const char *&s, uint64_t *out) {
  uint64_t v = 0;
  const char *start = s;
  for (; *s >= '0' && *s <= '9'; s++) v = v * 10 + (*s - '0');
  *out = v;
  return s != start;
}
bool expect(const char *&s, char c) { return *s == c ? (s++, true) : false; }
void skip_spaces(const char *&s) { while (*s == ' ' || *s == '\t') s++; }
}  // namespace

bool is_maps_header(const char *line) {
  const char *s = line;
  uint64_t v;
  return parse_hex(s, &v) && *s == '-';
}

bool parse_maps_line(char *line, MapsLine *m) {
  const char *s = line;
  uint64_t maj, min;
  if (!parse_hex(s, &m->start) || !expect(s, '-') || !parse_hex(s, &m->end) || !expect(s, ' ')) return false;
  if (strlen(s) < 5 || s[4] != ' ') return false;
  m->r = s[0] == 'r';
  m->w = s[1] == 'w';
  m->x = s[2] == 'x';
  m->shared = s[3] == 's';
  s += 5;
  if (!parse_hex(s, &m->offset) || !expect(s, ' ')) return false;
  if (!parse_hex(s, &maj) || !expect(s, ':') || !parse_hex(s, &min) || !expect(s, ' ')) return false;
  if (!parse_dec(s, &m->inode)) return false;
  m->dev_major = (uint32_t)maj;
  m->dev_minor = (uint32_t)min;
  skip_spaces(s);
  m->path = s;
  return m->end > m->start;
}

uint32_t parse_vmflags(const char *v) {
  static const struct { char name[3]; uint32_t bit; } table[] = {
      {"gd", kVmGrowsDown}, {"dc", kVmDontCopy}, {"dd", kVmDontDump}, {"wf", kVmWipeOnFork},
      {"hg", kVmHugePage},  {"nh", kVmNoHugePage}, {"mw", kVmMayWrite}, {"lo", kVmLocked},
      {"io", kVmIo},        {"pf", kVmIo},         {"ac", kVmAccount}, {"lf", kVmLockOnFault},
      {"sr", kVmSeqRead},   {"rr", kVmRandRead},   {"mg", kVmMergeable}, {"dp", kVmDroppable},
      {"um", kVmUnsaved},   {"uw", kVmUnsaved},    {"ui", kVmUnsaved}, {"ss", kVmUnsaved},
      {"mt", kVmUnsaved},   {"sl", kVmUnsaved}};
  uint32_t flags = 0;
  for (const char *s = v; *s;) {
    skip_spaces(s);
    if (!s[0] || !s[1]) break;
    for (auto &t : table)
      if (s[0] == t.name[0] && s[1] == t.name[1] && (s[2] == ' ' || s[2] == 0)) flags |= t.bit;
    while (*s && *s != ' ') s++;
  }
  return flags;
}

bool status_field(const char *text, const char *key, char *out, size_t cap) {
  size_t klen = strlen(key);
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
      const char *v = line + klen + 1;
      skip_spaces(v);
      size_t n = nl ? (size_t)(nl - v) : strlen(v);
      while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
      if (n >= cap) return false;
      memcpy(out, v, n);
      out[n] = 0;
      return true;
    }
    line = nl ? nl + 1 : nullptr;
  }
  return false;
}

bool status_u64(const char *text, const char *key, uint64_t *out) {
  char v[64];
  if (!status_field(text, key, v, sizeof v)) return false;
  const char *s = v;
  return parse_dec(s, out) && *s == 0;
}

bool stat_state(const char *text, char *state) {
  const char *s = strrchr(text, ')');
  if (!s || s[1] != ' ' || !s[2]) return false;
  *state = s[2];
  return true;
}

bool stat_field(const char *text, int n, uint64_t *out) {
  const char *s = strrchr(text, ')');
  if (!s || n < 3) return false;
  s++;  // now at " state ..." which is field 3
  for (int f = 3; f <= n; f++) {
    skip_spaces(s);
    if (!*s || *s == '\n') return false;
    if (f == n) {
      bool neg = *s == '-';
      if (neg) s++;
      uint64_t v;
      if (!parse_dec(s, &v)) return false;
      *out = neg ? (uint64_t)-(int64_t)v : v;
      return true;
    }
    while (*s && *s != ' ') s++;
  }
  return false;
}

bool parse_fdinfo(const char *text, FdInfo *out) {
  char v[64];
  if (!status_field(text, "pos", v, sizeof v)) return false;
  const char *s = v;
  if (!parse_dec(s, &out->pos)) return false;
  if (!status_field(text, "flags", v, sizeof v)) return false;
  uint64_t fl = 0;
  for (s = v; *s >= '0' && *s <= '7'; s++) fl = fl * 8 + (*s - '0');
  if (s == v) return false;
  out->flags = (uint32_t)fl;
  if (status_field(text, "mnt_id", v, sizeof v)) { s = v; parse_dec(s, &out->mnt_id); }
  return true;
}

Err open_proc(int pid, const char *name, Fd *out) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
  out->reset(open(path, O_RDONLY | O_CLOEXEC));
  return out->ok() ? ok() : sys_err("%s", path);
}

char *LineReader::next() {
  for (;;) {
    char *start = buf_ + at_;
    char *nl = static_cast<char *>(memchr(start, '\n', have_ - at_));
    if (nl) {
      *nl = 0;
      at_ = nl - buf_ + 1;
      return start;
    }
    if (eof_) {
      if (at_ == have_) return nullptr;
      buf_[have_] = 0;  // last line without newline
      at_ = have_;
      return start;
    }
    memmove(buf_, start, have_ - at_);
    have_ -= at_;
    at_ = 0;
    if (have_ == sizeof buf_ - 1) { err_ = true; return nullptr; }  // line longer than the buffer
    ssize_t r = read(fd_, buf_ + have_, sizeof buf_ - 1 - have_);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { err_ = true; return nullptr; }
    if (r == 0) eof_ = true;
    have_ += r;
  }
}

Err read_whole(const char *path, Str *out) {
  Fd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return sys_err("%s", path);
  size_t cap = 4096, n = 0;
  char *buf = static_cast<char *>(malloc(cap));
  while (buf) {
    long r = read_full(fd.get(), buf + n, cap - n);
    if (r < 0) { free(buf); return sys_err("%s", path); }
    n += (size_t)r;
    if (n < cap) break;
    char *bigger = static_cast<char *>(realloc(buf, cap * 2));
    if (!bigger) free(buf);
    buf = bigger;
    cap *= 2;
  }
  if (!buf) return errf("out of memory");
  *out = Str(buf, n);
  free(buf);
  return ok();
}

uint64_t resident_bytes(int pid) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  if (read_text(path, buf, sizeof buf)) return 0;
  char v[64];  // "1234 kB"; no sscanf: it would pull all of musl's scanf in
  uint64_t kib = 0;
  if (!status_field(buf, "VmRSS", v, sizeof v)) return 0;
  for (const char *s = v; *s >= '0' && *s <= '9'; s++) kib = kib * 10 + (uint64_t)(*s - '0');
  return kib * 1024;
}

bool process_alive(int pid) {
  char path[64], stat[1024], state;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  return !read_text(path, stat, sizeof stat) && stat_state(stat, &state) && state != 'Z' && state != 'X';
}
