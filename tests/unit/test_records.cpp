#include <doctest/doctest.h>

#include <string>
#include <termios.h>

#include "model.h"

TEST_CASE("records: PROCESS round trip and bounds") {
  ProcessRec p, q;
  p.pid = 4242; p.ppid = 1; p.pgid = 4242; p.sid = 100; p.umask = 022; p.uid = 1000; p.gid = 100;
  p.comm = Str("job"); p.cwd = Str("/srv/job"); p.exe = Str("/usr/bin/job");
  p.cmdline = Str("job\0--fast\0", 11);
  uint8_t buf[8192];
  size_t n = encode_process(p, buf, sizeof buf);
  REQUIRE(n > 0);
  REQUIRE(decode_process(buf, n, &q));
  CHECK(q.pid == 4242);
  CHECK(q.umask == 022);
  CHECK(std::string(q.cwd.c()) == "/srv/job");
  CHECK(q.cmdline.size() == 11);
  for (size_t cut = 0; cut < n; cut++) CHECK_FALSE(decode_process(buf, cut, &q));
  CHECK(encode_process(p, buf, 10) == 0);  // does not fit: reported, not overrun
}

namespace {
// A description with the payload its kind would have written.
FdescRec fdesc(FileKind kind, const char *path, const Enc &fields, const char *data, uint32_t n) {
  FdescRec f;
  f.id = 4; f.kind = kind; f.flags = 02001; f.pos = 77; f.path = Str(path);
  REQUIRE_FALSE(set_payload(&f, fields, data, n));
  return f;
}
}  // namespace

TEST_CASE("records: FDESC head round trip; each kind judges its payload") {
  uint8_t buf[8192], fields[64];
  FdescRec f = fdesc(FileKind::Regular, "/tmp/log", Enc(nullptr, 0), nullptr, 0), g;
  f.owner_type = 1; f.owner_pid = 4242; f.owner_sig = 10;
  size_t n = encode_fdesc(f, buf, sizeof buf);
  REQUIRE(decode_fdesc(buf, n, &g));
  CHECK(g.id == 4);
  CHECK(g.pos == 77);
  CHECK(g.flags == 02001);
  CHECK(g.owner_pid == 4242);
  CHECK(g.owner_sig == 10);
  for (size_t cut = 0; cut < n; cut++) CHECK_FALSE(decode_fdesc(buf, cut, &g));
  f.path = Str("tmp/log");  // files are reopened by an absolute path only
  n = encode_fdesc(f, buf, sizeof buf);
  CHECK_FALSE(decode_fdesc(buf, n, &g));
  // a pipe carries its link text and its unread data, which must fit its size
  Enc e(fields, sizeof fields);
  e.u8(0); e.u32(65536);
  f = fdesc(FileKind::Pipe, "pipe:[123]", e, "queued\0bytes", 12);
  n = encode_fdesc(f, buf, sizeof buf);
  REQUIRE(decode_fdesc(buf, n, &g));
  CHECK(g.payload.size() == f.payload.size());
  CHECK(memcmp(g.payload.c(), f.payload.c(), f.payload.size()) == 0);
  buf[4] = 99;  // kind
  CHECK_FALSE(decode_fdesc(buf, n, &g));
  Enc tiny(fields, sizeof fields);
  tiny.u8(0); tiny.u32(0);  // size 0 with data: refilling would block
  f = fdesc(FileKind::Pipe, "pipe:[123]", tiny, "queued", 6);
  n = encode_fdesc(f, buf, sizeof buf);
  CHECK_FALSE(decode_fdesc(buf, n, &g));
  Enc ev(fields, sizeof fields);
  ev.u64(~0ull);  // an eventfd count that cannot be written back
  f = fdesc(FileKind::Eventfd, "anon_inode:[eventfd]", ev, nullptr, 0);
  n = encode_fdesc(f, buf, sizeof buf);
  CHECK_FALSE(decode_fdesc(buf, n, &g));
}

TEST_CASE("records: trailing fields are an error, unless the image is of a newer minor version") {
  FileRec f, g;
  f.fd = 7; f.fd_flags = 1; f.desc = 3;
  uint8_t buf[64];
  size_t n = encode_file(f, buf, sizeof buf);
  buf[n] = 0x5a;  // a field this reader does not know
  CHECK_FALSE(decode_file(buf, n + 1, &g));
  REQUIRE(decode_file(buf, n + 1, &g, true));
  CHECK(g.desc == 3);
  CHECK_FALSE(decode_file(buf, n - 1, &g, true));  // missing fields are an error always
}

