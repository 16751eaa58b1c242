// nettool: the test bench's plumbing for tests/migrate (built natively with g++;
// it links src/net.cpp for the keyed replay). Every mode is one small job:
//
//   nettool pty FD FILE CMD...        CMD runs with a raw pty's slave as fd FD
//                                     ($NETTOOL_PTY names it); what CMD writes
//                                     there is copied to FILE. Exit: CMD's status.
//   nettool ptyin FD FILE CMD...      the same, FILE is typed into the pty for CMD.
//   nettool listen ADDR:PORT CMD...   accept one TCP connection, CMD gets it as fd 3
//   nettool connect ADDR:PORT CMD...  connect, CMD gets the socket as fd 3
//   nettool proxy LISTEN TARGET MODE [ARG]
//                                     accept one connection, forward it to TARGET
//                                     both ways; MODE acts on the client's bytes:
//                                     pass; record FILE; flip N (invert the bits of
//                                     byte N); truncate N (end the stream to TARGET
//                                     after N bytes, still relay its answer);
//                                     reset N (reset both connections after N
//                                     bytes); stall N (forward nothing after N
//                                     bytes, keep both connections open)
//   nettool replay TARGET FILE        send FILE (a recorded client stream) as is;
//                                     print what the server answered to the key proof
//   nettool replay-keyed TARGET FILE KEY
//                                     a fresh, valid handshake with KEY, then the
//                                     recorded frames (FILE past its handshake);
//                                     print the server's reply
//   nettool trickle TARGET N SECS     N connections that never finish the handshake:
//                                     each sends one byte a second (slow enough
//                                     for no per-read timeout to fire); print
//                                     "open K of N" once the server has closed all
//                                     of them, or SECS seconds have passed
//   nettool sink ADDR:PORT            accept one connection, read it to the end,
//                                     print "bytes N seconds S"
//   nettool blast ADDR:PORT MIB       send MIB MiB of data
//   nettool hmac MIB                  HMAC-SHA256 over MIB MiB in 64 KiB frames,
//                                     print "mbps R" (one core's MAC rate)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

namespace {
[[noreturn]] void die(const char *fmt, const char *arg = "") {
  fprintf(stderr, "nettool: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, ": %s\n", errno ? strerror(errno) : "failed");
  exit(2);
}

void check(const Err &e) {
  if (e) {
    fprintf(stderr, "nettool: %s\n", e.msg);
    exit(2);
  }
}

int status_code(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }

// Run argv with `fd` duplicated to `as`; returns its pid.
pid_t spawn_with(int fd, int as, char **argv) {
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (fd == as ? fcntl(fd, F_SETFD, 0) < 0 : dup2(fd, as) < 0) die("dup2");  // either way not close-on-exec
    if (fd != as) close(fd);
    execvp(argv[0], argv);
    die("exec %s", argv[0]);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) die("waitpid");
  return status_code(st);
}

void copy_all(int from, int to) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a pty master reads EIO once every slave fd is closed
    if (write_full(to, buf, (size_t)n)) die("write");
  }
}

// ---- pty ------------------------------------------------------------------------

int open_raw_pty(int *slave) {
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) die("posix_openpt");
  const char *name = ptsname(m);
  *slave = open(name, O_RDWR | O_NOCTTY);
  if (*slave < 0) die("open %s", name);
  struct termios t;
  if (tcgetattr(*slave, &t) < 0) die("tcgetattr");
  cfmakeraw(&t);  // before any byte flows: a cooked line would translate them
  if (tcsetattr(*slave, TCSANOW, &t) < 0) die("tcsetattr");
  setenv("NETTOOL_PTY", name, 1);
  return m;
}

int pty_mode(bool in, int fd, const char *file, char **argv) {
  int slave, master = open_raw_pty(&slave);
  pid_t child = spawn_with(slave, fd, argv);
  close(slave);
  if (!in) {
    int out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) die("create %s", file);
    copy_all(master, out);
    return wait_for(child);
  }
  pid_t feeder = fork();
  if (feeder == 0) {
    int src = open(file, O_RDONLY | O_CLOEXEC);
    if (src < 0) die("open %s", file);
    copy_all(src, master);
    pause();  // keep the master open: closing it would hang up the slave
    _exit(0);
  }
  int code = wait_for(child);
  kill(feeder, SIGKILL);
  wait_for(feeder);
  return code;
}

// ---- tcp ------------------------------------------------------------------------

