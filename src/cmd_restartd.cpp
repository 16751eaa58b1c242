// restartd: the daemon that receives processes from migrate and restarts them.
static const char kHelp[] =
    "usage: restartd --key FILE [--listen ADDR[:PORT]] [--dir DIR] [--timeout SECS]\n"
    "       chkpt restartd ...\n"
    "\n"
    "Receive processes sent by `migrate` and restart them here with their PIDs.\n"
    "A connection must first prove that it holds the key; then every frame of\n"
    "the image is authenticated before the restore reads a byte of it, so nothing\n"
    "runs from an altered, truncated, cut or replayed stream. Migrations may run\n"
    "at the same time; one whose PID is taken here is refused, and migrate then\n"
    "resumes the process where it was. restartd reaps the processes it restored\n"
    "and logs one line per connection and per ended process on stderr. It runs\n"
    "until SIGTERM or SIGINT.\n"
    "\n"
    "  --key FILE       the key shared with migrate (16 to 4095 bytes, mode 0600)\n"
    "  --listen ADDR[:PORT]  where to listen (default 127.0.0.1:7450; 0.0.0.0:7450\n"
    "                   or [::]:7450 for every address)\n"
    "  --dir DIR        also keep a copy of the image of each process restored\n"
    "                   here, as DIR/PID.img, written to a temporary file, synced\n"
    "                   and renamed before migrate is told (restorable with rstrt);\n"
    "                   only restartd's user or root may write DIR\n"
    "  --timeout SECS   drop a connection after SECS without progress (default 30),\n"
    "                   or after 10 s (SECS if less) without proving the key\n"
    "  -h, --help       this text\n"
    "\n"
    "Restored processes need their files (program, libraries, open files, cwd)\n"
    "at the same paths here. Protocol and trust model: docs/MIGRATION.md.\n";

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base.h"
#include "commands.h"
#include "dump.h"
#include "restore.h"
#include "net.h"
#include "options.h"
#include "output.h"

