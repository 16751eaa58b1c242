#include <doctest/doctest.h>

#include <string>

#include "model.h"
#include "pathmap.h"

namespace {
// One process with a cwd, an exe, a mapped file and an anonymous mapping,
// and one open-file description at fd_path; all mapped with maps.
std::string mapped(const char *fd_path, std::initializer_list<const char *> args, SetImage *set) {
  Vec<PathMap> maps;
  for (const char *a : args) {
    PathMap m;
    REQUIRE(!parse_map_path(a, &m));
    maps.push(m);
  }
  FdescRec f;
  f.path = Str(fd_path, strlen(fd_path));
  set->fdescs.push(std::move(f));
  REQUIRE(!map_set_paths(maps, set));
  return set->fdescs[0].path.c();
}
}  // namespace

TEST_CASE("pathmap: OLD itself and below OLD/, not OLD as a prefix of a name") {
  SetImage s1, s2, s3, s4;
  CHECK(mapped("/srv/job/data", {"/srv/job=/new"}, &s1) == "/new/data");
  CHECK(mapped("/srv/job", {"/srv/job/=/new/"}, &s2) == "/new");
  CHECK(mapped("/srv/jobs/data", {"/srv/job=/new"}, &s3) == "/srv/jobs/data");
  CHECK(mapped("pipe:[12]", {"/srv/job=/new"}, &s4) == "pipe:[12]");
}

TEST_CASE("pathmap: the longest OLD wins; NEW may be /; memfds are not paths") {
  SetImage s1, s2, s3;
  CHECK(mapped("/a/b/c", {"/a=/x", "/a/b=/y"}, &s1) == "/y/c");
  CHECK(mapped("/a/b", {"/a/b=/"}, &s2) == "/");
  CHECK(mapped("/memfd:a (deleted)", {"/memfd:a=/x"}, &s3) == "/memfd:a (deleted)");
}

TEST_CASE("pathmap: cwd, exe and file mappings of every process") {
  SetImage s;
  ProcImage img;
  img.proc.cwd = Str("/old/w", 6);
  img.proc.exe = Str("/old/bin/job", 12);
  VmaRec file, heap;
  file.kind = VmaKind::File;
  file.name = Str("/old/lib.so", 11);
  heap.name = Str("[heap]", 6);
  img.vmas.push(std::move(file));
  img.vmas.push(std::move(heap));
  s.procs.push(std::move(img));
  mapped("/elsewhere", {"/old=/new"}, &s);
  CHECK(std::string(s.procs[0].proc.cwd.c()) == "/new/w");
  CHECK(std::string(s.procs[0].proc.exe.c()) == "/new/bin/job");
  CHECK(std::string(s.procs[0].vmas[0].name.c()) == "/new/lib.so");
  CHECK(std::string(s.procs[0].vmas[1].name.c()) == "[heap]");
}

TEST_CASE("pathmap: bad arguments") {
  PathMap m;
  CHECK(parse_map_path("/a", &m));
  CHECK(parse_map_path("a=/b", &m));
  CHECK(parse_map_path("/a=b", &m));
  CHECK(parse_map_path("/=/b", &m));
  CHECK(parse_map_path("//=/b", &m));
}

TEST_CASE("pathmap: a result longer than PATH_MAX is refused") {
  SetImage s;
  std::string longer = "/" + std::string(4090, 'n');
  std::string arg = "/o=" + longer;
  Vec<PathMap> maps;
  PathMap m;
  REQUIRE(!parse_map_path(arg.c_str(), &m));
  maps.push(m);
  FdescRec f;
  f.path = Str("/o/abcdefgh", 11);
  s.fdescs.push(std::move(f));
  CHECK(map_set_paths(maps, &s));
}

TEST_CASE("pathmap: --root DIR puts every path under DIR; any --map-path overrides it") {
  PathMap root, dev;
  REQUIRE(!parse_root("/mnt/root/", &root));
  REQUIRE(!parse_map_path("/dev=/dev", &dev));
  Vec<PathMap> maps;
  maps.push(root);
  maps.push(dev);
  Str a("/srv/job/data"), b("/dev/null"), c("pipe:[3]"), d("/");
  REQUIRE(!map_path(maps, &a));
  REQUIRE(!map_path(maps, &b));
  REQUIRE(!map_path(maps, &c));
  REQUIRE(!map_path(maps, &d));
  CHECK(std::string(a.c()) == "/mnt/root/srv/job/data");
  CHECK(std::string(b.c()) == "/dev/null");
  CHECK(std::string(c.c()) == "pipe:[3]");
  CHECK(std::string(d.c()) == "/mnt/root/");
  PathMap bad;
  CHECK(parse_root("rel", &bad).kind == ErrKind::Usage);
  CHECK(parse_root("/", &bad).kind == ErrKind::Usage);
}
