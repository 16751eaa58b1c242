// The handshake with a process linked with libchkpt (src/lib/, docs/API.md): before
// anything is frozen, chkpt asks the library's thread in the target to wait for
// its critical sections and to run its checkpoint callbacks; once the image is
// written, it tells the thread how the checkpoint ended. The thread listens on
// the abstract unix socket "@chkpt.PID" (unix(7)); a process without the
// library has none and is checkpointed transparently. One line per connection,
// and the process never holds a connection while its callbacks run (a hung
// one must not make it uncheckpointable), so it answers on a socket of ours:
//   chkpt -> @chkpt.PID            "REQ <requester> <scope> <target> <signal> <cs_wait_ms>\n"
//   lib -> @chkpt-reply.REQUESTER  "OK\n" | "ABORT <reason>\n" | "BUSY\n", and the
//                                  library closes: the frozen set holds no
//                                  connection to chkpt
//   chkpt -> @chkpt.PID            "DONE <0|1>\n" (1: the checkpoint failed)
// The listening socket itself is checkpointed and restored like any other
// (src/fd/unix.cpp); the restored library notices the restart on its own.
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "dump.h"
#include "procfs.h"

namespace {
const char *const kScopeNames[] = {"tree", "single", "pgrp", "session"};

uint64_t clock_ms() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

socklen_t abstract_name(struct sockaddr_un *a, const char *what, int pid) {
  *a = {};
  a->sun_family = AF_UNIX;
  int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "%s.%d", what, pid);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

// The library's socket of process pid, if it has one and it belongs to the
// process's owner (anyone may bind a name: a stranger's socket is ignored).
int connect_library(int pid) {
  Fd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un a;
  socklen_t len = abstract_name(&a, "chkpt", pid);
  if (!s.ok() || connect(s.get(), (struct sockaddr *)&a, len) < 0) return -1;
  struct ucred peer;
  socklen_t plen = sizeof peer;
  char proc[32];
  snprintf(proc, sizeof proc, "/proc/%d", pid);
  struct stat st;
  if (getsockopt(s.get(), SOL_SOCKET, SO_PEERCRED, &peer, &plen) < 0 || stat(proc, &st) < 0) return -1;
  if (peer.uid != st.st_uid) return -1;
  return s.release();
}

// Read one line (without its newline) until deadline; false on timeout or EOF.
bool read_line(int fd, char *buf, size_t cap, uint64_t deadline) {
  size_t got = 0;
  while (got + 1 < cap) {
    uint64_t now = clock_ms();
    struct pollfd p = {fd, POLLIN, 0};
    if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0) return false;
    if (read(fd, buf + got, 1) != 1) return false;
    if (buf[got] == '\n') break;
    got++;
  }
  buf[got] = 0;
  return true;
}

// The library closes its end after answering: wait for that (end of file).
bool wait_closed(int fd, uint64_t deadline) {
  char c;
  uint64_t now;
  struct pollfd p = {fd, POLLIN, 0};
  while ((now = clock_ms()) < deadline && poll(&p, 1, (int)(deadline - now)) > 0)
    if (read(fd, &c, 1) <= 0) return true;
  return false;
}

// The answer comes from the process itself (its pid, not just its owner's).
int accept_answer(int listener, int pid, uint64_t deadline) {
  for (uint64_t now; (now = clock_ms()) < deadline;) {
    struct pollfd p = {listener, POLLIN, 0};
    if (poll(&p, 1, (int)(deadline - now)) <= 0) continue;
    Fd c(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    struct ucred peer;
    socklen_t plen = sizeof peer;
    if (c.ok() && !getsockopt(c.get(), SOL_SOCKET, SO_PEERCRED, &peer, &plen) && peer.pid == pid) return c.release();
  }
  return -1;
}

bool stopped(int pid, char *comm, size_t cap) {
  char path[40], text[512];
  snprintf(path, sizeof path, "/proc/%d/comm", pid);
  size_t n = 0;
  if (!read_text(path, comm, cap, &n) && n) comm[n - 1] = 0;  // the trailing newline
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  char state = 0;
  return !read_text(path, text, sizeof text) && stat_state(text, &state) && (state == 'T' || state == 't');
}
}  // namespace

Err callbacks_before(const DumpJob &job, const CallbackOptions &o, bool *engaged) {
  *engaged = false;
  char comm[64] = "?";
  // a stopped process cannot run callbacks: checkpointed as it is
  if (o.skip || stopped(job.pid, comm, sizeof comm)) return ok();
  Fd req(connect_library(job.pid));
  if (!req.ok()) return ok();
  Fd answers(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un a;
  socklen_t alen = abstract_name(&a, "chkpt-reply", (int)getpid());
  if (!answers.ok() || bind(answers.get(), (struct sockaddr *)&a, alen) < 0 || listen(answers.get(), 4) < 0)
    return sys_err("listening for the answer of process %d's checkpoint library", job.pid);
  int sig = job.after == AfterDump::Kill ? SIGKILL : job.after == AfterDump::Stop ? SIGSTOP : 0;
  char line[300];
  int n = snprintf(line, sizeof line, "REQ %d %s %d %d %llu\n", (int)getpid(), kScopeNames[(int)job.scope], job.pid,
                   sig, (unsigned long long)(o.nowait ? 0 : o.timeout_ms));
  TRY(write_full(req.get(), line, (size_t)n));
  req.reset();
  uint64_t deadline = clock_ms() + o.timeout_ms + 1000;  // the library's own wait ends first
  Fd s(accept_answer(answers.get(), job.pid, deadline));
  if (!s.ok() || !read_line(s.get(), line, sizeof line, deadline) ||
      (!strcmp(line, "OK") && !wait_closed(s.get(), deadline)))
    return errf("process %d (%s): its checkpoint callbacks did not answer within %llu ms (--no-callbacks skips them)",
                job.pid, comm, (unsigned long long)o.timeout_ms);
  if (!strcmp(line, "OK")) { *engaged = true; return ok(); }
  if (!strcmp(line, "BUSY") && o.nowait)
    return errf("process %d (%s) is in a critical section (checkpoint_disable)", job.pid, comm);
  if (!strcmp(line, "BUSY"))
    return errf("process %d (%s) stayed in a critical section (checkpoint_disable) for %llu ms", job.pid, comm,
                (unsigned long long)o.timeout_ms);
  if (!strncmp(line, "ABORT ", 6))
    return errf("process %d (%s): a checkpoint callback refused: %s", job.pid, comm, line + 6);
  return errf("process %d (%s): its checkpoint library answered '%.60s'", job.pid, comm, line);
}

// Not waited for: a stopped process reads it when it goes on, a killed one never.
void callbacks_after(int pid, bool failed) {
  Fd s(connect_library(pid));
  if (s.ok()) write_full(s.get(), failed ? "DONE 1\n" : "DONE 0\n", 7);
}