TEST_CASE("records: FILE") {
  FileRec f, g;
  f.fd = 7; f.fd_flags = 1; f.desc = 3;
  uint8_t buf[64];
  size_t n = encode_file(f, buf, sizeof buf);
  REQUIRE(decode_file(buf, n, &g));
  CHECK(g.fd == 7);
  CHECK(g.desc == 3);
  f.fd_flags = 2;  // only FD_CLOEXEC exists
  n = encode_file(f, buf, sizeof buf);
  CHECK_FALSE(decode_file(buf, n, &g));
}

namespace {
TreeEntry entry(int pid, int ppid, std::initializer_list<int> tids) {
  TreeEntry e;
  e.pid = pid; e.ppid = ppid; e.pgid = pid; e.sid = 1;
  for (int t : tids) e.tids.push(t);
  return e;
}
}  // namespace

TEST_CASE("records: TREE keeps parents first, threads led by the pid, no duplicates") {
  uint8_t buf[1024];
  Vec<TreeEntry> t, back;
  t.push(entry(100, 1, {100, 101, 102}));
  t.push(entry(200, 100, {200}));
  size_t n = encode_tree(t, buf, sizeof buf);
  REQUIRE(decode_tree(buf, n, &back));
  REQUIRE(back.size() == 2);
  CHECK(back[0].tids.size() == 3);
  CHECK(back[1].ppid == 100);

  Vec<TreeEntry> child_first, out1;
  child_first.push(entry(200, 100, {200}));
  child_first.push(entry(100, 1, {100}));
  n = encode_tree(child_first, buf, sizeof buf);
  CHECK_FALSE(decode_tree(buf, n, &out1));

  Vec<TreeEntry> dup, out2;
  dup.push(entry(100, 1, {100}));
  dup.push(entry(100, 1, {100}));
  n = encode_tree(dup, buf, sizeof buf);
  CHECK_FALSE(decode_tree(buf, n, &out2));

  Vec<TreeEntry> with_zombie, out4;  // a zombie: no threads, its wait status kept
  with_zombie.push(entry(100, 1, {100}));
  with_zombie.push(entry(300, 100, {}));
  with_zombie[1].wait_status = 0x0700;
  n = encode_tree(with_zombie, buf, sizeof buf);
  REQUIRE(decode_tree(buf, n, &out4));
  CHECK(out4[1].zombie());
  CHECK(out4[1].wait_status == 0x0700);
  Vec<TreeEntry> zombie_root, out5;  // a zombie must have its parent in the set
  zombie_root.push(entry(300, 1, {}));
  n = encode_tree(zombie_root, buf, sizeof buf);
  CHECK_FALSE(decode_tree(buf, n, &out5));

  Vec<TreeEntry> bad_tids, out3;
  bad_tids.push(entry(100, 1, {101, 100}));
  n = encode_tree(bad_tids, buf, sizeof buf);
  CHECK_FALSE(decode_tree(buf, n, &out3));
}

