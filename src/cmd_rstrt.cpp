// rstrt: restart a process from an image.
static const char kHelp[] =
    "usage: rstrt [-d|--shell-job] [--pidns] [--stop] [--allow-changed-files]\n"
    "             [--ctty|--no-ctty]\n"
    "             [--tcp-close] [--inherit-fd N=FD|PATH|-]... [--map-path OLD=NEW]...\n"
    "             [--root DIR]\n"
    "             IMAGE|DIR|-|fd:N\n"
    "\n"
    "Recreate the processes saved in IMAGE (- reads the image from stdin, which may\n"
    "be a pipe; fd:N from an inherited socket or pipe; a FIFO or a serial line\n"
    "(also as fifo:PATH, dev:PATH), set to raw mode, is read as it comes) with\n"
    "their original PIDs, threads and relations, and resume them where they were\n"
    "frozen.\n"
    "Open terminals are attached to rstrt's terminal (a pty whose master was saved\n"
    "too is a new pty). A directory DIR of periodic checkpoints (chkpt --every)\n"
    "restores its newest generation that is complete and passes every check\n"
    "(DIR/NNNNNNNN.img, highest number first), if only you or root may write DIR.\n"
    "\n"
    "  -d         detach: print the restored PID (one per line for each process\n"
    "             restored without its parent) and exit at once\n"
    "  --stop     leave every restored process stopped (SIGSTOP is pending\n"
    "             when it resumes; other threads of a process may run for a\n"
    "             moment first); SIGCONT lets it go on\n"
    "  --allow-changed-files\n"
    "             restore even if a privately mapped file changed since the\n"
    "             checkpoint (size, modification time or inode; refused otherwise):\n"
    "             the pages saved in the image are used as they are, the others\n"
    "             come from the file as it is now\n"
    "  --inherit-fd N=FD|PATH|-\n"
    "             what the image's external fd N (a pipe or socket that led out of\n"
    "             the checkpointed set: chkpt saved fds 0-2 and --external ones\n"
    "             so) is connected to: rstrt's fd FD, the file PATH (created if\n"
    "             written to), or - (closed: end of file, or EPIPE). Repeatable.\n"
    "             Without it, external fd N is rstrt's own fd N, so\n"
    "             `rstrt job.img | tee -a log` goes on writing into the pipeline\n"
    "  --map-path OLD=NEW\n"
    "             the job's files moved: every open or mapped file, working\n"
    "             directory, program and unix socket name saved as OLD or under\n"
    "             OLD/ is taken from NEW (absolute paths; the longest OLD wins;\n"
    "             repeatable), opened with the same rights as without it\n"
    "  --root DIR every path P of the job is DIR/P (a copy of its files under\n"
    "             DIR), unless a --map-path covers it\n"
    "  --pidns    restore into a new PID namespace (and a mount namespace with\n"
    "             its own /proc), where the original PIDs are free even if\n"
    "             taken here; rstrt's child is its init (PID 1: reaps orphans,\n"
    "             ends the namespace when every restored root is done). -d\n"
    "             prints the PIDs as rstrt's namespace sees them\n"
    "  --ctty     a restored session leader whose controlling terminal was\n"
    "             outside the image (a login shell, a getty, script's child)\n"
    "             takes rstrt's terminal as its own; it must be no other\n"
    "             session's, or rstrt must lead the session that has it (exec\n"
    "             rstrt --ctty IMAGE), which lets it go. Without --ctty or\n"
    "             --no-ctty (none: it comes back without one) such an image is\n"
    "             refused\n"
    "  --shell-job\n"
    "             a job that was started from a shell (its own process group)\n"
    "             comes back as rstrt's foreground job: it gets rstrt's terminal,\n"
    "             ^Z stops it and rstrt with it, fg continues both\n"
    "  --tcp-close\n"
    "             established TCP connections come back aborted (their next call\n"
    "             fails with ECONNABORTED; ENOTCONN without CAP_NET_ADMIN) and\n"
    "             nothing is sent to their peers: for a restore where the peers\n"
    "             or the addresses are gone\n"
    "  -h, --help this text\n"
    "\n"
    "Without -d, rstrt waits for the restored processes (it reaps their orphans)\n"
    "and exits with the exit status of the first one (128+N if signal N killed\n"
    "it). If the image is bad or a PID is taken (see --pidns), rstrt prints one\n"
    "line, exits 1 (2 for a bad image), and leaves no process behind. Progress\n"
    "(bytes, rate, ETA) goes to stderr if it is a terminal, for an image of\n"
    "64 MiB or more.\n";

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "base.h"
#include "commands.h"
#include "dump.h"
#include "restore.h"
#include "options.h"
#include "output.h"
#include "pidns.h"

