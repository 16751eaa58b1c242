// The option parser every command uses (src/options.cpp): values, flags,
// positional arguments, and the same words for every mistake.
#include <doctest/doctest.h>

#include <string.h>

#include "options.h"

namespace {
struct Parsed {
  const char *out = nullptr, *image = nullptr, *extra = nullptr;
  int scope = 0, detach = 0;
  bool help = false;
  Err e;
};

Parsed parse(std::initializer_list<const char *> words) {
  static char *argv[16];
  int argc = 0;
  argv[argc++] = const_cast<char *>("cmd");
  for (const char *w : words) argv[argc++] = const_cast<char *>(w);
  Parsed p;
  const Option opts[] = {opt_value("-o", &p.out), opt_flag("--tree", &p.scope, 1), opt_flag("--single", &p.scope, 2),
                         opt_flag("-d", &p.detach)};
  const Positional args[] = {{"image", &p.image, true}, {"extra", &p.extra, false}};
  p.e = parse_cmdline(argc, argv, opts, args, &p.help);
  return p;
}
}  // namespace

TEST_CASE("options: values, flags and arguments in any order") {
  Parsed p = parse({"x.img", "--single", "-o", "out", "-d", "--tree"});
  REQUIRE(!p.e);
  CHECK(strcmp(p.image, "x.img") == 0);
  CHECK(strcmp(p.out, "out") == 0);
  CHECK(p.scope == 1);  // the last one given
  CHECK(p.detach == 1);
  CHECK(p.extra == nullptr);
  p = parse({"--", "-o", "-"});
  REQUIRE(!p.e);
  CHECK(strcmp(p.image, "-o") == 0);
  CHECK(strcmp(p.extra, "-") == 0);
  p = parse({"--bogus", "--help"});
  CHECK(strcmp(p.e.msg, "unknown option --bogus (see --help)") == 0);
  p = parse({"-h", "--bogus"});
  CHECK(p.help);
  CHECK(!p.e);
}

TEST_CASE("options: the same words for every mistake, of kind Usage") {
  CHECK(strcmp(parse({"x", "--nope"}).e.msg, "unknown option --nope (see --help)") == 0);
  CHECK(strcmp(parse({"x", "-o"}).e.msg, "-o needs a value (see --help)") == 0);
  CHECK(strcmp(parse({"-d"}).e.msg, "no image given (see --help)") == 0);
  CHECK(strcmp(parse({"a", "b", "c"}).e.msg, "unexpected argument 'c' (see --help)") == 0);
  CHECK(parse({"x", "-o"}).e.kind == ErrKind::Usage);
  CHECK(exit_status(parse({"x", "-o"}).e) == 1);
  uint64_t n = 0;
  CHECK(!parse_number("--keep", "12", 1, 100, &n));
  CHECK(n == 12);
  Err e = parse_number("--keep", "0", 1, 100, &n);
  CHECK(strcmp(e.msg, "bad --keep '0': give a number from 1 to 100 (see --help)") == 0);
  CHECK(parse_number("PID", "12x", 1, 100, &n));
}
