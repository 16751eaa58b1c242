// Multi-call entry: dispatch on the program name (chkpt, rstrt, migrate, restartd)
// or on the first argument (chkpt rstrt ..., chkpt info ...), busybox style.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base.h"
#include "commands.h"

void complain(const char *cmd, const char *msg) { outf(2, "%s: %s\n", cmd, msg); }

namespace {
// chkpt --install DIR: the applet links DIR/rstrt, DIR/migrate, DIR/restartd,
// symbolic links to this binary (by its absolute path, /proc/self/exe), for a
// device without make. A link already there that points at this binary is
// left as it is; anything else under those names is refused, not replaced.
int install_links(const char *dir) {
  static const char *const kApplets[] = {"rstrt", "migrate", "restartd"};
  char self[4096], path[4200], was[4096];
  Err e = read_link("/proc/self/exe", self, sizeof self);
  for (const char *a : kApplets) {
    if (e) break;
    snprintf(path, sizeof path, "%s/%s", dir, a);
    if (symlink(self, path) == 0) continue;
    int err = errno;
    if (err == EEXIST && !read_link(path, was, sizeof was) && !strcmp(was, self)) continue;
    errno = err;
    e = sys_err("cannot create %s -> %s", path, self);
  }
  if (e) complain("chkpt --install", e.msg);
  return e ? 1 : 0;
}
}  // namespace

int main(int argc, char **argv) {
  const char *name = argc > 0 ? argv[0] : "chkpt";
  const char *slash = strrchr(name, '/');
  if (slash) name = slash + 1;
  if (argc == 3 && strcmp(argv[1], "--install") == 0) return install_links(argv[2]);
  if (strcmp(name, "rstrt") == 0) return rstrt_main(argc, argv);
  if (argc > 1 && strcmp(argv[1], "rstrt") == 0) return rstrt_main(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "info") == 0) return info_main(argc - 1, argv + 1);
  if (strcmp(name, "migrate") == 0) return migrate_main(argc, argv);
  if (argc > 1 && strcmp(argv[1], "migrate") == 0) return migrate_main(argc - 1, argv + 1);
  if (strcmp(name, "restartd") == 0) return restartd_main(argc, argv);
  if (argc > 1 && strcmp(argv[1], "restartd") == 0) return restartd_main(argc - 1, argv + 1);
  return chkpt_main(argc, argv);
}
