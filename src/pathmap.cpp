// rstrt --map-path: one translation for every path of the image, made on the
// image model after it is read and checked and before the first open, so
// every place that opens a path (src/fd/*.cpp, memory.cpp, restore.cpp,
// process.cpp) opens the translated one with the same rights checks.
#include "pathmap.h"

#include "model.h"
#include "options.h"

namespace {
constexpr size_t kPathMax = 4096;  // PATH_MAX, with its NUL (records.cpp bounds saved paths so)

size_t trimmed_len(const char *s, size_t n) {
  while (n > 0 && s[n - 1] == '/') n--;
  return n;
}

// The longest OLD that path is, or is below; nullptr if none.
const PathMap *match(const Vec<PathMap> &maps, const char *path) {
  const PathMap *best = nullptr;
  for (const PathMap &m : maps) {
    if (strncmp(path, m.from, m.from_len) || (path[m.from_len] && path[m.from_len] != '/')) continue;
    if (!best || m.from_len > best->from_len) best = &m;
  }
  return best;
}

}  // namespace

Err map_path(const Vec<PathMap> &maps, Str *path) {
  const char *p = path->c();
  // "pipe:[1]", "[heap]", "/memfd:NAME (deleted)": not paths of files
  const PathMap *m = p[0] == '/' && strncmp(p, "/memfd:", 7) ? match(maps, p) : nullptr;
  if (!m) return ok();
  const char *rest = p + m->from_len;
  size_t n = m->to_len + strlen(rest);
  if (n + 1 > kPathMax) return errf("--map-path: %s would become longer than PATH_MAX", p);
  char out[kPathMax];
  snprintf(out, sizeof out, "%.*s%s", (int)m->to_len, m->to, rest);
  if (!out[0]) snprintf(out, sizeof out, "/");
  path->assign(out, strlen(out));
  return ok();
}

Err parse_map_path(const char *arg, PathMap *out) {
  const char *eq = strchr(arg, '=');
  if (!eq || arg[0] != '/' || eq[1] != '/') return usage_err("bad --map-path '%s': give OLD=NEW, both absolute paths", arg);
  out->from = arg;
  out->to = eq + 1;
  out->from_len = trimmed_len(arg, (size_t)(eq - arg));
  out->to_len = trimmed_len(out->to, strlen(out->to));
  if (out->from_len == 0) return usage_err("bad --map-path '%s': OLD cannot be /", arg);
  return ok();
}

Err parse_root(const char *dir, PathMap *out) {
  if (dir[0] != '/') return usage_err("bad --root '%s': give an absolute path", dir);
  out->from = "";
  out->from_len = 0;
  out->to = dir;
  out->to_len = trimmed_len(dir, strlen(dir));
  if (out->to_len == 0) return usage_err("--root /: the paths are what they are without it");
  return ok();
}

Err map_set_paths(const Vec<PathMap> &maps, SetImage *set) {
  if (maps.empty()) return ok();
  for (FdescRec &f : set->fdescs) {
    TRY(map_path(maps, &f.path));
    const FdKind *kind = fd_kind(f.kind);
    if (kind && kind->map_paths) TRY(kind->map_paths(&f, maps));
  }
  for (ProcImage &img : set->procs) {
    TRY(map_path(maps, &img.proc.cwd));
    TRY(map_path(maps, &img.proc.exe));
    for (VmaRec &v : img.vmas)
      if (v.kind == VmaKind::File) TRY(map_path(maps, &v.name));
  }
  return ok();
}
