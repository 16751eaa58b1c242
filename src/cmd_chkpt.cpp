// chkpt: checkpoint a running process.
static const char kHelp[] =
    "usage: chkpt [--tree|--single|--pgrp|--session] [-o IMAGE|-] [--stop|--kill] [--compress] ID\n"
    "       chkpt --every SECONDS [--keep N] [--tree|--single|--pgrp|--session] [--compress] -o DIR ID\n"
    "       chkpt info IMAGE|DIR|-\n"
    "       chkpt rstrt [-d] [--allow-changed-files] IMAGE|DIR|-|fd:N\n"
    "       chkpt migrate [--key FILE] [--timeout SECS] [--compress] PID HOST[:PORT]\n"
    "       chkpt restartd --key FILE [--listen ADDR[:PORT]] [--dir DIR] [--timeout SECS]\n"
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
    "  --external N\n"
    "             fd N (repeatable) may be a pipe or socket whose other end is\n"
    "             outside the checkpoint: it is saved as external, and rstrt\n"
    "             connects its own fd N there (or what --inherit-fd N=... says).\n"
    "             fds 0, 1 and 2 are always accepted so; any other such fd is\n"
    "             refused, naming it\n"
    "  --ghost-limit BYTES\n"
    "             the most data a deleted file the process holds open or mapped\n"
    "             may have to be saved in the image (default 1048576, at most\n"
    "             15 MiB; holes do not count); a larger one is refused\n"
    "  --tcp-close\n"
    "             save established TCP connections as aborted instead of through\n"
    "             TCP repair mode (no CAP_NET_ADMIN needed, the job's connections\n"
    "             are not touched): after rstrt each fails with ECONNABORTED\n"
    "  --compress page data compressed (LZ4) where it compresses: a smaller\n"
    "             image, and faster through a slow pipe, link or flash; costs\n"
    "             CPU (no faster to a fast disk). rstrt reads either\n"
    "  --no-callbacks\n"
    "             skip the callbacks of a process linked with libchkpt\n"
    "             (docs/API.md); by default they run, and its critical sections\n"
    "             end, before anything is frozen\n"
    "  --callback-timeout SECS\n"
    "             how long they may take (default 10); then chkpt fails\n"
    "  --nowait   fail at once if the process is in a critical section\n"
    "  -h, --help this text\n"
    "\n"
    "Saved: every thread with its credentials and scheduling; parents, children\n"
    "(zombies too), groups and sessions; timers; regular files, directories,\n"
    "devices, terminals, ptys (both ends), pipes and FIFOs (with unread data),\n"
    "unix socketpairs and listeners, TCP/UDP sockets (listening, bound,\n"
    "established: TCP_REPAIR), eventfds, signalfds, timerfds, epolls, inotify,\n"
    "memfds, deleted files, shared and copy-on-write memory. fds 0-2 leading\n"
    "out of the checkpoint are saved as external (rstrt connects its own);\n"
    "anything that cannot come back exactly is refused, naming the process and\n"
    "the thing (README, \"Not yet\").\n"
    "If chkpt fails, is interrupted or is killed (even SIGKILL) at any moment, the\n"
    "process goes on as if nothing happened and no partial image is left: the\n"
    "tracing runs in a helper process that notices and releases it untouched.\n"
    "Progress (bytes, rate, ETA) goes to stderr if it is a terminal, for a job of\n"
    "64 MiB or more (not with --every).\n"
    "Exit status: 0 on success, 1 on failure (the process is left as it was).\n"
    "With --every: 0 once the process has exited or chkpt is stopped by\n"
    "SIGINT/SIGTERM, 1 if the first checkpoint fails.\n"
    "\n"
    "Other commands, as `chkpt COMMAND ARGS...` (rstrt, migrate and restartd also\n"
    "through the links of those names); `chkpt COMMAND --help` tells more:\n";

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base.h"
#include "commands.h"
#include "dump.h"
#include "options.h"
#include "output.h"
#include "periodic.h"

