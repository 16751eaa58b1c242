#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "resolve.h"

namespace {
// ---- sockets -------------------------------------------------------------------

Err resolve(const char *hostport, bool passive, HostAddrs *out) {
  char host[256];
  uint16_t p;
  TRY(split_hostport(hostport, host, sizeof host, &p, kMigratePort));
  if (!host[0] && !passive) return errf("no host in '%s'", hostport);
  return resolve_host(host, p, passive, out);
}

Err set_opt(int fd, int level, int name, const void *v, socklen_t n, const char *what) {
  if (setsockopt(fd, level, name, v, n) < 0) return sys_err("setsockopt %s", what);
  return ok();
}

// ---- the handshake ---------------------------------------------------------------

constexpr uint8_t kMagic[8] = {'C', 'H', 'K', 'P', 'T', 'M', 'I', 'G'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHelloLen = 8 + 4 + kNonceLen;                 // server: magic, version, nonce
constexpr size_t kAuthLen = 8 + 4 + kNonceLen + kSha256Len;      // client: + its nonce and proof
constexpr size_t kVerdictLen = 4 + kSha256Len;                   // server: status, its proof
enum Verdict : uint32_t { kAccepted = 0, kWrongKey = 1, kBadVersion = 2 };

Err random_bytes(uint8_t *p, size_t n) {
  while (n) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys_err("getrandom");
    p += r;
    n -= (size_t)r;
  }
  return ok();
}

// HMAC(key, label || server nonce || client nonce): the proofs and the session key.
void bound_mac(const uint8_t *key, size_t key_len, const char *label, const uint8_t *snonce,
               const uint8_t *cnonce, uint8_t out[kSha256Len]) {
  HmacSha256 h(key, key_len);
  h.update(label, strlen(label) + 1);
  h.update(snonce, kNonceLen);
  h.update(cnonce, kNonceLen);
  h.final(out);
}

Err read_exact(int fd, void *p, size_t n, const char *what) {
  long r = read_full(fd, p, n);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return errf("timed out waiting for %s", what);
  if (r < 0) return sys_err("connection lost while waiting for %s", what);
  if ((size_t)r < n) return errf("the connection closed while waiting for %s", what);
  return ok();
}

// read_exact, but all of it by the deadline (now_ns), which a peer sending a
// byte now and then cannot push back (SO_RCVTIMEO counts per read).
Err read_by(int fd, uint8_t *p, size_t n, uint64_t deadline, int seconds, const char *what) {
  while (n) {
    uint64_t now = now_ns();
    struct pollfd pf = {fd, POLLIN, 0};
    if (now >= deadline || poll(&pf, 1, (int)((deadline - now) / 1000000 + 1)) == 0)
      return errf("no handshake within %d s (timed out waiting for %s)", seconds, what);
    ssize_t got = recv(fd, p, n, MSG_DONTWAIT);
    if (got <= 0) return read_exact(fd, p, n, what);  // the end, or an error: read_exact says which
    p += got;
    n -= (size_t)got;
  }
  return ok();
}

// Header, data and MAC of a frame in one system call where possible.
Err write_iov(int fd, struct iovec *iov, int cnt, const char *what) {
  while (cnt) {
    struct msghdr m = {};
    m.msg_iov = iov;
    m.msg_iovlen = cnt;
    ssize_t r = sendmsg(fd, &m, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return errf("timed out sending %s", what);
    if (r < 0) return sys_err("connection lost while sending %s", what);
    size_t left = (size_t)r;
    for (; cnt && left >= iov->iov_len; cnt--, iov++) left -= iov->iov_len;
    if (cnt) {
      iov->iov_base = static_cast<char *>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return ok();
}

Err write_exact(int fd, const void *p, size_t n, const char *what) {
  struct iovec v = {const_cast<void *>(p), n};
  return write_iov(fd, &v, 1, what);
}

// While sending the image the peer must stay silent: anything from it (a
// refusal), an end of file or an error ends the transfer.
Err peer_silent(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0 || !p.revents) return ok();
  char c;
  ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return errf("the destination stopped the transfer");
  if (n == 0) return errf("the destination closed the connection");
  if (errno == EAGAIN || errno == EINTR) return ok();
  return sys_err("connection lost");
}
}  // namespace

// ---- sockets ---------------------------------------------------------------------

Err split_hostport(const char *s, char *host, size_t cap, uint16_t *port, uint16_t def) {
  const char *h = s, *colon = nullptr;
  size_t hl;
  if (*s == '[') {
    const char *close = strchr(s, ']');
    if (!close || (close[1] && close[1] != ':')) return errf("bad address '%s' (expected [IPV6]:PORT)", s);
    h = s + 1;
    hl = (size_t)(close - h);
    colon = close[1] ? close + 1 : nullptr;
  } else {
    colon = strchr(s, ':');
    if (colon && strchr(colon + 1, ':')) colon = nullptr;  // a bare IPv6 address, no port
    hl = colon ? (size_t)(colon - s) : strlen(s);
  }
  if (hl >= cap) return errf("host name too long in '%s'", s);
  memcpy(host, h, hl);
  host[hl] = 0;
  *port = def;
  if (!colon) return ok();
  uint64_t p;
  if (!parse_u64(colon + 1, &p) || p == 0 || p > 65535) return errf("bad port in '%s'", s);
  *port = (uint16_t)p;
  return ok();
}

Err tcp_connect(const char *hostport, int timeout_s, Fd *out) {
  HostAddrs al;
  TRY(resolve(hostport, false, &al));
  Err last = errf("cannot connect to %s", hostport);
  for (int i = 0; i < al.n; i++) {
    Fd s(socket(al.addr[i].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.ok()) { last = sys_err("socket"); continue; }
    TRY(set_io_timeout(s.get(), timeout_s));  // Linux bounds a blocking connect by SO_SNDTIMEO
    if (connect(s.get(), (const struct sockaddr *)&al.addr[i], al.len[i]) < 0) {
      last = errno == EINPROGRESS || errno == EAGAIN ? errf("cannot connect to %s: timed out", hostport)
                                                    : sys_err("cannot connect to %s", hostport);
      continue;
    }
    int one = 1;  // the handshake and the reply are small messages waited for
    TRY(set_opt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one, "TCP_NODELAY"));
    *out = std::move(s);
    return ok();
  }
  return last;
}

Err tcp_listen(const char *addrport, Fd *out) {
  HostAddrs al;
  TRY(resolve(addrport, true, &al));
  Fd s(socket(al.addr[0].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.ok()) return sys_err("socket");
  int one = 1;
  TRY(set_opt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one, "SO_REUSEADDR"));
  if (bind(s.get(), (const struct sockaddr *)&al.addr[0], al.len[0]) < 0) return sys_err("cannot listen on %s", addrport);
  if (listen(s.get(), 64) < 0)  // room for clients waiting while the handshakes are full
    return sys_err("listen on %s", addrport);
  *out = std::move(s);
  return ok();
}

Err set_io_timeout(int fd, int seconds) {
  struct timeval tv = {seconds, 0};
  TRY(set_opt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv, "SO_RCVTIMEO"));
  return set_opt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv, "SO_SNDTIMEO");
}

