// migrate: move a running process to another machine, where restartd runs.
static const char kHelp[] =
    "usage: migrate [--key FILE] [--timeout SECS] [--compress] PID HOST[:PORT]\n"
    "       chkpt migrate ...\n"
    "\n"
    "Freeze process PID and its descendants, stream their image over TCP to the\n"
    "restartd on HOST (port 7450 unless given; [IPV6]:PORT for IPv6), and kill\n"
    "them here only once restartd has confirmed that they run there, with the\n"
    "same PIDs. If anything fails on the way (connection lost, key refused, PID\n"
    "taken on HOST, restore failed), the process goes on here as if nothing had\n"
    "happened. The image touches no disk on either side.\n"
    "\n"
    "  --key FILE     the key shared with restartd (default /etc/chkpt/migrate.key,\n"
    "                 mode 0600); it authenticates both ends and every frame\n"
    "  --timeout SECS give up after SECS seconds without progress (default 30)\n"
    "  --compress     page data compressed (LZ4) where it compresses: less to\n"
    "                 send, faster over a slow link; costs CPU on both ends\n"
    "  -h, --help     this text\n"
    "\n"
    "Progress (bytes, rate, ETA) goes to stderr when it is a terminal. On success\n"
    "one line on stdout: PID, destination, image size, time frozen.\n"
    "Exit status: 0 migrated; 1 not migrated (the process runs here as before).\n"
    "HOST needs the process's files (program, libraries, open files, cwd) at the\n"
    "same paths. Protocol and trust model: docs/MIGRATION.md.\n";

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base.h"
#include "commands.h"
#include "dump.h"
#include "net.h"
#include "options.h"
#include "periodic.h"
#include "procfs.h"

namespace {
constexpr const char *kDefaultKey = "/etc/chkpt/migrate.key";
constexpr int kPipeSize = 1 << 20;  // fewer wake-ups between the dump and the relay
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};
volatile sig_atomic_t g_relay = 0;  // the relay, while the dump writes to it

struct Args {
  const char *key = kDefaultKey;
  const char *dest = nullptr;
  int pid = -1;
  int timeout = 30;
  int compress = 0;
};

Err parse_args(int argc, char **argv, Args *a, bool *help) {
  const char *timeout = nullptr, *pid = nullptr;
  const Option opts[] = {opt_value("--key", &a->key), opt_value("--timeout", &timeout),
                         opt_flag("--compress", &a->compress)};
  const Positional args[] = {{"PID", &pid, true}, {"HOST", &a->dest, true}};
  TRY(parse_cmdline(argc, argv, opts, args, help));
  if (*help) return ok();
  uint64_t n;
  TRY(parse_number("PID", pid, 1, 0x3fffffff, &n));
  a->pid = (int)n;
  if (timeout) TRY(parse_number("--timeout", timeout, 1, 86400, &n));
  if (timeout) a->timeout = (int)n;
  return ok();
}

struct Relay {
  int in;
  Channel *ch;
  uint64_t expected;
};

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kStopSignals) sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

Err run_relay(void *ctx, int *) {
  Relay *r = static_cast<Relay *>(ctx);
  for (int sig : kStopSignals) signal(sig, SIG_IGN);  // migrate decides, and stops it itself
  Progress p("migrate", r->expected);
  Err e = pump_to_channel(r->in, *r->ch, &p);
  p.done();
  return e;
}

// Freeze and write the image into a pipe that a relay process frames, MACs and
// sends. A broken connection ends the relay, which breaks the pipe: the relay's
// error is then the cause. If the dump fails, the relay is killed before it
// could send the final frame, so the destination never sees a complete stream.
// *relay_failed: the relay's own error is returned (the destination may have
// said why).
Err stream_image(Dumper &d, Channel &ch, const Args &a, DumpStats *stats, bool *relay_failed) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return sys_err("pipe");
  Fd rd(p[0]), wr(p[1]);
  fcntl(wr.get(), F_SETPIPE_SZ, kPipeSize);  // best effort
  Relay ctx = {rd.get(), &ch, resident_bytes(a.pid)};
  Worker relay;
  TRY(relay.start(run_relay, &ctx, wr.get()));
  g_relay = relay.pid();
  rd.reset();
  ImageWriter w(wr.get());
  w.set_compress(a.compress);
  Err e = d.freeze_and_write(w, stats);
  int code = 0;
  if (e) {  // no final frame; a relay that failed by itself wrote why before its end broke the pipe
    Err r = relay.stop(&code);
    g_relay = 0;
    if (abort_requested) return errf("interrupted");
    *relay_failed = r && code == 1;
    return *relay_failed ? r : e;
  }
  g_relay = 0;  // from here on the outcome is the destination's:
  block_stop_signals();  // a stop request must not cut the wait for its answer
  wr.reset();  // end of the image: the relay sends the final frame
  Err r = relay.join();
  *relay_failed = (bool)r;
  return r;
}

