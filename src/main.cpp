// Multi-call entry: dispatch on the program name (rstrt, migrate, restartd: the
// links next to chkpt), then on the first argument (chkpt rstrt ..., chkpt
// info ...), busybox style; anything else is chkpt itself.
#include <string.h>

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

int main(int argc, char **argv) {
  const char *name = argc > 0 ? argv[0] : "chkpt";
  const char *slash = strrchr(name, '/');
  if (slash) name = slash + 1;
  for (const Applet &a : kApplets)
    if (a.link && !strcmp(name, a.name)) return a.main(argc, argv);
  for (const Applet &a : kApplets)
    if (argc > 1 && !strcmp(argv[1], a.name)) return a.main(argc - 1, argv + 1);
  return chkpt_main(argc, argv);
}
