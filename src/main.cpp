// Multi-call entry: dispatch on the program name (rstrt, migrate, restartd: the
// links next to chkpt), then on the first argument (chkpt rstrt ..., chkpt
// info ...), busybox style; anything else is chkpt itself.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base.h"
#include "commands.h"

namespace {
struct Applet {
  const char *name;
  int (*main)(int argc, char **argv);
  bool link;  // also runs as a link of that name (installed next to chkpt)
  const char *what;
};
constexpr Applet kApplets[] = {
    {"info", info_main, false, "what an image holds, every checksum verified"},
    {"rstrt", rstrt_main, true, "restart the processes of an image"},
    {"migrate", migrate_main, true, "move running processes to another machine"},
    {"restartd", restartd_main, true, "receive migrated processes and restart them"},
    {"serve", serve_main, false, "save jobs before power-off (/dev/crd), or now"},
};
}  // namespace

void complain(const char *cmd, const char *msg) { outf(2, "%s: %s\n", cmd, msg); }

int fail(const char *cmd, const Err &e) {
  complain(cmd, e.msg);
  return exit_status(e);
}

void print_commands(int fd) {
  for (const Applet &a : kApplets) outf(fd, "  %-9s %s\n", a.name, a.what);
}

namespace {
// chkpt --install DIR: the applet links DIR/rstrt, DIR/migrate, DIR/restartd,
// symbolic links to this binary (by its absolute path, /proc/self/exe), for a
// device without make. A link already there that points at this binary is
// left as it is; anything else under those names is refused, not replaced.
int install_links(const char *dir) {
  char self[4096], path[4200], was[4096];
  Err e = read_link("/proc/self/exe", self, sizeof self);
  for (const Applet &a : kApplets) {
    if (e) break;
    if (!a.link) continue;
    snprintf(path, sizeof path, "%s/%s", dir, a.name);
    if (symlink(self, path) == 0) continue;
    int err = errno;
    if (err == EEXIST && !read_link(path, was, sizeof was) && !strcmp(was, self)) continue;
    errno = err;
    e = sys_err("cannot create %s -> %s", path, self);
  }
  return e ? fail("chkpt --install", e) : 0;
}
}  // namespace

int main(int argc, char **argv) {
  const char *name = argc > 0 ? argv[0] : "chkpt";
  const char *slash = strrchr(name, '/');
  if (slash) name = slash + 1;
  if (argc == 3 && strcmp(argv[1], "--install") == 0) return install_links(argv[2]);
  for (const Applet &a : kApplets)
    if (a.link && !strcmp(name, a.name)) return a.main(argc, argv);
  for (const Applet &a : kApplets)
    if (argc > 1 && !strcmp(argv[1], a.name)) return a.main(argc - 1, argv + 1);
  return chkpt_main(argc, argv);
}
