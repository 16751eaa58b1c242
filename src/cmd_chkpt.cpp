// chkpt: checkpoint a running process.
static const char kHelp[] =
    "usage: chkpt [--tree|--single|--pgrp|--session] [-o IMAGE|-] [--stop|--kill] ID\n"
    "       chkpt --every SECONDS [--keep N] [--tree|--single|--pgrp|--session] -o DIR ID\n"
    "       chkpt info IMAGE|DIR\n"
    "       chkpt rstrt [-d] [--allow-changed-files] IMAGE|DIR|-\n"
    "       chkpt --install DIR   (the links DIR/rstrt, migrate, restartd)\n"
    "\n"
    "Freeze process ID and its descendants, save their complete state (memory,\n"
    "registers, signals, open files, limits) to IMAGE, then let them go on.\n"
    "\n"
    "  --tree     process ID and all its descendants (the default)\n"
    "  --single   process ID only\n"
    "  --pgrp     every process of process group ID\n"
    "  --session  every process of session ID\n"
    "  -o IMAGE   where to write the image (default chkpt-ID.img); - is stdout.\n"
    "             A file is written to IMAGE.tmp.N, synced, then renamed over IMAGE,\n"
    "             mode 0600 (refused if IMAGE is not a regular file). In place:\n"
    "             fd:N (an inherited socket or pipe), fifo:PATH, dev:PATH (a\n"
    "             serial line, set to raw mode).\n"
    "  --stop     leave the process stopped (SIGSTOP) after the checkpoint\n"
    "  --kill     kill the process once the image is safely written\n"
    "  --every SECONDS\n"
    "             checkpoint every SECONDS (fractions allowed, 0 = back to back)\n"
    "             until process ID exits (the whole group or session with\n"
    "             --pgrp/--session), into generations DIR/00000001.img,\n"
    "             DIR/00000002.img, ... (numbered on from the highest in DIR;\n"
    "             DIR is created mode 0700; only you or root may write it).\n"
    "             Each is written as DIR/NNNNNNNN.img.tmp.PID, synced, renamed,\n"
    "             and DIR synced, so\n"
    "             a crash or power cut leaves only complete generations under\n"
    "             their final names. `rstrt DIR` restores the newest one.\n"
    "  --keep N   with --every: keep the newest N generations (default 3)\n"
    "  -h, --help this text\n"
    "\n"
    "Saved: every thread; parents, children (zombies too), groups and sessions;\n"
    "regular files, directories, devices, terminals, pipes and FIFOs (with unread\n"
    "data), unix socketpairs (with queued data), eventfds, memfds, shared and\n"
    "copy-on-write memory. A pipe or socket to a process outside the checkpoint,\n"
    "other sockets and deleted files are refused, naming the fd.\n"
    "If chkpt fails, is interrupted or is killed (even SIGKILL) at any moment, the\n"
    "process goes on as if nothing happened and no partial image is left: the\n"
    "tracing runs in a helper process that notices and releases it untouched.\n"
    "Exit status: 0 on success, 1 on failure (the process is left as it was).\n"
    "With --every: 0 once the process has exited or chkpt is stopped by\n"
    "SIGINT/SIGTERM, 1 if the first checkpoint fails.\n";

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base.h"
#include "commands.h"
#include "dump.h"
#include "output.h"
#include "periodic.h"