// "OK PID" from restartd, or why it refused.
Err check_reply(const char *reply, const Args &a) {
  uint64_t pid;
  if (!strncmp(reply, "OK ", 3) && parse_u64(reply + 3, &pid)) {
    if ((int)pid != a.pid) return errf("%s restored PID %llu, not %d", a.dest, (unsigned long long)pid, a.pid);
    return ok();
  }
  if (!strncmp(reply, "REFUSED ", 8)) return errf("%s refused: %s", a.dest, reply + 8);
  return errf("%s sent an unexpected reply", a.dest);
}

// After a failed stream the destination may already have said why (it speaks
// first when it refuses mid-stream); its reason beats "connection reset".
Err explain(Channel &ch, const Args &a, const Err &e) {
  char reply[300];
  if (recv_reply(ch, 2, reply, sizeof reply)) return e;
  Err why = check_reply(reply, a);
  return why ? why : e;
}

Err migrate(const Args &a) {
  Psk key;
  TRY(load_key(a.key, &key));
  if (kill(a.pid, 0) < 0) return sys_err("process %d", a.pid);
  Fd sock;
  Channel ch;
  Err c = tcp_connect(a.dest, a.timeout, &sock);  // its errors name the host
  if (!c && (c = ch.client_hello(sock.get(), key))) c = wrap(c, "%s", a.dest);
  if (c) return wrap(c, "not migrated, PID %d goes on here", a.pid);
  Dumper d(Scope::Tree, a.pid);
  DumpStats stats;
  uint64_t t0 = now_ns();
  char reply[300];
  bool relay_failed = false;
  Err e = stream_image(d, ch, a, &stats, &relay_failed);
  if (relay_failed) e = explain(ch, a, e);
  if (!e) e = recv_reply(ch, a.timeout, reply, sizeof reply);
  if (!e) e = check_reply(reply, a);
  if (e) {
    Err r = d.finish(AfterDump::Run);  // nothing lost: the process goes on here
    return r ? errf("not migrated: %s; and releasing PID %d failed: %s", e.msg, a.pid, r.msg)
             : wrap(e, "not migrated, PID %d goes on here", a.pid);
  }
  if (Err k = d.finish(AfterDump::Kill))
    return wrap(k, "PID %d runs on %s now, but ending it here failed", a.pid, a.dest);
  outf(1, "PID %d migrated to %s: %.1f MiB, frozen %.3f s\n", a.pid, a.dest,
       (double)stats.image_bytes / 1048576, (double)(now_ns() - t0) / 1e9);
  return ok();
}

// ^C or a kill while the dump runs must not leave the process inside an
// injected call: the dumper sees the flag between phases, puts everything back
// and migrate resumes the process. The relay dies at once, so a dump blocked on
// a stalled connection (a full pipe) is not kept waiting, and the destination
// never gets a final frame. Once the image is out, the flag is not consulted:
// the outcome is the destination's answer.
void on_stop(int) {
  abort_requested = 1;
  if (g_relay > 0) kill(g_relay, SIGKILL);
}

void catch_stop_signals() {
  struct sigaction sa = {};
  sa.sa_handler = on_stop;
  for (int sig : kStopSignals) sigaction(sig, &sa, nullptr);
}

// The whole migration runs in chkpt's worker process (periodic.h): killing
// migrate itself, even with SIGKILL, only makes the worker give up cleanly, so
// the process is never left inside an injected call, and it goes on here.
int migrate_in_worker(const void *ctx) {
  catch_stop_signals();  // the worker's own: stop requests also cut the relay
  Err e = migrate(*static_cast<const Args *>(ctx));
  return e ? fail("migrate", e) : 0;
}
}  // namespace

int migrate_main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);  // a dead connection is an error return, not a silent death
  Args a;
  bool help = false;
  Err e = parse_args(argc, argv, &a, &help);
  if (help) { outf(1, "%s", kHelp); return 0; }
  int code = 1;
  if (!e) e = run_in_worker(migrate_in_worker, &a, a.pid, &code);
  if (e) return fail("migrate", e);
  return code;
}
