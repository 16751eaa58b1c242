// rstrt: restart a process from an image.
static const char kHelp[] =
    "usage: rstrt [-d] [--allow-changed-files] IMAGE|DIR|-|fd:N\n"
    "\n"
    "Recreate the processes saved in IMAGE (- reads the image from stdin, which may\n"
    "be a pipe; fd:N from an inherited socket or pipe; a FIFO or a serial line\n"
    "(also as fifo:PATH, dev:PATH), set to raw mode, is read as it comes) with\n"
    "their original PIDs, threads and relations, and resume them where they were\n"
    "frozen.\n"
    "Open terminals are attached to rstrt's terminal. A directory DIR of periodic\n"
    "checkpoints (chkpt --every) restores its newest generation that is complete\n"
    "and passes every check (DIR/NNNNNNNN.img, highest number first), if only\n"
    "you or root may write DIR.\n"
    "\n"
    "  -d         detach: print the restored PID (one per line for each process\n"
    "             restored without its parent) and exit at once\n"
    "  --allow-changed-files\n"
    "             restore even if a privately mapped file changed since the\n"
    "             checkpoint (size, modification time or inode; refused otherwise):\n"
    "             the pages saved in the image are used as they are, the others\n"
    "             come from the file as it is now\n"
    "  -h, --help this text\n"
    "\n"
    "Without -d, rstrt waits for the restored processes (it reaps their orphans)\n"
    "and exits with the exit status of the first one (128+N if signal N killed\n"
    "it). If the image is bad or a PID is taken, rstrt prints one line, exits 1\n"
    "(2 for a bad image), and leaves no process behind.\n";

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "base.h"
#include "commands.h"
#include "dump.h"
#include "output.h"

namespace {
// Like a shell waiting for its job: the terminal's ^C is for the job. rstrt is
// a child subreaper, so orphans of the restored tree are reaped here too. The
// exit status is the first restored process's.
int wait_for(const Vec<int> &roots) {
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  int status = 0, left = (int)roots.size();
  while (left > 0) {
    int st;
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) { complain("rstrt", "lost the restored processes"); return 1; }
    for (size_t i = 0; i < roots.size(); i++) {
      if (roots[i] != p) continue;
      left--;
      if (i == 0) status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
  }
  return status;
}
}  // namespace

int rstrt_main(int argc, char **argv) {
  RestoreOptions opt;
  const char *path = nullptr;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) { outf(1, "%s", kHelp); return 0; }
    if (!strcmp(s, "-d")) opt.detach = true;
    else if (!strcmp(s, "--allow-changed-files")) opt.allow_changed_files = true;
    else if (s[0] == '-' && s[1]) { outf(2, "rstrt: unknown option %s (see --help)\n", s); return 1; }
    else if (path) { complain("rstrt", "more than one image given (see --help)"); return 1; }
    else path = s;
  }
  if (!path) { complain("rstrt", "no image given (see --help)"); return 1; }
  Fd in;
  Err e = open_input(path, &in);
  Vec<int> roots;
  if (!e) e = restore_image(in.get(), opt, &roots);
  if (e) {
    complain("rstrt", e.msg);
    return strncmp(e.msg, "bad image", 9) == 0 || strncmp(e.msg, "not a chkpt image", 17) == 0 ? 2 : 1;
  }
  if (opt.detach) {
    for (int pid : roots) outf(1, "%d\n", pid);
    return 0;
  }
  return wait_for(roots);
}