namespace {
struct Args {
  DumpJob job;
  uint64_t every_ms = 0;
  bool every = false;
  unsigned keep = 3;
};

// "1", "0.25", "600": seconds to milliseconds.
bool parse_seconds(const char *s, uint64_t *ms) {
  uint64_t whole = 0, frac = 0, scale = 1000;
  const char *p = s;
  for (; *p >= '0' && *p <= '9'; p++) whole = whole * 10 + (uint64_t)(*p - '0');
  if (p == s || whole > 100000000) return false;
  if (*p == '.') {
    for (p++; *p >= '0' && *p <= '9'; p++)
      if (scale > 1) frac += (uint64_t)(*p - '0') * (scale /= 10);
  }
  *ms = whole * 1000 + frac;
  return *p == 0;
}

Err parse_option(int argc, char **argv, int *i, Args *a) {
  const char *s = argv[*i];
  const char *val = *i + 1 < argc ? argv[*i + 1] : nullptr;
  if (!strcmp(s, "--tree")) a->job.scope = Scope::Tree;
  else if (!strcmp(s, "--single")) a->job.scope = Scope::Single;
  else if (!strcmp(s, "--pgrp")) a->job.scope = Scope::Pgrp;
  else if (!strcmp(s, "--session")) a->job.scope = Scope::Session;
  else if (!strcmp(s, "--stop")) a->job.after = AfterDump::Stop;
  else if (!strcmp(s, "--kill")) a->job.after = AfterDump::Kill;
  else if (!strcmp(s, "-o") || !strcmp(s, "--every") || !strcmp(s, "--keep")) {
    if (!val) return errf("%s needs a value (see --help)", s);
    ++*i;
    uint64_t n;
    if (!strcmp(s, "-o")) a->job.out = val;
    else if (!strcmp(s, "--keep")) {
      if (!parse_u64(val, &n) || n == 0 || n > 1000000) return errf("bad --keep '%s': give a count of 1 or more", val);
      a->keep = (unsigned)n;
    } else {
      if (!parse_seconds(val, &a->every_ms)) return errf("bad --every '%s': give seconds, e.g. 60 or 0.5", val);
      a->every = true;
    }
  } else return errf("unknown option %s (see --help)", s);
  return ok();
}

Err parse_args(int argc, char **argv, Args *a, bool *help) {
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) { *help = true; return ok(); }
    if (s[0] == '-' && s[1]) { TRY(parse_option(argc, argv, &i, a)); continue; }
    uint64_t pid;
    if (a->job.pid >= 0 || !parse_u64(s, &pid) || pid == 0 || pid > 0x3fffffff) return errf("bad ID '%s' (see --help)", s);
    a->job.pid = (int)pid;
  }
  if (a->job.pid < 0) return errf("no process ID given (see --help)");
  if (a->every && (!a->job.out || !strcmp(a->job.out, "-"))) return errf("--every needs -o DIR (see --help)");
  if (a->every && a->job.after != AfterDump::Run) return errf("--every cannot be combined with --stop or --kill");
  return ok();
}
}  // namespace

// In the worker. After an abort (chkpt interrupted or killed) the target is
// released as it was found, even if the image was complete: with --stop or
// --kill it is neither stopped nor killed, nobody being left to tell that it
// was saved.
Err dump_job(const DumpJob &a) {
  char defname[64];
  snprintf(defname, sizeof defname, "chkpt-%d.img", a.pid);
  TRY(check_abort());
  Output out;
  TRY(out.open(a.out ? a.out : defname, a.out_dir));
  ImageWriter w(out.fd());
  Dumper d(a.scope, a.pid);
  DumpStats stats;
  Err e = d.freeze_and_write(w, &stats);
  if (!e) e = check_abort();
  if (e) {
    out.abandon();
    Err r = d.finish(AfterDump::Run);  // the target goes on as if nothing happened
    return r ? wrap(e, "%s; releasing the process also failed", r.msg) : e;
  }
  if (a.after == AfterDump::Run) {  // release before the (slow) sync: shorter freeze
    TRY(d.finish(AfterDump::Run));
    return out.commit();
  }
  // --stop and --kill take effect only with a durable image, and not after an abort.
  Err c = out.commit();
  if (!c && abort_requested) c = errf("interrupted: the image is written, but process %d is left running", a.pid);
  if (c) {
    d.finish(AfterDump::Run);
    return c;
  }
  return d.finish(a.after);
}

int chkpt_main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);  // a closed pipe is an error return, not a silent death
  Args a;
  bool help = false;
  Err e = parse_args(argc, argv, &a, &help);
  if (help) { outf(1, "%s", kHelp); return 0; }
  if (e) { complain("chkpt", e.msg); return 1; }
  if (a.every) return dump_every(a.job, a.every_ms, a.keep);
  int code = 1;
  e = run_in_worker(a.job, &code);
  if (e) { complain("chkpt", e.msg); return 1; }
  return code;
}