TEST_CASE("records: VMA, SIGINFO, MM, SIGACTS, RLIMITS round trip") {
  uint8_t buf[8192];
  VmaRec v, w;
  v.start = 0x400000; v.end = 0x401000; v.prot = 5; v.kind = VmaKind::File; v.name = Str("/bin/x");
  size_t n = encode_vma(v, buf, sizeof buf);
  REQUIRE(decode_vma(buf, n, &w));
  CHECK(w.end == 0x401000);
  CHECK(w.kind == VmaKind::File);
  CHECK_FALSE(w.inherited);
  v.kind = VmaKind::Anon; v.name = Str(""); v.inherited = true;  // 2.1: a trailing u8
  n = encode_vma(v, buf, sizeof buf);
  REQUIRE(decode_vma(buf, n, &w));
  CHECK(w.inherited);
  REQUIRE(decode_vma(buf, n - 1, &w));  // a 2.0 payload: not inherited
  CHECK_FALSE(w.inherited);
  buf[n - 1] = 2;  // neither 0 nor 1
  CHECK_FALSE(decode_vma(buf, n, &w));
  v.inherited = false; v.kind = VmaKind::File; v.name = Str("/bin/x");
  v.end = v.start;  // empty mapping
  n = encode_vma(v, buf, sizeof buf);
  CHECK_FALSE(decode_vma(buf, n, &w));

  SiginfoRec s, t;
  s.tid = 7; s.info[0] = 10;
  n = encode_siginfo(s, buf, sizeof buf);
  REQUIRE(decode_siginfo(buf, n, &t));
  CHECK(siginfo_signo(t) == 10);
  s.info[0] = 65;  // no such signal
  n = encode_siginfo(s, buf, sizeof buf);
  CHECK_FALSE(decode_siginfo(buf, n, &t));

  MmRec m, mm;
  m.brk = 0x1234000; m.auxv_len = 16; m.auxv[3] = 9;
  n = encode_mm(m, buf, sizeof buf);
  REQUIRE(decode_mm(buf, n, &mm));
  CHECK(mm.brk == 0x1234000);
  CHECK(mm.auxv[3] == 9);

  SigactsRec a, b;
  a.act[9].handler = 0xdead; a.act[9].flags = 0x4000000;
  n = encode_sigacts(a, buf, sizeof buf);
  REQUIRE(decode_sigacts(buf, n, &b));
  CHECK(b.act[9].handler == 0xdead);

  RlimitsRec r, q;
  r.cur[7] = 1024; r.max[7] = 4096;
  n = encode_rlimits(r, buf, sizeof buf);
  REQUIRE(decode_rlimits(buf, n, &q));
  CHECK(q.max[7] == 4096);
}

TEST_CASE("records: TREE keeps zombies' names (2.1), reads 2.0 without them") {
  Vec<TreeEntry> t, back, old;
  TreeEntry parent, zombie;
  parent.pid = 100; parent.ppid = 1; parent.pgid = 100; parent.sid = 100;
  parent.tids.push(100);
  zombie.pid = 101; zombie.ppid = 100; zombie.pgid = 100; zombie.sid = 100;
  zombie.wait_status = 3 << 8;
  zombie.comm = Str("worker-3");
  t.push(std::move(parent));
  t.push(std::move(zombie));
  uint8_t buf[512];
  size_t n = encode_tree(t, buf, sizeof buf);
  REQUIRE(n > 0);
  REQUIRE(decode_tree(buf, n, &back));
  CHECK(std::string(back[1].comm.c()) == "worker-3");
  CHECK(back[1].wait_status == (3 << 8));
  size_t without = n - (4 + 8);  // a 2.0 TREE: the same, no names
  REQUIRE(decode_tree(buf, without, &old));
  CHECK(old[1].comm.size() == 0);
  Vec<TreeEntry> cut;
  CHECK_FALSE(decode_tree(buf, without + 2, &cut));  // a name cut short
}

namespace {
// A pty master's payload (src/fd/pty.cpp) with the given in_len, packet flag
// and data.
FdescRec pty_master(const char *path, uint32_t in_len, uint8_t packet, const char *data, uint32_t n) {
  static uint8_t fields[256];
  Enc e(fields, sizeof fields);
  e.u32(3); e.u64(0x18); e.u64(0x8803);
  for (int k = 0; k < 6; k++) e.u32(0);
  e.u8(0);
  uint8_t cc[sizeof(((struct termios *)nullptr)->c_cc)] = {};
  e.blob(cc, sizeof cc);
  for (int k = 0; k < 4; k++) e.u16(80);
  e.u8(packet); e.u8(0); e.u32(0); e.u32(in_len);
  return fdesc(FileKind::PtyMaster, path, e, data, n);
}
}  // namespace