void sock_name(int fd, bool peer, char *out, size_t cap) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  char a[INET6_ADDRSTRLEN] = "?";
  int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
  if (r < 0) { snprintf(out, cap, "unknown address"); return; }
  if (ss.ss_family == AF_INET) {
    auto *s4 = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
    snprintf(out, cap, "%s:%u", a, ntohs(s4->sin_port));
  } else {
    auto *s6 = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
    snprintf(out, cap, "[%s]:%u", a, ntohs(s6->sin6_port));
  }
}

// ---- the key -------------------------------------------------------------------

Err load_key(const char *path, Psk *k) {
  Fd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return sys_err("key file %s", path);
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return sys_err("key file %s", path);
  if (!S_ISREG(st.st_mode)) return errf("key file %s is not a regular file", path);
  if (st.st_mode & 077) return errf("key file %s is accessible by group or others (chmod 600 it)", path);
  long n = read_full(fd.get(), k->b, sizeof k->b);
  if (n < 0) return sys_err("key file %s", path);
  if (n < 16) return errf("key file %s holds %ld bytes; use at least 16 random bytes", path, n);
  if ((size_t)n == sizeof k->b) return errf("key file %s is larger than %zu bytes", path, sizeof k->b - 1);
  k->n = (size_t)n;
  return ok();
}