namespace {
// Like a shell waiting for its job: the terminal's ^C is for the job. rstrt is
// a child subreaper, so orphans of the restored tree are reaped here too. The
// exit status is the first restored process's.
// --shell-job: rstrt stands in the shell's job table for the job. When the
// job stops (^Z), rstrt takes the terminal back and stops too, so the shell
// sees its job stopped; continued (fg), it gives the terminal to the job again
// and continues it. When the job is done the terminal is rstrt's again.
void follow_stop(int tty, int job) {
  tcsetpgrp(tty, getpgrp());
  kill(getpid(), SIGSTOP);
  tcsetpgrp(tty, job);
  kill(-job, SIGCONT);
}

int wait_for(const Vec<int> &roots, int tty) {
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal(SIGTTOU, SIG_IGN);  // taking the terminal back from the background
  int status = 0, left = (int)roots.size();
  while (left > 0) {
    int st;
    pid_t p = waitpid(-1, &st, tty >= 0 ? WUNTRACED : 0);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) { complain("rstrt", "lost the restored processes"); return 1; }
    if (WIFSTOPPED(st)) {
      if (p == roots[0] && getpgid(p) == p) follow_stop(tty, p);
      continue;
    }
    for (size_t i = 0; i < roots.size(); i++) {
      if (roots[i] != p) continue;
      left--;
      if (i == 0) status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
  }
  if (tty >= 0) tcsetpgrp(tty, getpgrp());
  return status;
}

// --shell-job needs a terminal whose foreground rstrt is in (the shell gave
// it): checked before anything is restored.
int first_terminal() {
  for (int fd = 0; fd <= 2; fd++)
    if (isatty(fd)) return fd;
  return -1;
}

Err shell_terminal(int *tty) {
  *tty = first_terminal();
  if (*tty < 0) return usage_err("--shell-job: rstrt has no terminal");
  if (tcgetpgrp(*tty) != getpgrp()) return errf("--shell-job: rstrt is not in the foreground of its terminal");
  return ok();
}

// rstrt --ctty as the leader of its terminal's session: the terminal is let
// go (TIOCNOTTY; its hangup of the foreground group, rstrt's, is ignored) so
// that the restored session leader can take it.
Err give_up_terminal() {
  struct sigaction ign = {}, old;
  ign.sa_handler = SIG_IGN;
  sigaction(SIGHUP, &ign, &old);
  int r = ioctl(first_terminal(), TIOCNOTTY, 0);
  sigaction(SIGHUP, &old, nullptr);
  return r < 0 ? sys_err("--ctty: giving up rstrt's controlling terminal") : ok();
}

void print_roots(const Vec<int> &roots) {
  for (int pid : roots) outf(1, "%d\n", pid);
}

// rstrt outside the new PID namespace: its init restores the job; rstrt
// waits for the init, which exits with the job's status.
int follow_pidns(PidNs &ns, bool detach) {
  Vec<int> roots;
  if (Err e = pidns_result(ns, &roots)) return fail("rstrt", e);
  if (detach) { print_roots(roots); return 0; }
  Vec<int> init;
  init.push(ns.init);
  return wait_for(init, -1);
}
}  // namespace