int accept_one(const char *addr) {
  Fd l;
  check(tcp_listen(addr, &l));
  int s = accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC);
  if (s < 0) die("accept");
  return s;
}

int connect_to(const char *addr) {
  Fd s;
  check(tcp_connect(addr, 10, &s));
  check(set_io_timeout(s.get(), 0));
  return s.release();
}

// ---- proxy ----------------------------------------------------------------------

struct Mode {
  const char *name;
  uint64_t at = ~0ull;
  int record = -1;
};

void reset_now(int fd) {
  struct linger l = {1, 0};  // close with RST, as a dead link eventually does
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

// Apply the mode to a chunk of client bytes at stream offset off; false: stop forwarding.
bool act(const Mode &m, char *buf, ssize_t *n, uint64_t off, int client, int server) {
  if (m.record >= 0 && write_full(m.record, buf, (size_t)*n)) die("record");
  if (m.at < off || m.at >= off + (uint64_t)*n) return true;  // not in this chunk
  uint64_t k = m.at - off;
  if (!strcmp(m.name, "flip")) { buf[k] ^= 0xff; return true; }
  *n = (ssize_t)k;
  if (k && write_full(server, buf, k)) return false;
  if (!strcmp(m.name, "truncate")) shutdown(server, SHUT_WR);
  if (!strcmp(m.name, "reset")) { reset_now(server); reset_now(client); exit(0); }
  *n = 0;
  return false;
}

int proxy_mode(const char *listen_at, const char *target, const Mode &m) {
  int client = accept_one(listen_at), server = connect_to(target);
  struct pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
  uint64_t off = 0;
  bool forwarding = true;
  char buf[65536];
  for (;;) {
    if (poll(p, 2, -1) < 0 && errno != EINTR) die("poll");
    if (p[1].revents) {  // the server's side goes through unchanged
      ssize_t n = read(server, buf, sizeof buf);
      if (n <= 0) break;
      if (write_full(client, buf, (size_t)n)) break;
    }
    if (p[0].revents) {
      ssize_t n = read(client, buf, sizeof buf);
      if (n <= 0) { shutdown(server, SHUT_WR); p[0].fd = -1; continue; }
      if (!forwarding) continue;  // truncated: the rest is swallowed
      ssize_t fwd = n;
      forwarding = act(m, buf, &fwd, off, client, server);
      off += (uint64_t)n;
      if (fwd && write_full(server, buf, (size_t)fwd)) break;
      if (!forwarding && !strcmp(m.name, "stall")) p[0].fd = -1;  // a dead link: nothing read any more
    }
  }
  return 0;
}

// ---- replay ---------------------------------------------------------------------

int replay_mode(const char *target, const char *file) {
  int s = connect_to(target);
  int f = open(file, O_RDONLY | O_CLOEXEC);
  if (f < 0) die("open %s", file);
  uint8_t hello[44], verdict[36];
  if (read_full(s, hello, sizeof hello) != (long)sizeof hello) die("no greeting");
  char buf[65536];
  ssize_t n;
  while ((n = read(f, buf, sizeof buf)) > 0)
    if (write_full(s, buf, (size_t)n)) break;  // the server may hang up early
  shutdown(s, SHUT_WR);
  long got = read_full(s, verdict, sizeof verdict);
  if (got != (long)sizeof verdict) { printf("replay: no verdict (connection closed)\n"); return 0; }
  uint32_t st = verdict[0] | verdict[1] << 8 | verdict[2] << 16 | (uint32_t)verdict[3] << 24;
  printf("replay: key proof %s\n", st == 0 ? "ACCEPTED" : st == 1 ? "refused (wrong key)" : "refused");
  return 0;
}

int replay_keyed_mode(const char *target, const char *file, const char *keyfile) {
  Psk key;
  check(load_key(keyfile, &key));
  int s = connect_to(target);
  Channel ch;
  check(ch.client_hello(s, key));
  int f = open(file, O_RDONLY | O_CLOEXEC);
  if (f < 0) die("open %s", file);
  if (lseek(f, 8 + 4 + kNonceLen + kSha256Len, SEEK_SET) < 0) die("seek");  // past the old key proof
  char buf[65536];
  ssize_t n;
  while ((n = read(f, buf, sizeof buf)) > 0)
    if (write_full(s, buf, (size_t)n)) break;
  char reply[300];
  Err e = recv_reply(ch, 30, reply, sizeof reply);
  printf("replay-keyed: %s\n", e ? e.msg : reply);
  return 0;
}

// ---- throughput -----------------------------------------------------------------

double seconds_since(const struct timespec &t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
}

int sink_mode(const char *addr) {
  int s = accept_one(addr);
  static char buf[1 << 20];
  uint64_t total = 0;
  struct timespec t0 = {};
  for (;;) {
    ssize_t n = read(s, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!total) clock_gettime(CLOCK_MONOTONIC, &t0);
    total += (uint64_t)n;
  }
  printf("bytes %llu seconds %.6f\n", (unsigned long long)total, seconds_since(t0));
  return 0;
}

int blast_mode(const char *addr, long mib) {
  int s = connect_to(addr);
  static char buf[1 << 20];
  memset(buf, 0x5a, sizeof buf);
  for (long i = 0; i < mib; i++)
    if (write_full(s, buf, sizeof buf)) die("send");
  return 0;
}
// A connection is closed once a read returns end of file or an error; what the
// server sends (its greeting) is read and dropped.
bool closed_by_peer(int fd) {
  char buf[256];
  for (;;) {
    ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r > 0) continue;
    return r == 0 || (errno != EAGAIN && errno != EINTR);
  }
}