// ---- the authenticated stream ------------------------------------------------------

void Channel::derive(const Psk &k, const uint8_t *snonce, const uint8_t *cnonce) {
  bound_mac(k.b, k.n, "chkpt-migrate session", snonce, cnonce, key_);
  out_seq_ = in_seq_ = 0;
}

Err Channel::client_hello(int fd, const Psk &k) {
  fd_ = fd, me_ = 'C', peer_ = 'S';
  uint8_t hello[kHelloLen], auth[kAuthLen], verdict[kVerdictLen], want[kSha256Len];
  TRY(read_exact(fd, hello, sizeof hello, "the destination's greeting"));
  if (memcmp(hello, kMagic, 8) != 0) return errf("the peer is not a restartd (bad greeting)");
  if (load_le32(hello + 8) != kVersion)
    return errf("restartd speaks protocol version %u, this migrate %u", load_le32(hello + 8), kVersion);
  const uint8_t *snonce = hello + 12, *cnonce = auth + 12;
  memcpy(auth, kMagic, 8);
  store_le32(auth + 8, kVersion);
  TRY(random_bytes(auth + 12, kNonceLen));
  bound_mac(k.b, k.n, "chkpt-migrate client", snonce, cnonce, auth + 12 + kNonceLen);
  TRY(write_exact(fd, auth, sizeof auth, "the key proof"));
  TRY(read_exact(fd, verdict, sizeof verdict, "the destination's verdict on the key"));
  uint32_t status = load_le32(verdict);
  if (status == kWrongKey) return errf("the destination refused the key (the keys differ)");
  if (status != kAccepted) return errf("the destination refused the connection (status %u)", status);
  bound_mac(k.b, k.n, "chkpt-migrate server", snonce, cnonce, want);
  if (!equal_ct(want, verdict + 4, kSha256Len)) return errf("the destination did not prove it holds the key");
  derive(k, snonce, cnonce);
  return ok();
}

Err Channel::server_hello(int fd, const Psk &k, int deadline_s) {
  uint64_t deadline = now_ns() + (uint64_t)deadline_s * 1000000000u;
  fd_ = fd, me_ = 'S', peer_ = 'C';
  uint8_t hello[kHelloLen], auth[kAuthLen], verdict[kVerdictLen] = {}, want[kSha256Len];
  memcpy(hello, kMagic, 8);
  store_le32(hello + 8, kVersion);
  TRY(random_bytes(hello + 12, kNonceLen));  // fresh per connection: no recorded stream verifies
  TRY(write_exact(fd, hello, sizeof hello, "the greeting"));
  TRY(deadline_s ? read_by(fd, auth, sizeof auth, deadline, deadline_s, "the client's key proof")
                 : read_exact(fd, auth, sizeof auth, "the client's key proof"));
  const uint8_t *snonce = hello + 12, *cnonce = auth + 12;
  if (memcmp(auth, kMagic, 8) != 0) return errf("not a migrate client (bad greeting)");
  bool version_ok = load_le32(auth + 8) == kVersion;
  bound_mac(k.b, k.n, "chkpt-migrate client", snonce, cnonce, want);
  bool key_ok = equal_ct(want, auth + 12 + kNonceLen, kSha256Len);
  store_le32(verdict, !version_ok ? kBadVersion : !key_ok ? kWrongKey : kAccepted);
  if (version_ok && key_ok) bound_mac(k.b, k.n, "chkpt-migrate server", snonce, cnonce, verdict + 4);
  TRY(write_exact(fd, verdict, sizeof verdict, "the verdict"));
  if (!version_ok) return errf("refused: client speaks protocol version %u", load_le32(auth + 8));
  if (!key_ok) return errf("refused: wrong key");
  derive(k, snonce, cnonce);
  return ok();
}