// --inherit-fd N=FD, N=PATH (an absolute path) or N=-.
Err parse_inherit(const char *s, InheritFd *out) {
  const char *eq = strchr(s, '=');
  char num[16];
  if (!eq || eq == s || (size_t)(eq - s) >= sizeof num) return usage_err("bad --inherit-fd '%s': give N=FD, N=PATH or N=-", s);
  snprintf(num, sizeof num, "%.*s", (int)(eq - s), s);
  uint64_t v;
  TRY(parse_number("--inherit-fd", num, 0, (1u << 20) - 1, &v));
  out->n = (int)v;
  const char *what = eq + 1;
  if (!strcmp(what, "-")) out->eof = true;
  else if (what[0] == '/') out->path = what;
  else {
    TRY(parse_number("--inherit-fd", what, 0, (1u << 20) - 1, &v));
    out->fd = (int)v;
  }
  return ok();
}

int rstrt_main(int argc, char **argv) {
  RestoreOptions opt;
  const char *path = nullptr;
  int detach = 0, allow_changed = 0, tcp_close = 0, shell_job = 0, pidns = 0, stop = 0, ctty = 0, no_ctty = 0;
  Vec<const char *> inherit, map_paths;
  const char *root = nullptr;
  const Option opts[] = {opt_flag("-d", &detach), opt_flag("--allow-changed-files", &allow_changed),
                         opt_flag("--tcp-close", &tcp_close), opt_flag("--shell-job", &shell_job),
                         opt_flag("--pidns", &pidns), opt_flag("--stop", &stop), opt_flag("--ctty", &ctty),
                         opt_flag("--no-ctty", &no_ctty),
                         opt_list("--inherit-fd", &inherit), opt_list("--map-path", &map_paths),
                         opt_value("--root", &root)};
  const Positional args[] = {{"image", &path, true}};
  bool help = false;
  Err e = parse_cmdline(argc, argv, opts, args, &help);
  if (help) { write_full(1, kHelp, sizeof kHelp - 1); return 0; }  // longer than outf's buffer
  if (e) return fail("rstrt", e);
  opt.detach = detach;
  opt.allow_changed_files = allow_changed;
  opt.tcp_close = tcp_close;
  opt.progress = true;
  if (shell_job && detach) return fail("rstrt", usage_err("--shell-job and -d: a detached job cannot have the terminal"));
  if (shell_job && pidns) return fail("rstrt", usage_err("--shell-job and --pidns: not supported together yet"));
  if (shell_job && (e = shell_terminal(&opt.shell_tty))) return fail("rstrt", e);
  if (ctty && no_ctty) return fail("rstrt", usage_err("--ctty and --no-ctty: one or the other"));
  if (ctty && shell_job) return fail("rstrt", usage_err("--ctty and --shell-job: the job takes a terminal, or joins rstrt's session on it"));
  bool hand_over = false;
  if (ctty && (e = check_ctty_terminal(&hand_over))) return fail("rstrt", e);
  opt.ctty = ctty ? RestoreOptions::Ctty::Take : no_ctty ? RestoreOptions::Ctty::None : RestoreOptions::Ctty::Refuse;
  opt.stop = stop;
  for (const char *s : inherit) {
    InheritFd in;
    if ((e = parse_inherit(s, &in))) return fail("rstrt", e);
    opt.inherit.push(in);
  }
  for (const char *s : map_paths) {
    PathMap m;
    if ((e = parse_map_path(s, &m))) return fail("rstrt", e);
    opt.map_paths.push(m);
  }
  if (root) {
    PathMap m;
    if ((e = parse_root(root, &m))) return fail("rstrt", e);
    opt.map_paths.push(m);
  }
  Fd in;
  e = open_input(path, &in);
  PidNs ns;
  if (!e && pidns) e = pidns_enter(&ns);
  if (ns.init > 0) return follow_pidns(ns, opt.detach);
  if (!e && hand_over) e = give_up_terminal();
  Vec<int> roots;
  if (!e) e = restore_image(in.get(), opt, &roots);
  if (ns.init == 0) pidns_report(ns, e, roots, opt.detach);  // the init: exits on error
  if (e) return fail("rstrt", e);
  if (opt.detach && ns.init < 0) {
    print_roots(roots);
    return 0;
  }
  return wait_for(roots, opt.shell_tty);
}
