#include <doctest/doctest.h>

#include <string>

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

TEST_CASE("records: FILE rejects relative paths and unknown kinds") {
  FileRec f, g;
  f.fd = 3; f.kind = FileKind::Regular; f.flags = 02001; f.pos = 77; f.path = Str("/tmp/log");
  uint8_t buf[8192];
  size_t n = encode_file(f, buf, sizeof buf);
  REQUIRE(decode_file(buf, n, &g));
  CHECK(g.pos == 77);
  CHECK(g.flags == 02001);
  f.path = Str("tmp/log");
  n = encode_file(f, buf, sizeof buf);
  CHECK_FALSE(decode_file(buf, n, &g));
  f.path = Str("/tmp/log");
  n = encode_file(f, buf, sizeof buf);
  buf[4] = 99;  // kind
  CHECK_FALSE(decode_file(buf, n, &g));
}

TEST_CASE("records: VMA, SIGINFO, MM, SIGACTS, RLIMITS round trip") {
  uint8_t buf[8192];
  VmaRec v, w;
  v.start = 0x400000; v.end = 0x401000; v.prot = 5; v.kind = VmaKind::File; v.name = Str("/bin/x");
  size_t n = encode_vma(v, buf, sizeof buf);
  REQUIRE(decode_vma(buf, n, &w));
  CHECK(w.end == 0x401000);
  CHECK(w.kind == VmaKind::File);
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
