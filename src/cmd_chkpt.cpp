// chkpt: checkpoint a running process.
static const char kHelp[] =
    "usage: chkpt [-o IMAGE|-] [--stop|--kill] PID\n"
    "       chkpt info IMAGE\n"
    "       chkpt rstrt [-d] IMAGE|-\n"
    "\n"
    "Freeze process PID, save its complete state (memory, registers, signals,\n"
    "open files, limits) to IMAGE, then let it go on.\n"
    "\n"
    "  -o IMAGE   where to write the image (default chkpt-PID.img); - is stdout.\n"
    "             A file is written to IMAGE.tmp.N, synced, then renamed over IMAGE.\n"
    "  --stop     leave the process stopped (SIGSTOP) after the checkpoint\n"
    "  --kill     kill the process once the image is safely written\n"
    "  -h, --help this text\n"
    "\n"
    "Supported for now: one single-threaded process without children, with\n"
    "regular files, directories, character devices and terminals open.\n"
    "Exit status: 0 on success, 1 on failure (the process is left as it was).\n";

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base.h"
#include "commands.h"
#include "dump.h"
#include "output.h"

namespace {
struct Args {
  const char *out = nullptr;
  AfterDump after = AfterDump::Run;
  int pid = -1;
};

Err parse_args(int argc, char **argv, Args *a, bool *help) {
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) { *help = true; return ok(); }
    if (!strcmp(s, "--stop")) a->after = AfterDump::Stop;
    else if (!strcmp(s, "--kill")) a->after = AfterDump::Kill;
    else if (!strcmp(s, "-o")) {
      if (++i == argc) return errf("-o needs an image path");
      a->out = argv[i];
    } else if (s[0] == '-' && s[1]) return errf("unknown option %s (see --help)", s);
    else {
      uint64_t pid;
      if (a->pid >= 0 || !parse_u64(s, &pid) || pid == 0 || pid > 0x3fffffff) return errf("bad PID '%s' (see --help)", s);
      a->pid = (int)pid;
    }
  }
  if (a->pid < 0) return errf("no PID given (see --help)");
  return ok();
}

Err run(const Args &a) {
  char defname[64];
  snprintf(defname, sizeof defname, "chkpt-%d.img", a.pid);
  Output out;
  TRY(out.open(a.out ? a.out : defname));
  ImageWriter w(out.fd());
  Dumper d(a.pid);
  DumpStats stats;
  Err e = d.freeze_and_write(w, &stats);
  if (e) {
    out.abandon();
    Err r = d.finish(AfterDump::Run);  // the target goes on as if nothing happened
    return r ? wrap(e, "%s; releasing the process also failed", r.msg) : e;
  }
  if (a.after != AfterDump::Kill) {  // release before the (slow) sync: shorter freeze
    TRY(d.finish(a.after));
    return out.commit();
  }
  if (Err c = out.commit()) {  // never kill without a durable image
    d.finish(AfterDump::Run);
    return c;
  }
  return d.finish(AfterDump::Kill);
}
}  // namespace

int chkpt_main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);  // a closed pipe is an error return, not a silent death
  Args a;
  bool help = false;
  Err e = parse_args(argc, argv, &a, &help);
  if (help) { outf(1, "%s", kHelp); return 0; }
  if (!e) e = run(a);
  if (e) { complain("chkpt", e.msg); return 1; }
  return 0;
}
