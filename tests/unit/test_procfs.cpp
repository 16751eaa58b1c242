#include <doctest/doctest.h>

#include <string>

#include "procfs.h"

TEST_CASE("procfs: maps lines, captured from a 6.18 kernel") {
  char l1[] = "564345ccf000-564345cd4000 r-xp 00002000 fe:00 247134                     /usr/bin/cat";
  MapsLine m;
  REQUIRE(parse_maps_line(l1, &m));
  CHECK(m.start == 0x564345ccf000ull);
  CHECK(m.end == 0x564345cd4000ull);
  CHECK(m.r);
  CHECK_FALSE(m.w);
  CHECK(m.x);
  CHECK_FALSE(m.shared);
  CHECK(m.offset == 0x2000);
  CHECK(m.dev_major == 0xfe);
  CHECK(m.inode == 247134);
  CHECK(std::string(m.path) == "/usr/bin/cat");

  char l2[] = "7f62fa232000-7f62fa234000 r--p 00000000 00:00 0                          [vvar_vclock]";
  REQUIRE(parse_maps_line(l2, &m));
  CHECK(std::string(m.path) == "[vvar_vclock]");
  char l3[] = "7f0000000000-7f0000001000 rw-s 00000000 00:01 1234                       /dev/zero (deleted)";
  REQUIRE(parse_maps_line(l3, &m));
  CHECK(m.shared);
  CHECK(std::string(m.path) == "/dev/zero (deleted)");
  char l4[] = "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 ";
  REQUIRE(parse_maps_line(l4, &m));
  CHECK(std::string(m.path).empty());
  char bad[] = "zzzz-7f0000001000 rw-p 00000000 00:00 0";
  CHECK_FALSE(parse_maps_line(bad, &m));
  char empty_range[] = "7f0000001000-7f0000001000 rw-p 00000000 00:00 0";
  CHECK_FALSE(parse_maps_line(empty_range, &m));
}

TEST_CASE("procfs: smaps header lines versus field lines") {
  CHECK(is_maps_header("7fffc3a7e000-7fffc3a9f000 rw-p 00000000 00:00 0   [stack]"));
  CHECK_FALSE(is_maps_header("AnonHugePages:         0 kB"));
  CHECK_FALSE(is_maps_header("VmFlags: rd wr mr mw me gd ac"));
  CHECK_FALSE(is_maps_header("Size:                132 kB"));
}

TEST_CASE("procfs: VmFlags") {
  uint32_t f = parse_vmflags(" rd wr mr mw me gd ac");
  CHECK((f & kVmGrowsDown));
  CHECK((f & kVmMayWrite));
  CHECK((f & kVmAccount));
  CHECK_FALSE((f & kVmDontDump));
  CHECK((parse_vmflags("rd io pf dd") & (kVmIo | kVmDontDump)) == (kVmIo | kVmDontDump));
  CHECK(parse_vmflags("") == 0);
  CHECK(parse_vmflags("gdx ac") == kVmAccount);  // unknown tokens ignored
}

TEST_CASE("procfs: status fields") {
  const char *status =
      "Name:\tcat\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4742\nNgid:\t0\nPid:\t4742\nPPid:\t4738\n"
      "TracerPid:\t0\nUid:\t0\t0\t0\t0\nThreads:\t1\n";
  char v[64];
  REQUIRE(status_field(status, "Umask", v, sizeof v));
  CHECK(std::string(v) == "0022");
  uint64_t n;
  REQUIRE(status_u64(status, "PPid", &n));
  CHECK(n == 4738);
  REQUIRE(status_u64(status, "Threads", &n));
  CHECK(n == 1);
  CHECK_FALSE(status_u64(status, "Pid:", &n));
  CHECK_FALSE(status_field(status, "Tgi", v, sizeof v));  // prefixes do not match
  CHECK_FALSE(status_u64(status, "Uid", &n));             // several numbers: not one u64
}

TEST_CASE("procfs: stat fields after a comm holding spaces and parentheses") {
  const char *stat = "4742 (a) b (c) S 4738 4738 1169 34816 4738 4194560 97 0 0 0 0 0 0 0 20 0 1 0 1234 1089536 "
                     "2 18446744073709551615 4194304 4202557 140722105155584 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 "
                     "4210688 4211264 4214784 140722105159000 140722105159020 140722105159020 140722105159660 0\n";
  char st;
  REQUIRE(stat_state(stat, &st));
  CHECK(st == 'S');
  uint64_t v;
  REQUIRE(stat_field(stat, 4, &v));
  CHECK(v == 4738);
  REQUIRE(stat_field(stat, 26, &v));
  CHECK(v == 4194304);
  REQUIRE(stat_field(stat, 47, &v));
  CHECK(v == 4214784);
  REQUIRE(stat_field(stat, 52, &v));
  CHECK(v == 0);
  CHECK_FALSE(stat_field(stat, 53, &v));
}

TEST_CASE("procfs: fdinfo") {
  FdInfo fi;
  REQUIRE(parse_fdinfo("pos:\t1234\nflags:\t02102001\nmnt_id:\t25\nino:\t99\n", &fi));
  CHECK(fi.pos == 1234);
  CHECK(fi.flags == 02102001);
  CHECK(fi.mnt_id == 25);
  CHECK_FALSE(parse_fdinfo("flags:\t02\n", &fi));
}