int trickle_mode(const char *target, int n, int secs) {
  static int fds[1024];
  if (n < 1 || n > 1024) die("trickle: 1 to 1024 connections");
  for (int i = 0; i < n; i++) fds[i] = connect_to(target);
  int open_n = n;
  for (int t = 0; t < secs && open_n; t++) {
    struct timespec second = {1, 0};
    nanosleep(&second, nullptr);
    for (int i = 0; i < n; i++) {
      if (fds[i] < 0) continue;
      if (closed_by_peer(fds[i]) || send(fds[i], "C", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        close(fds[i]);
        fds[i] = -1;
        open_n--;
      }
    }
  }
  printf("open %d of %d\n", open_n, n);
  return 0;
}

int hmac_mode(long mib) {
  static uint8_t buf[kFrameData];
  uint8_t key[kSha256Len] = {1}, hdr[8] = {}, mac[kSha256Len];
  memset(buf, 0x5a, sizeof buf);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < mib * (long)((1 << 20) / kFrameData); i++)
    Channel::frame_mac(key, 'C', (uint64_t)i, hdr, buf, kFrameData, mac);
  printf("mbps %.0f\n", (double)mib / seconds_since(t0));
  return 0;
}
}  // namespace

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  const char *m = argc > 1 ? argv[1] : "";
  if ((!strcmp(m, "pty") || !strcmp(m, "ptyin")) && argc > 4)
    return pty_mode(!strcmp(m, "ptyin"), atoi(argv[2]), argv[3], argv + 4);
  if (!strcmp(m, "listen") && argc > 3) return wait_for(spawn_with(accept_one(argv[2]), 3, argv + 3));
  if (!strcmp(m, "connect") && argc > 3) return wait_for(spawn_with(connect_to(argv[2]), 3, argv + 3));
  if (!strcmp(m, "proxy") && argc > 4) {
    Mode mode;
    mode.name = argv[4];
    if (!strcmp(mode.name, "record") && argc > 5) {
      mode.record = open(argv[5], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (mode.record < 0) die("create %s", argv[5]);
    } else if (strcmp(mode.name, "pass")) {
      if (argc < 6) die("proxy %s needs a byte offset", mode.name);
      mode.at = strtoull(argv[5], nullptr, 10);
    }
    return proxy_mode(argv[2], argv[3], mode);
  }
  if (!strcmp(m, "replay") && argc == 4) return replay_mode(argv[2], argv[3]);
  if (!strcmp(m, "replay-keyed") && argc == 5) return replay_keyed_mode(argv[2], argv[3], argv[4]);
  if (!strcmp(m, "trickle") && argc == 5) return trickle_mode(argv[2], atoi(argv[3]), atoi(argv[4]));
  if (!strcmp(m, "sink") && argc == 3) return sink_mode(argv[2]);
  if (!strcmp(m, "blast") && argc == 4) return blast_mode(argv[2], atol(argv[3]));
  if (!strcmp(m, "hmac") && argc == 3) return hmac_mode(atol(argv[2]));
  fprintf(stderr, "usage: see the comment at the top of tests/migrate/nettool.cpp\n");
  return 2;
}
