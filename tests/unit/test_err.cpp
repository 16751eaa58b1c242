// Err: the kind of an error survives wrapping and crossing a pipe, and decides
// the exit status every command gives (2 for a bad image, 1 otherwise).
#include <doctest/doctest.h>

#include <errno.h>
#include <string.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "base.h"
#include "image.h"

TEST_CASE("err: kinds of the constructors") {
  CHECK(ok().kind == ErrKind::None);
  CHECK(exit_status(ok()) == 0);
  CHECK(errf("x %d", 1).kind == ErrKind::Other);
  Err b = bad_image("record %s: %s", "VMA", "malformed");
  CHECK(b.kind == ErrKind::BadImage);
  CHECK(strcmp(b.msg, "bad image: record VMA: malformed") == 0);
  CHECK(errk(ErrKind::InUse, "PID %d is in use", 7).kind == ErrKind::InUse);
  errno = EPERM;
  Err p = sys_err("ptrace %d", 5);
  CHECK(p.kind == ErrKind::NotPermitted);
  CHECK(p.errnum == EPERM);
  CHECK(strcmp(p.msg, (std::string("ptrace 5: ") + strerror(EPERM)).c_str()) == 0);
  errno = EACCES;
  CHECK(sys_err("open").kind == ErrKind::NotPermitted);
  errno = ENOSPC;
  Err s = sys_err("write");
  CHECK(s.kind == ErrKind::System);
  CHECK(s.errnum == ENOSPC);
}

TEST_CASE("err: wrap keeps the kind and errno, with_kind changes it") {
  Err w = wrap(wrap(bad_image("checksum mismatch"), "reading %s", "x.img"), "restoring");
  CHECK(w.kind == ErrKind::BadImage);
  CHECK(strcmp(w.msg, "restoring: reading x.img: bad image: checksum mismatch") == 0);
  CHECK(exit_status(w) == 2);
  errno = EEXIST;
  Err e = wrap(sys_err("clone3"), "process 42");
  CHECK(e.kind == ErrKind::System);
  CHECK(e.errnum == EEXIST);
  Err u = with_kind(e, ErrKind::InUse);
  CHECK(u.kind == ErrKind::InUse);
  CHECK(strcmp(u.msg, e.msg) == 0);
  CHECK(!with_kind(ok(), ErrKind::Other));  // success stays success
}

TEST_CASE("err: exit status from the kind, not the message") {
  CHECK(exit_status(bad_image("x")) == 2);
  CHECK(exit_status(errk(ErrKind::BadImage, "not a chkpt image: bad magic")) == 2);
  CHECK(exit_status(errf("bad image: only the words")) == 1);  // an Other error that merely says so
  for (ErrKind k : {ErrKind::Other, ErrKind::NotPermitted, ErrKind::InUse, ErrKind::System, ErrKind::Usage})
    CHECK(exit_status(errk(k, "x")) == 1);
}

TEST_CASE("err: the image reader's refusals are bad images") {
  int p[2];
  REQUIRE(pipe(p) == 0);
  REQUIRE(write(p[1], "XRF\0\1\0\0\0", 8) == 8);
  close(p[1]);
  ImageReader r(p[0]);
  Err e = r.preamble();
  close(p[0]);
  CHECK(e.kind == ErrKind::BadImage);
  CHECK(exit_status(wrap(e, "fd:3")) == 2);
}

TEST_CASE("err: send_err/recv_err carry the kind to the parent") {
  int p[2];
  REQUIRE(pipe(p) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    send_err(p[1], wrap(errk(ErrKind::InUse, "PID %d is in use", 300), "process %d", 1));
    _exit(1);
  }
  close(p[1]);
  Err e;
  CHECK(recv_err(p[0], &e));
  waitpid(pid, nullptr, 0);
  CHECK(e.kind == ErrKind::InUse);
  CHECK(strcmp(e.msg, "process 1: PID 300 is in use") == 0);
  CHECK(!recv_err(p[0], &e));  // nothing more: the child sent one
  close(p[0]);
}

TEST_CASE("sort_by_key: ascending by key, every element kept") {
  for (size_t n : {0u, 1u, 2u, 3u, 7u, 64u, 1000u}) {
    Vec<uint64_t> v;
    uint64_t x = 12345;
    for (size_t i = 0; i < n; i++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      v.push(x >> 54);  // small range: many equal keys
    }
    uint64_t sum = 0;
    for (uint64_t e : v) sum += e;
    sort_by_key(v.begin(), v.size(), [](uint64_t e) { return e; });
    uint64_t after = 0;
    for (size_t i = 0; i < v.size(); i++) {
      after += v[i];
      if (i) CHECK(v[i - 1] <= v[i]);
    }
    CHECK(after == sum);
  }
}
