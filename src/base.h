// Shared basics: the error type, a tiny vector and string, fd helpers.
// Freestanding style: no exceptions, errors are returned values carrying a message.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <new>
#include <utility>

// An error is a message and a kind; an empty message means success.
// `if (Err e = f()) return e;`. The kind travels through wrap() and between
// processes (send_err/recv_err) and decides the exit status (exit_status).
enum class ErrKind : uint8_t {
  None = 0,      // success
  Other,         // any other failure
  BadImage,      // damaged, truncated, not an image, or not for this machine: exit status 2
  NotPermitted,  // the kernel refused (EPERM, EACCES) or a right is missing
  InUse,         // a PID or thread ID that must be recreated is taken
  System,        // a system call failed; Err::errnum says how
  Usage,         // bad command line
  Busy,          // the job is between two states (a connection not yet accepted): try again soon
};
struct Err {
  char msg[256];
  ErrKind kind;
  uint8_t errnum;  // errno of the failed call (sys_err), 0 if none
  explicit operator bool() const { return msg[0] != 0; }
};
Err ok();
Err errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));             // ErrKind::Other
Err errk(ErrKind kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// "bad image: <what>", ErrKind::BadImage.
Err bad_image(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// "<what>: <strerror(errno)>", with errno kept: ErrKind::NotPermitted for EPERM
// and EACCES, ErrKind::System otherwise.
Err sys_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Prefix an existing error with context: "<context>: <e.msg>"; kind and errno stay.
Err wrap(const Err &e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// The same error as another kind (the caller knows better, e.g. EEXIST from
// clone3 with set_tid means ErrKind::InUse).
inline Err with_kind(Err e, ErrKind kind) { if (e) e.kind = kind; return e; }
// The exit status every command gives for an error: 0 for none, 2 for a bad
// image, 1 for anything else.
int exit_status(const Err &e);
// An error handed from a child process to its parent through a pipe, kind and
// all (one atomic write); recv_err is false if the child sent none.
void send_err(int fd, const Err &e);
bool recv_err(int fd, Err *e);

#define TRY(expr)               \
  do {                          \
    Err try_err_ = (expr);      \
    if (try_err_) return try_err_; \
  } while (0)

// Growable array for trivially relocatable element types (malloc/realloc based).
template <typename T> class Vec {
 public:
  Vec() = default;
  Vec(const Vec &) = delete;
  Vec &operator=(const Vec &) = delete;
  Vec(Vec &&o) noexcept { swap(o); }
  Vec &operator=(Vec &&o) noexcept { swap(o); return *this; }
  ~Vec() { clear(); free(d_); }
  void swap(Vec &o) { std::swap(d_, o.d_); std::swap(n_, o.n_); std::swap(cap_, o.cap_); }
  T &push(T v) {
    if (n_ == cap_) grow();
    new (&d_[n_]) T(std::move(v));
    return d_[n_++];
  }
  void clear() { for (size_t i = 0; i < n_; i++) d_[i].~T(); n_ = 0; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  T &operator[](size_t i) { return d_[i]; }
  const T &operator[](size_t i) const { return d_[i]; }
  T *begin() { return d_; }
  T *end() { return d_ + n_; }
  const T *begin() const { return d_; }
  const T *end() const { return d_ + n_; }
  T &back() { return d_[n_ - 1]; }

 private:
  void grow() {
    cap_ = cap_ ? cap_ * 2 : 8;
    T *nd = static_cast<T *>(realloc(static_cast<void *>(d_), cap_ * sizeof(T)));
    if (!nd) abort();
    d_ = nd;
  }
  T *d_ = nullptr;
  size_t n_ = 0, cap_ = 0;
};

// Sort a[0..n) by key(a[i]) ascending: a heap sort, O(n log n) on any input,
// in place, and one small copy per element type where qsort would link all of
// musl's (with its smoothsort) and std::sort a copy per call site.
template <typename T, typename Key> void sort_by_key(T *a, size_t n, Key key) {
  auto sift = [&](size_t root, size_t end) {
    for (size_t child; (child = 2 * root + 1) < end; root = child) {
      if (child + 1 < end && key(a[child]) < key(a[child + 1])) child++;
      if (!(key(a[root]) < key(a[child]))) return;
      std::swap(a[root], a[child]);
    }
  };
  for (size_t i = n / 2; i-- > 0;) sift(i, n);
  for (size_t end = n; end > 1; end--) {
    std::swap(a[0], a[end - 1]);
    sift(0, end - 1);
  }
}

// Owned NUL-terminated string.
class Str {
 public:
  Str() = default;
  explicit Str(const char *s, size_t n) { assign(s, n); }
  explicit Str(const char *s) { assign(s, strlen(s)); }
  Str(const Str &) = delete;
  Str &operator=(const Str &) = delete;
  Str(Str &&o) noexcept { std::swap(p_, o.p_); std::swap(n_, o.n_); }
  Str &operator=(Str &&o) noexcept { std::swap(p_, o.p_); std::swap(n_, o.n_); return *this; }
  ~Str() { free(p_); }
  void assign(const char *s, size_t n);
  const char *c() const { return p_ ? p_ : ""; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  bool operator==(const char *s) const { return strcmp(c(), s) == 0; }

 private:
  char *p_ = nullptr;
  size_t n_ = 0;
};

// Closes on scope exit.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  Fd(Fd &&o) noexcept { std::swap(fd_, o.fd_); }
  Fd &operator=(Fd &&o) noexcept { std::swap(fd_, o.fd_); return *this; }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { int f = fd_; fd_ = -1; return f; }
  void reset(int fd = -1);
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Read/write exactly n bytes, retrying on EINTR and short transfers.
// read_full returns the byte count read (less than n only at end of file) or -1.
long read_full(int fd, void *buf, size_t n);
Err write_full(int fd, const void *buf, size_t n);
// Read a whole (small, procfs) file into out; fails if larger than cap.
Err read_text(const char *path, char *out, size_t cap, size_t *len = nullptr);
// readlink into out, NUL-terminated.
Err read_link(const char *path, char *out, size_t cap);
// Set by a signal handler when a checkpoint must stop (chkpt was interrupted or
// killed: src/periodic.cpp). The dumper checks it between steps and in its page
// loop, and then releases the set untouched.
extern volatile int abort_requested;
Err check_abort();

// Move fd to number `want` (closing fd unless it already is `want`) and set its
// FD_CLOEXEC flag as given.
Err place_fd(int fd, int want, int fd_flags);
// Printf to an fd (stdout/stderr) without stdio buffering surprises.
void outf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Parse a decimal number; false on junk.
bool parse_u64(const char *s, uint64_t *out);