namespace {
// Unauthenticated peers get a bounded share of the connections, each for a
// bounded time, so that slow or silent ones can neither take the slots of
// migrations nor keep a key holder waiting for long (docs/MIGRATION.md,
// "Connections").
constexpr int kMaxHandshakes = 16;     // connections still in the handshake
constexpr int kMaxSessions = 8;        // slots only authenticated ones can have
constexpr int kMaxConnections = kMaxHandshakes + kMaxSessions;
constexpr int kHandshakeSeconds = 10;  // for the whole handshake (at most --timeout)
constexpr int kPipeSize = 1 << 20;

struct Args {
  const char *key = nullptr;
  const char *listen = "127.0.0.1";
  const char *dir = nullptr;
  int timeout = 30;
};

Err parse_args(int argc, char **argv, Args *a, bool *help) {
  const char *timeout = nullptr;
  const Option opts[] = {opt_value("--key", &a->key), opt_value("--listen", &a->listen), opt_value("--dir", &a->dir),
                         opt_value("--timeout", &timeout)};
  TRY(parse_cmdline(argc, argv, opts, sizeof opts / sizeof *opts, nullptr, 0, help));
  if (*help) return ok();
  uint64_t n;
  if (timeout) TRY(parse_number("--timeout", timeout, 1, 86400, &n));
  if (timeout) a->timeout = (int)n;
  if (!a->key) return usage_err("--key FILE is required");
  return ok();
}

// ---- one connection (in its own process) ----------------------------------------

struct Conn {
  const Args *a;
  const Psk *key;
  int sock;
  int dir;   // --dir, opened and checked once (-1 without)
  int ctl;   // to the daemon: one byte once the peer has proved the key
  char peer[80];
};

// Where the copy of the image goes while it arrives, and where it ends up: in
// the --dir opened at start (by its descriptor, whatever the path leads to
// later), created afresh with O_EXCL so no planted name is followed. A file
// left under our name by a dead handler whose PID we reuse is removed first:
// only restartd's user can write there (check_trusted_dir).
struct Copy {
  Fd fd;
  int dir = -1;
  char tmp[64] = {};
  ~Copy() { if (tmp[0]) unlinkat(dir, tmp, 0); }
  Err open(int dir_fd, const char *dir_name) {
    if (dir_fd < 0) return ok();
    dir = dir_fd;
    snprintf(tmp, sizeof tmp, ".incoming.%d.tmp", (int)getpid());
    unlinkat(dir, tmp, 0);
    // 0600: an image holds a whole memory
    fd.reset(openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.ok()) {
      Err e = sys_err("cannot create %s/%s", dir_name, tmp);
      tmp[0] = 0;
      return e;
    }
    return ok();
  }
  Err commit(const char *dir_name, int pid) {
    if (!tmp[0]) return ok();
    char final[32];
    snprintf(final, sizeof final, "%d.img", pid);
    if (renameat(dir, tmp, dir, final) < 0) return sys_err("rename %s/%s to %s", dir_name, tmp, final);
    tmp[0] = 0;
    if (fsync(dir) < 0) return sys_err("fsync %s", dir_name);
    return ok();
  }
};

struct Restorer {
  int in;      // the verified image
  int result;  // the restored root's PID goes back here
};

// The restorer process. It is separate from the connection's process because a
// failing restore reaps every child of its process (restore_image kills the
// half-built tree and collects the orphans that come back to it as a
// subreaper); its parent, which reads and verifies the stream, must not be
// blocked by that. Once it exits, the restored processes are restartd's.
Err run_restore(void *ctx, int *) {
  Restorer *r = static_cast<Restorer *>(ctx);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return sys_err("PR_SET_CHILD_SUBREAPER");
  RestoreOptions opt;
  opt.detach = true;
  opt.trusted_stream = true;  // authenticated: a key holder may restore anything (docs/MIGRATION.md)
  Vec<int> roots;
  TRY(restore_image(r->in, opt, &roots));
  int pid = roots.empty() ? -1 : roots[0];
  return write_full(r->result, &pid, sizeof pid);
}

// Verify the stream into the restorer's pipe while it restores. The stream's
// own fault (a MAC, a cut, the copy) is the cause to report over the restore's
// "truncated" that it leads to. Once the restore has succeeded the process
// runs: the migration has happened, whatever else goes wrong is only logged.
Err receive_and_restore(Channel &ch, Conn &c, Copy *copy, int *pid) {
  int p[2], q[2];
  if (pipe2(p, O_CLOEXEC) < 0) return sys_err("pipe");
  Fd rd(p[0]), wr(p[1]);
  if (pipe2(q, O_CLOEXEC) < 0) return sys_err("pipe");
  Fd result_rd(q[0]), result_wr(q[1]);
  fcntl(wr.get(), F_SETPIPE_SZ, kPipeSize);  // best effort
  Restorer r = {rd.get(), result_wr.get()};
  Worker restorer;
  TRY(restorer.start(run_restore, &r, wr.get()));
  rd.reset();
  result_wr.reset();
  int side = 0;
  Err pumped = pump_from_channel(ch, wr.get(), copy->fd.get(), &side);
  wr.reset();  // the end of the image, or the truncation that aborts the restore
  Err restored = restorer.join();
  if (restored) return pumped && side != kPumpOut ? pumped : restored;
  if (read_full(result_rd.get(), pid, sizeof *pid) != sizeof *pid) return errf("the restorer did not report");
  // Only a key holder sending frames after the image's end gets an error here:
  // every byte the restore used was verified.
  if (pumped) outf(2, "restartd: %s: after the restore: %s\n", c.peer, pumped.msg);
  if (Err k = copy->commit(c.a->dir, *pid)) outf(2, "restartd: %s: keeping the copy: %s\n", c.peer, k.msg);
  return ok();
}

// After a refusal, read what the client still sends until it hangs up, so that
// it sees the refusal rather than a reset connection.
void drain(int sock) {
  static uint8_t junk[1 << 16];
  shutdown(sock, SHUT_WR);
  set_io_timeout(sock, 5);
  while (read(sock, junk, sizeof junk) > 0) {
  }
}

int serve(Conn &c) {
  uint64_t t0 = now_ns();
  Channel ch;
  Err e = set_io_timeout(c.sock, c.a->timeout);
  if (!e) e = ch.server_hello(c.sock, *c.key, c.a->timeout < kHandshakeSeconds ? c.a->timeout : kHandshakeSeconds);
  if (e) { outf(2, "restartd: %s: %s\n", c.peer, e.msg); return 1; }
  (void)!write(c.ctl, "A", 1);  // authenticated: no longer counts as a handshake
  close(c.ctl);
  Copy copy;
  int pid = -1;
  e = copy.open(c.dir, c.a->dir);
  if (!e) e = receive_and_restore(ch, c, &copy, &pid);
  char reply[300];
  if (e) snprintf(reply, sizeof reply, "REFUSED %s", e.msg);
  else snprintf(reply, sizeof reply, "OK %d", pid);
  Err s = send_reply(ch, reply);
  if (e) {
    drain(c.sock);
    outf(2, "restartd: %s: refused: %s\n", c.peer, e.msg);
    return 1;
  }
  // A lost confirmation leaves the process running in both places (docs/MIGRATION.md).
  outf(2, "restartd: %s: restored PID %d in %.2f s%s%s\n", c.peer, pid, (double)(now_ns() - t0) / 1e9,
       s ? "; the confirmation was not delivered: " : "", s ? s.msg : "");
  return 0;
}

// ---- the daemon -------------------------------------------------------------------

volatile sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }
void on_child(int) {}