TEST_CASE("records: a pty master's queues must fit its data; unix socket options are known bits") {
  uint8_t buf[8192];
  FdescRec g;
  FdescRec f = pty_master("/dev/ptmx", 2, 1, "inout", 5);
  CHECK(decode_fdesc(buf, encode_fdesc(f, buf, sizeof buf), &g));
  f = pty_master("/dev/ptmx", 6, 1, "inout", 5);  // more input than data
  CHECK_FALSE(decode_fdesc(buf, encode_fdesc(f, buf, sizeof buf), &g));
  f = pty_master("/dev/ptmx", 2, 2, "inout", 5);  // packet mode is 0 or 1
  CHECK_FALSE(decode_fdesc(buf, encode_fdesc(f, buf, sizeof buf), &g));
  f = pty_master("/etc/shadow", 2, 1, "inout", 5);  // reopened by a ptmx path only
  CHECK_FALSE(decode_fdesc(buf, encode_fdesc(f, buf, sizeof buf), &g));
  uint8_t fields[256];
  // options stand behind the queue; a 2.0 payload, which ends with the queue, has none
  uint8_t tail_buf[8];
  for (uint32_t opts : {1u, 8u, 0xffffffffu}) {
    Enc e(fields, sizeof fields);
    e.u32(1); e.u64(0); e.u32(0); e.u32(0); e.u8(0); e.u32(0); e.blob(nullptr, 0);
    e.u8(0); e.u32(0); e.u32(0); e.u32(0); e.u64(0);
    Enc tail(tail_buf, sizeof tail_buf);
    if (opts != 0xffffffffu) tail.u32(opts);
    f.payload = Str();
    REQUIRE_FALSE(set_payload(&f, e, "ab", 2, &tail));
    f.kind = FileKind::UnixSocket; f.path = Str("socket:[9]");
    CHECK(decode_fdesc(buf, encode_fdesc(f, buf, sizeof buf), &g) == (opts != 8));
  }
  Enc e(fields, sizeof fields);  // a stray byte behind the options: bad
  e.u32(1); e.u64(0); e.u32(0); e.u32(0); e.u8(0); e.u32(0); e.blob(nullptr, 0);
  e.u8(0); e.u32(0); e.u32(0); e.u32(0); e.u64(0);
  Enc tail(tail_buf, sizeof tail_buf);
  tail.u32(1); tail.u8(0);
  REQUIRE_FALSE(set_payload(&f, e, "ab", 2, &tail));
  CHECK_FALSE(decode_fdesc(buf, encode_fdesc(f, buf, sizeof buf), &g));
}

TEST_CASE("records: inotify watches in increasing wd order, known mask bits, absolute paths") {
  uint8_t buf[8192], fields[256];
  FdescRec g;
  struct W { uint32_t wd, mask; const char *path; };
  auto make = [&](std::initializer_list<W> ws) {
    Enc e(fields, sizeof fields);
    e.u32((uint32_t)ws.size());
    for (const W &w : ws) { e.u32(w.wd); e.u32(w.mask); e.u64(7); e.blob(w.path, (uint32_t)strlen(w.path)); }
    return fdesc(FileKind::Inotify, "anon_inode:inotify", e, nullptr, 0);
  };
  FdescRec f = make({{1, 0x100, "/tmp/a"}, {4, 0x2, "/tmp/b"}});
  CHECK(decode_fdesc(buf, encode_fdesc(f, buf, sizeof buf), &g));
  f = make({{4, 0x100, "/tmp/a"}, {1, 0x2, "/tmp/b"}});  // out of order
  CHECK_FALSE(decode_fdesc(buf, encode_fdesc(f, buf, sizeof buf), &g));
  f = make({{1, 0x20000000, "/tmp/a"}});  // IN_MASK_CREATE is no watch's state
  CHECK_FALSE(decode_fdesc(buf, encode_fdesc(f, buf, sizeof buf), &g));
  f = make({{1, 0x100, "tmp/a"}});  // relative
  CHECK_FALSE(decode_fdesc(buf, encode_fdesc(f, buf, sizeof buf), &g));
}

TEST_CASE("records: a pty slave must name a pty master of the set") {
  SetImage set;
  uint8_t fields[8];
  Enc e(fields, sizeof fields);
  e.u32(1);  // description 1
  set.fdescs.push(fdesc(FileKind::PtySlave, "/dev/pts/3", e, nullptr, 0));
  const FdKind *slave = fd_kind(FileKind::PtySlave);
  REQUIRE(slave);
  bool has_check = slave->valid_in_set != nullptr;
  REQUIRE(has_check);
  CHECK(slave->valid_in_set(set, 0).kind == ErrKind::BadImage);  // no description 1
  set.fdescs.push(fdesc(FileKind::Regular, "/tmp/x", Enc(nullptr, 0), nullptr, 0));
  CHECK(slave->valid_in_set(set, 0).kind == ErrKind::BadImage);  // not a master
  set.fdescs[1] = pty_master("/dev/ptmx", 0, 0, nullptr, 0);
  CHECK_FALSE(slave->valid_in_set(set, 0));
  // 2.2: a trailing u8 says /dev/tty was opened on the slave (0 or 1)
  for (int via = 0; via < 3; via++) {
    uint8_t t[1];
    Enc tail(t, sizeof t);
    tail.u8((uint8_t)via);
    set_payload(&set.fdescs[0], e, nullptr, 0, &tail);
    CHECK(slave->valid(set.fdescs[0]) == (via <= 1));
  }
}

