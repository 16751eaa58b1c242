// Multi-call entry: dispatch on the program name (chkpt, rstrt, migrate, restartd)
// or on the first argument (chkpt rstrt ..., chkpt info ...), busybox style.
#include <string.h>

#include "base.h"
#include "commands.h"

void complain(const char *cmd, const char *msg) { outf(2, "%s: %s\n", cmd, msg); }

int fail(const char *cmd, const Err &e) {
  complain(cmd, e.msg);
  return exit_status(e);
}

int main(int argc, char **argv) {
  const char *name = argc > 0 ? argv[0] : "chkpt";
  const char *slash = strrchr(name, '/');
  if (slash) name = slash + 1;
  if (strcmp(name, "rstrt") == 0) return rstrt_main(argc, argv);
  if (argc > 1 && strcmp(argv[1], "rstrt") == 0) return rstrt_main(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "info") == 0) return info_main(argc - 1, argv + 1);
  if (strcmp(name, "migrate") == 0) return migrate_main(argc, argv);
  if (argc > 1 && strcmp(argv[1], "migrate") == 0) return migrate_main(argc - 1, argv + 1);
  if (strcmp(name, "restartd") == 0) return restartd_main(argc, argv);
  if (argc > 1 && strcmp(argv[1], "restartd") == 0) return restartd_main(argc - 1, argv + 1);
  return chkpt_main(argc, argv);
}