void Channel::frame_mac(const uint8_t key[kSha256Len], uint8_t dir, uint64_t seq, const uint8_t hdr[8],
                        const void *data, uint32_t n, uint8_t out[kSha256Len]) {
  uint8_t s[9] = {dir};
  for (int i = 0; i < 8; i++) s[1 + i] = (uint8_t)(seq >> (8 * i));
  HmacSha256 h(key, kSha256Len);
  h.update(s, sizeof s);
  h.update(hdr, 8);
  h.update(data, n);
  h.final(out);
}

Err Channel::send(const void *p, uint32_t n, uint32_t flags) {
  uint8_t hdr[8], mac[kSha256Len];
  store_le32(hdr, n);
  store_le32(hdr + 4, flags);
  frame_mac(key_, me_, out_seq_++, hdr, p, n, mac);
  struct iovec iov[3] = {{hdr, 8}, {const_cast<void *>(p), n}, {mac, sizeof mac}};
  return write_iov(fd_, iov, 3, "the stream");
}

Err Channel::recv(uint8_t *buf, uint32_t cap, uint32_t *n, uint32_t *flags) {
  uint8_t hdr[8], mac[kSha256Len], want[kSha256Len];
  TRY(read_exact(fd_, hdr, sizeof hdr, "the next frame"));
  uint32_t len = load_le32(hdr);
  if (len > cap) return errf("frame %llu claims %u bytes (at most %u)", (unsigned long long)in_seq_, len, cap);
  TRY(read_exact(fd_, buf, len, "the rest of a frame"));
  TRY(read_exact(fd_, mac, sizeof mac, "the rest of a frame"));
  frame_mac(key_, peer_, in_seq_, hdr, buf, len, want);
  if (!equal_ct(want, mac, sizeof mac))
    return errf("frame %llu failed authentication (altered, or not from this session)", (unsigned long long)in_seq_);
  in_seq_++;
  *n = len;
  *flags = load_le32(hdr + 4);
  return ok();
}

Err send_reply(Channel &ch, const char *text) { return ch.send(text, (uint32_t)strlen(text), 0); }

Err recv_reply(Channel &ch, int timeout_s, char *text, size_t cap) {
  TRY(set_io_timeout(ch.fd(), timeout_s));
  uint32_t n, flags;
  TRY(ch.recv(reinterpret_cast<uint8_t *>(text), (uint32_t)cap - 1, &n, &flags));
  text[n] = 0;
  return ok();
}

// ---- the pumps ---------------------------------------------------------------------

Err pump_to_channel(int in_fd, Channel &ch, Progress *progress) {
  uint8_t *buf = static_cast<uint8_t *>(malloc(kFrameData));
  if (!buf) return errf("out of memory");
  Err e = ok();
  for (;;) {
    long n = read_full(in_fd, buf, kFrameData);
    if (n < 0) { e = sys_err("reading the image"); break; }
    if ((e = peer_silent(ch.fd()))) break;
    e = ch.send(buf, (uint32_t)n, n ? 0 : kFrameFinal);
    if (e || !n) break;
    if (progress) progress->add((uint64_t)n);
  }
  free(buf);
  return e;
}

namespace {
struct Held {  // a verified frame waiting for the next one to verify
  uint8_t *p = nullptr;
  uint32_t n = 0;
};

// The copy first: at the end it is synced before the restore may read the last
// frame, so a copy that cannot be made fails the migration before anything runs.
Err release(const Held &h, int out_fd, int copy_fd, bool last, int *side) {
  if (copy_fd >= 0) {
    Err e = write_full(copy_fd, h.p, h.n);
    if (!e && last && fsync(copy_fd) < 0) e = sys_err("fsync");
    if (e) {
      *side = kPumpCopy;
      return wrap(e, "keeping a copy of the image");
    }
  }
  if (write_full(out_fd, h.p, h.n)) {
    *side = kPumpOut;
    return errf("the restore stopped reading before the end of the stream");
  }
  return ok();
}
}  // namespace