// An epoll's payload: count, per target (tfd, events, data, ino), empty blob,
// then (2.2) count again and each target's description.
static std::string epoll_payload(uint32_t count_again, const uint32_t *descs, uint32_t n) {
  uint8_t b[256];
  Enc e(b, sizeof b);
  e.u32(n);
  for (uint32_t i = 0; i < n; i++) { e.u32(9); e.u32(1); e.u64(i); e.u64(100 + i); }
  e.u32(0);  // empty blob
  if (descs) { e.u32(count_again); for (uint32_t i = 0; i < n; i++) e.u32(descs[i]); }
  return std::string(reinterpret_cast<char *>(b), e.len());
}

TEST_CASE("records: epoll targets name descriptions of the set (2.2); 2.1 payloads without them read") {
  const FdKind *ep = fd_kind(FileKind::Epoll);
  REQUIRE(ep);
  bool hooks = ep->valid_in_set && ep->highest_fd;
  REQUIRE(hooks);
  SetImage set;
  set.fdescs.push(fdesc(FileKind::Regular, "/tmp/x", Enc(nullptr, 0), nullptr, 0));
  FdescRec e;
  e.kind = FileKind::Epoll;
  e.path = Str("anon_inode:[eventpoll]");
  std::string p = epoll_payload(0, nullptr, 2);  // 2.1
  e.payload = Str(p.data(), p.size());
  set.fdescs.push(std::move(e));
  CHECK(ep->valid(set.fdescs[1]));
  CHECK_FALSE(ep->valid_in_set(set, 1));
  CHECK(ep->highest_fd(set.fdescs[1]) == 9);
  uint32_t good[2] = {0, 0}, self[2] = {0, 1}, past[2] = {0, 7};
  p = epoll_payload(2, good, 2);
  set.fdescs[1].payload = Str(p.data(), p.size());
  CHECK(ep->valid(set.fdescs[1]));
  CHECK_FALSE(ep->valid_in_set(set, 1));
  p = epoll_payload(3, good, 2);  // the second count disagrees
  set.fdescs[1].payload = Str(p.data(), p.size());
  CHECK_FALSE(ep->valid(set.fdescs[1]));
  p = epoll_payload(2, self, 2);  // an epoll watching itself
  set.fdescs[1].payload = Str(p.data(), p.size());
  CHECK(ep->valid_in_set(set, 1).kind == ErrKind::BadImage);
  p = epoll_payload(2, past, 2);  // no description 7
  set.fdescs[1].payload = Str(p.data(), p.size());
  CHECK(ep->valid_in_set(set, 1).kind == ErrKind::BadImage);
}

TEST_CASE("locks: fdinfo's lock lines, once per description; leases refused") {
  const char *info =
      "pos:\t0\nflags:\t02\nmnt_id:\t27\nino:\t5\n"
      "lock:\t1: POSIX  ADVISORY  WRITE 27609 fe:00:10953789 5 14\n"
      "lock:\t2: POSIX  ADVISORY  READ 27609 fe:00:10953789 50 EOF\n"
      "lock:\t3: OFDLCK ADVISORY  READ -1 fe:00:10953791 0 EOF\n"
      "lock:\t4: FLOCK  ADVISORY  WRITE 27609 fe:00:10953790 0 EOF\n";
  Vec<LockRec> locks;
  REQUIRE_FALSE(dump_fd_locks(7, 3, 1, info, &locks));
  REQUIRE(locks.size() == 4);
  CHECK(locks[0].kind == LockRec::kPosix);
  CHECK(locks[0].write == 1);
  CHECK(locks[0].start == 5);
  CHECK(locks[0].len == 10);
  CHECK(locks[1].len == 0);  // to EOF
  CHECK(locks[2].kind == LockRec::kOfd);
  CHECK(locks[3].kind == LockRec::kFlock);
  CHECK_FALSE(dump_fd_locks(7, 4, 1, info, &locks));  // another fd of description 1: nothing new
  CHECK(locks.size() == 4);
  Vec<LockRec> more;
  Err e = dump_fd_locks(7, 5, 2, "lock:\t1: LEASE  ACTIVE    READ 27609 fe:00:1 0 EOF\n", &more);
  CHECK(e.kind != ErrKind::None);
  CHECK(std::string(e.msg).find("process 7 fd 5") != std::string::npos);
  CHECK(dump_fd_locks(7, 5, 2, "lock:\t1: POSIX  ADVISORY  WRITE 1 fe:00:1 9 3\n", &more).kind != ErrKind::None);
}

