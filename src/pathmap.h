// rstrt --map-path OLD=NEW: the image's paths translated before anything is
// opened, so the job's files may live elsewhere at restore.
#pragma once
#include "base.h"

struct SetImage;

struct PathMap {
  // Into the argument: from_len bytes of from, to_len of to (absolute,
  // without trailing slashes; to_len is 0 for /).
  const char *from = "", *to = "";
  size_t from_len = 0, to_len = 0;
};
// OLD=NEW, both absolute paths.
Err parse_map_path(const char *arg, PathMap *out);
// rstrt --root DIR: "/" to DIR, an absolute path other than /.
Err parse_root(const char *dir, PathMap *out);
// Every path the restore opens (open and mapped files, working directories,
// executables, unix sockets' names) that is OLD or below OLD/ is taken from
// NEW instead; the most specific OLD wins. rstrt --root DIR is OLD "/" (from_len
// 0), the least specific: every path P is DIR/P. Checked like any path: the files are still opened with
// the rights of the user whose process it is.
Err map_set_paths(const Vec<PathMap> &maps, SetImage *set);
// One path, in place (unchanged if no OLD covers it or it is no file's path).
Err map_path(const Vec<PathMap> &maps, Str *path);
