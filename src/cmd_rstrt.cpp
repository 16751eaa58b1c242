// rstrt: restart a process from an image.
static const char kHelp[] =
    "usage: rstrt [-d] IMAGE|-\n"
    "\n"
    "Recreate the process saved in IMAGE (- reads the image from stdin, which may\n"
    "be a pipe) with its original PID, and resume it where it was frozen.\n"
    "Open terminals are attached to rstrt's terminal.\n"
    "\n"
    "  -d         detach: print the restored PID and exit at once\n"
    "  -h, --help this text\n"
    "\n"
    "Without -d, rstrt waits for the restored process and exits with its exit\n"
    "status (128+N if signal N killed it). If the image is bad or the PID is taken,\n"
    "rstrt prints one line, exits 1 (2 for a bad image), and starts nothing.\n";

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "base.h"
#include "commands.h"
#include "dump.h"
#include "output.h"

namespace {
int wait_for(int pid) {
  // Like a shell waiting for its job: the terminal's ^C is for the job.
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  int st;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) { complain("rstrt", "lost the restored process"); return 1; }
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
}  // namespace

int rstrt_main(int argc, char **argv) {
  RestoreOptions opt;
  const char *path = nullptr;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) { outf(1, "%s", kHelp); return 0; }
    if (!strcmp(s, "-d")) opt.detach = true;
    else if (s[0] == '-' && s[1]) { outf(2, "rstrt: unknown option %s (see --help)\n", s); return 1; }
    else if (path) { complain("rstrt", "more than one image given (see --help)"); return 1; }
    else path = s;
  }
  if (!path) { complain("rstrt", "no image given (see --help)"); return 1; }
  Fd in;
  Err e = open_input(path, &in);
  int pid = -1;
  if (!e) e = restore_image(in.get(), opt, &pid);
  if (e) {
    complain("rstrt", e.msg);
    return strncmp(e.msg, "bad image", 9) == 0 || strncmp(e.msg, "not a chkpt image", 17) == 0 ? 2 : 1;
  }
  if (opt.detach) { outf(1, "%d\n", pid); return 0; }
  return wait_for(pid);
}