// A connection's handler process, and the daemon's end of the pipe on which
// it says that its peer proved the key.
struct Handler {
  int pid;
  int ctl;       // -1 once it has said so, or ended
  bool session;  // authenticated; otherwise still in the handshake
};

struct Daemon {
  const Args *a;
  const Psk *key;
  Fd listen, dir;
  Handler handlers[kMaxConnections];
  int active = 0;
  int count(bool session) const {  // authenticated ones, or those in the handshake
    int n = 0;
    for (int i = 0; i < active; i++) n += handlers[i].session == session;
    return n;
  }
};

void start_handler(Daemon &d, int sock) {
  int sp[2] = {-1, -1};
  int pid = pipe2(sp, O_CLOEXEC) < 0 ? -1 : fork();
  if (pid < 0) outf(2, "restartd: cannot start a handler: %s\n", strerror(errno));
  if (pid == 0) {
    d.listen.reset();  // the other handlers' pipes do not matter: read ends
    close(sp[0]);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    Conn c = {d.a, d.key, sock, d.dir.get(), sp[1], {}};
    sock_name(sock, true, c.peer, sizeof c.peer);
    _exit(serve(c));
  }
  close(sp[1]);
  if (pid < 0) { close(sp[0]); return; }  // close(-1) is harmless
  d.handlers[d.active++] = {pid, sp[0], false};
}

// A handler in the handshake says its peer proved the key (or it has ended:
// reap() collects it).
void authenticated(Handler &h) {
  char c;
  h.session = read(h.ctl, &c, 1) == 1;
  close(h.ctl);
  h.ctl = -1;
}

// Handlers end with their connection; everything else reaped here is a restored
// process (or an orphan below one) that ended: say so.
void reap(Daemon &d) {
  int st, pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    bool handler = false;
    for (int i = 0; i < d.active; i++)
      if (d.handlers[i].pid == pid) {
        close(d.handlers[i].ctl);
        d.handlers[i] = d.handlers[--d.active];
        handler = true;
        break;
      }
    if (!handler)
      outf(2, "restartd: PID %d ended (%s %d)\n", pid, WIFEXITED(st) ? "exit status" : "signal",
           WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
  }
}

void install_signals(sigset_t *wait_mask) {
  struct sigaction sa = {};
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sa.sa_handler = on_child;
  sigaction(SIGCHLD, &sa, nullptr);
  // Blocked except inside ppoll: no race between checking the flags and sleeping.
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGCHLD);
  sigprocmask(SIG_BLOCK, &block, wait_mask);
  sigdelset(wait_mask, SIGTERM);
  sigdelset(wait_mask, SIGINT);
  sigdelset(wait_mask, SIGCHLD);
}

Err run(const Args &a) {
  Psk key;
  TRY(load_key(a.key, &key));
  Fd dir;
  if (a.dir) {
    dir.reset(::open(a.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.ok()) return sys_err("--dir %s", a.dir);
    TRY(check_trusted_dir(dir.get(), a.dir));
  }
  // Restored processes are children of a connection's handler, which exits:
  // as a subreaper restartd inherits and reaps them.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return sys_err("PR_SET_CHILD_SUBREAPER");
  Daemon d = {&a, &key, Fd(), std::move(dir), {}, 0};
  TRY(tcp_listen(a.listen, &d.listen));
  sigset_t wait_mask;
  install_signals(&wait_mask);
  char where[80];
  sock_name(d.listen.get(), false, where, sizeof where);
  outf(2, "restartd: listening on %s\n", where);
  while (!g_stop) {
    reap(d);
    // While the handshake slots are full, new clients wait in the listen
    // backlog (first come, first served) until a handshake ends or times out.
    struct pollfd p[1 + kMaxConnections];
    bool room = d.active < kMaxConnections && d.count(false) < kMaxHandshakes;
    p[0] = {room ? d.listen.get() : -1, POLLIN, 0};
    for (int i = 0; i < d.active; i++) p[1 + i] = {d.handlers[i].ctl, POLLIN, 0};
    if (ppoll(p, 1 + d.active, nullptr, &wait_mask) <= 0) continue;  // a signal: reap, check the flag
    for (int i = 0; i < d.active; i++)
      if (p[1 + i].revents) authenticated(d.handlers[i]);
    if (!p[0].revents) continue;
    int s = accept4(d.listen.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (s < 0) continue;
    start_handler(d, s);
    close(s);
  }
  outf(2, "restartd: stopping\n");
  return ok();
}
}  // namespace

int restartd_main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  Args a;
  bool help = false;
  Err e = parse_args(argc, argv, &a, &help);
  if (help) { outf(1, "%s", kHelp); return 0; }
  if (!e) e = run(a);
  if (e) return fail("restartd", e);
  return 0;
}