namespace {
struct Args {
  DumpJob job;
  uint64_t every_ms = 0;
  bool every = false;
  unsigned keep = 3;
  CallbackOptions cb;
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

Err parse_args(int argc, char **argv, Args *a, bool *help) {
  int scope = (int)Scope::Tree, after = (int)AfterDump::Run, tcp_close = 0, compress = 0;
  const char *every = nullptr, *keep = nullptr, *id = nullptr, *ghost = nullptr, *cb_timeout = nullptr;
  int no_callbacks = 0, nowait = 0;
  Vec<const char *> externals;
  const Option opts[] = {opt_flag("--tree", &scope, (int)Scope::Tree),       opt_flag("--single", &scope, (int)Scope::Single),
                         opt_flag("--pgrp", &scope, (int)Scope::Pgrp),       opt_flag("--session", &scope, (int)Scope::Session),
                         opt_flag("--stop", &after, (int)AfterDump::Stop),   opt_flag("--kill", &after, (int)AfterDump::Kill),
                         opt_value("-o", &a->job.out), opt_value("--every", &every), opt_value("--keep", &keep),
                         opt_value("--ghost-limit", &ghost), opt_list("--external", &externals),
                         opt_flag("--tcp-close", &tcp_close), opt_flag("--compress", &compress),
                         opt_flag("--no-callbacks", &no_callbacks), opt_flag("--nowait", &nowait),
                         opt_value("--callback-timeout", &cb_timeout)};
  const Positional args[] = {{"process ID", &id, true}};
  TRY(parse_cmdline(argc, argv, opts, args, help));
  if (*help) return ok();
  a->job.scope = (Scope)scope;
  a->job.after = (AfterDump)after;
  a->job.opts.tcp_close = tcp_close;
  a->job.opts.compress = compress;
  uint64_t n;
  TRY(parse_number("ID", id, 1, 0x3fffffff, &n));
  a->job.pid = (int)n;
  if (keep) TRY(parse_number("--keep", keep, 1, 1000000, &n));
  if (keep) a->keep = (unsigned)n;
  if (ghost) TRY(parse_number("--ghost-limit", ghost, 0, 15u << 20, &a->job.opts.ghost_limit));
  for (const char *x : externals) {
    TRY(parse_number("--external", x, 0, (1u << 20) - 1, &n));
    if (a->job.opts.nr_external == DumpOptions::kMaxExternal) return usage_err("too many --external fds");
    a->job.opts.external[a->job.opts.nr_external++] = (int)n;
  }
  if (every && !parse_seconds(every, &a->every_ms)) return usage_err("bad --every '%s': give seconds, e.g. 60 or 0.5", every);
  a->every = every != nullptr;
  a->job.progress = !a->every;  // not for each generation of --every
  a->cb.skip = no_callbacks;
  a->cb.nowait = nowait;
  if (cb_timeout && !parse_seconds(cb_timeout, &a->cb.timeout_ms))
    return usage_err("bad --callback-timeout '%s': give seconds, e.g. 10 or 0.5", cb_timeout);
  if (a->every && (!a->job.out || !strcmp(a->job.out, "-"))) return usage_err("--every needs -o DIR");
  if (a->every && a->job.after != AfterDump::Run) return usage_err("--every cannot be combined with --stop or --kill");
  return ok();
}
}  // namespace

int chkpt_main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);  // a closed pipe is an error return, not a silent death
  Args a;
  bool help = false;
  Err e = parse_args(argc, argv, &a, &help);
  if (help) {
    write_full(1, kHelp, sizeof kHelp - 1);  // longer than outf's buffer
    print_commands(1);
    return 0;
  }
  if (e) return fail("chkpt", e);
  if (a.every) return dump_every(a.job, a.every_ms, a.keep);
  int code = 1;
  bool engaged = false;
  e = callbacks_before(a.job, a.cb, &engaged);
  if (!e) e = run_in_worker(a.job, &code);
  if (engaged) callbacks_after(a.job.pid, e || code != 0);
  if (e) return fail("chkpt", e);
  return code;
}