TEST_CASE("locks: LOCK records round trip; hostile ranges and kinds refused") {
  uint8_t buf[64];
  LockRec l, m;
  l.fd = 3; l.kind = LockRec::kPosix; l.write = 1; l.start = 100; l.len = 50;
  size_t n = encode_lock(l, buf, sizeof buf);
  REQUIRE(decode_lock(buf, n, &m));
  CHECK(m.fd == 3);
  CHECK(m.start == 100);
  CHECK(m.len == 50);
  for (size_t cut = 0; cut < n; cut++) CHECK_FALSE(decode_lock(buf, cut, &m));
  l.start = 0x7fffffffffffff00ull; l.len = 0x1000;  // past OFFSET_MAX
  n = encode_lock(l, buf, sizeof buf);
  CHECK_FALSE(decode_lock(buf, n, &m));
  l.start = 0; l.len = 0; l.kind = 9;
  n = encode_lock(l, buf, sizeof buf);
  CHECK_FALSE(decode_lock(buf, n, &m));
  l.kind = LockRec::kFlock; l.len = 5;  // a flock has no range
  n = encode_lock(l, buf, sizeof buf);
  CHECK_FALSE(decode_lock(buf, n, &m));
  ProcImage img;
  img.attrs.locks.push(l);
  FileRec f; f.fd = 4;
  img.files.push(f);
  CHECK(check_locks_image(img, 1).kind == ErrKind::BadImage);  // fd 3 is not open
}

TEST_CASE("records: a memfd's contents inline (2.1) or streamed after it (2.2)") {
  const FdKind *k = fd_kind(FileKind::Memfd);
  REQUIRE(k);
  bool hooks = k->streams && k->stage;
  REQUIRE(hooks);
  auto memfd = [](uint64_t size, const char *data, uint32_t n, int streamed) {
    uint8_t fields[16], t[1];
    Enc e(fields, sizeof fields), tail(t, sizeof t);
    e.u64(size); e.u32(0);
    if (streamed >= 0) tail.u8((uint8_t)streamed);
    FdescRec f;
    f.kind = FileKind::Memfd;
    f.path = Str("/memfd:x (deleted)");
    set_payload(&f, e, data, n, streamed >= 0 ? &tail : nullptr);
    return f;
  };
  uint64_t size;
  FdescRec f = memfd(4, "abcd", 4, -1);  // 2.1: inline, no flag
  CHECK(k->valid(f));
  CHECK_FALSE(k->streams(f, &size));
  f = memfd(1ull << 40, nullptr, 0, 1);  // 1 TiB, streamed
  CHECK(k->valid(f));
  REQUIRE(k->streams(f, &size));
  CHECK(size == 1ull << 40);
  f = memfd(16u << 20, nullptr, 0, -1);  // inline over 8 MiB
  CHECK_FALSE(k->valid(f));
  f = memfd(8, "abcd", 4, 1);  // streamed with inline data too
  CHECK_FALSE(k->valid(f));
  f = memfd(8, nullptr, 0, 2);
  CHECK_FALSE(k->valid(f));
}

TEST_CASE("records: fanotify marks: known mark flags, absolute paths") {
  const FdKind *k = fd_kind(FileKind::Fanotify);
  REQUIRE(k);
  auto group = [](uint32_t mflags, const char *path) {
    uint8_t b[256];
    Enc e(b, sizeof b);
    e.u32(0); e.u32(0); e.u32(1);  // init flags, event flags, one mark
    e.u32(mflags); e.u32(2); e.u32(0); e.u64(77); e.u32((uint32_t)strlen(path));
    e.bytes(path, strlen(path));
    FdescRec f;
    f.kind = FileKind::Fanotify;
    set_payload(&f, e, nullptr, 0);
    return f;
  };
  CHECK(k->valid(group(0x40, "/tmp/a")));   // FAN_MARK_IGNORED_SURV_MODIFY
  CHECK_FALSE(k->valid(group(0x1, "/tmp/a")));  // FAN_MARK_ADD is not a saved flag
  CHECK_FALSE(k->valid(group(0, "tmp/a")));
  CHECK_FALSE(k->valid(group(0, "")));
}