Err pump_from_channel(Channel &ch, int out_fd, int copy_fd, int *side) {
  Held held, next;
  held.p = static_cast<uint8_t *>(malloc(kFrameMax));
  next.p = static_cast<uint8_t *>(malloc(kFrameMax));
  Err e = held.p && next.p ? ok() : errf("out of memory");
  *side = kPumpStream;
  while (!e) {
    uint32_t flags;
    e = ch.recv(next.p, kFrameMax, &next.n, &flags);
    if (e) break;
    bool last = flags & kFrameFinal;
    if (last && next.n) e = errf("the final frame carries data");
    if (!e) e = release(held, out_fd, copy_fd, last, side);
    if (e || last) break;
    std::swap(held, next);
  }
  free(held.p);
  free(next.p);
  return e;
}

// ---- helper processes -------------------------------------------------------------

Err Worker::start(Fn fn, void *ctx, int close_fd) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return sys_err("pipe");
  pid_ = fork();
  if (pid_ < 0) {
    close(p[0]);
    close(p[1]);
    return sys_err("fork");
  }
  if (pid_ == 0) {
    close(p[0]);
    close(close_fd);
    int code = 1;
    Err e = fn(ctx, &code);
    if (e) send_err(p[1], e);
    _exit(e ? code : 0);
  }
  close(p[1]);
  err_.reset(p[0]);
  return ok();
}

Err Worker::join(int *code) {
  int st = 0;
  while (waitpid(pid_, &st, 0) < 0)
    if (errno != EINTR) return sys_err("waiting for the helper process");
  pid_ = -1;
  Err e;
  bool sent = recv_err(err_.get(), &e);
  err_.reset();
  int c = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (code) *code = c;
  if (!c) return ok();
  if (sent) return e;
  return WIFSIGNALED(st) ? errf("helper process killed by signal %d", WTERMSIG(st)) : errf("helper process failed");
}

void Worker::kill_now_signal() {
  if (pid_ > 0) kill(pid_, SIGKILL);
}

void Worker::kill_now() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

// ---- progress -------------------------------------------------------------------

uint64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

Progress::Progress(const char *who, uint64_t expected, uint64_t show_from)
    : who_(who), expected_(expected), show_from_(show_from), start_ns_(now_ns()), last_ns_(start_ns_), on_(isatty(2)) {}

void Progress::add(uint64_t n) {
  bytes_ += n;
  if (!on_ || !large()) return;
  uint64_t t = now_ns();
  if (t - last_ns_ < 250000000u) return;
  last_ns_ = t;
  draw(false);
}

void Progress::done() {
  if (on_ && large()) draw(true);
}

void Progress::erase() {
  if (drawn_) outf(2, "\r\033[K");
  drawn_ = false;
}

void Progress::draw(bool last) {
  double secs = (double)(now_ns() - start_ns_) / 1e9, mib = (double)bytes_ / 1048576;
  double rate = secs > 0 ? mib / secs : 0;
  char eta[48] = "";
  if (!last && expected_ > bytes_ && rate > 0) {
    unsigned left = (unsigned)(((double)(expected_ - bytes_) / 1048576) / rate + 0.5);
    snprintf(eta, sizeof eta, ", ETA %u:%02u", left / 60, left % 60);
  }
  char total[48] = "";
  if (!last && expected_ > bytes_) snprintf(total, sizeof total, " of ~%.1f", (double)expected_ / 1048576);
  outf(2, "\r%s: %.1f%s MiB, %.0f MiB/s%s\033[K%s", who_, mib, total, rate, eta, last ? "\n" : "");
  drawn_ = !last;
}
