// Unix socketpairs (stream, datagram, seqpacket) with the data queued in both
// directions. The peer of a socket comes from sock_diag (NETLINK_SOCK_DIAG,
// UDIAG_SHOW_PEER; include/uapi/linux/unix_diag.h). Its receive queue is read
// without consuming it: pidfd_getfd(2) gives chkpt the very socket, and
// recv(MSG_PEEK) with SO_PEEK_OFF walks the queue (net/unix/af_unix.c honours the
// peek offset for all three types); the offset is put back afterwards. At restore
// rstrt makes a socketpair per saved pair and sends each end's queue from the other.
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "codec.h"
#include "process.h"

namespace {
constexpr size_t kMsgBuf = 256 << 10;

// Netlink and sock_diag ABI (include/uapi/linux/netlink.h, rtnetlink.h,
// sock_diag.h, unix_diag.h); musl ships no kernel headers.
constexpr int kNetlinkSockDiag = 4, kSockDiagByFamily = 20, kNlmsgError = 2, kNlmRequest = 1;
constexpr uint32_t kShowName = 1, kShowPeer = 4;
constexpr uint16_t kAttrName = 0, kAttrPeer = 2;
struct NlMsgHdr { uint32_t len; uint16_t type, flags; uint32_t seq, pid; };
struct UnixDiagReq { uint8_t family, protocol; uint16_t pad; uint32_t states, ino, show, cookie[2]; };
struct UnixDiagMsg { uint8_t family, type, state, pad; uint32_t ino, cookie[2]; };
struct RtAttr { uint16_t len, type; };
constexpr size_t align4(size_t n) { return (n + 3) & ~(size_t)3; }

struct DiagInfo {
  uint64_t peer = 0;
  bool named = false;
  uint8_t state = 0;
};

Err parse_diag(const uint8_t *buf, long n, DiagInfo *out) {
  const NlMsgHdr *h = reinterpret_cast<const NlMsgHdr *>(buf);
  if (n < (long)sizeof *h || h->len > (uint32_t)n || h->len < sizeof *h) return errf("sock_diag: short answer");
  if (h->type == kNlmsgError) return errf("sock_diag: %s", strerror(-*reinterpret_cast<const int32_t *>(h + 1)));
  if (h->len < sizeof *h + sizeof(UnixDiagMsg)) return errf("sock_diag: short answer");
  const UnixDiagMsg *m = reinterpret_cast<const UnixDiagMsg *>(h + 1);
  out->state = m->state;
  for (size_t at = sizeof *h + sizeof *m; at + sizeof(RtAttr) <= h->len;) {
    const RtAttr *a = reinterpret_cast<const RtAttr *>(buf + at);
    if (a->len < sizeof *a || at + a->len > h->len) break;
    if (a->type == kAttrPeer && a->len >= sizeof *a + 4) out->peer = load_le32(buf + at + sizeof *a);
    if (a->type == kAttrName) out->named = true;
    at += align4(a->len);
  }
  return ok();
}

Err diag(uint64_t ino, DiagInfo *out) {
  Fd nl(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, kNetlinkSockDiag));
  if (!nl.ok()) return sys_err("sock_diag socket");
  struct {
    NlMsgHdr h;
    UnixDiagReq r;
  } req = {};
  req.h.len = sizeof req;
  req.h.type = kSockDiagByFamily;
  req.h.flags = kNlmRequest;
  req.r.family = AF_UNIX;
  req.r.states = ~0u;
  req.r.ino = (uint32_t)ino;
  req.r.show = kShowPeer | kShowName;
  req.r.cookie[0] = req.r.cookie[1] = ~0u;
  if (send(nl.get(), &req, sizeof req, 0) < 0) return sys_err("sock_diag request");
  uint8_t buf[4096];
  long n = recv(nl.get(), buf, sizeof buf, 0);
  if (n < 0) return sys_err("sock_diag answer");
  return parse_diag(buf, n, out);
}

// Peek every queued message (or, for a stream, every queued byte). Datagram
// messages are stored as u32 length + bytes.
Err peek_queue(int sk, uint32_t type, Str *out) {
  int saved_off = -1;
  socklen_t sl = sizeof saved_off;
  getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &saved_off, &sl);
  int zero = 0;
  if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) < 0) return sys_err("SO_PEEK_OFF");
  Vec<char> acc;
  char *buf = static_cast<char *>(malloc(kMsgBuf));
  Err e = buf ? ok() : errf("out of memory");
  while (!e) {
    char ctl[256];
    struct iovec iov = {buf, kMsgBuf};
    struct msghdr mh = {};
    mh.msg_iov = &iov; mh.msg_iovlen = 1; mh.msg_control = ctl; mh.msg_controllen = sizeof ctl;
    ssize_t n = recvmsg(sk, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) { e = sys_err("peeking a socket queue"); break; }
    if (n == 0 && type == SOCK_STREAM) break;
    if (mh.msg_controllen) { e = errf("a unix socket holds passed file descriptors or credentials: not supported yet"); break; }
    if ((size_t)n > kMsgBuf) { e = errf("a queued datagram is larger than %zu bytes", kMsgBuf); break; }
    if (type != SOCK_STREAM) { uint8_t l[4]; store_le32(l, (uint32_t)n); for (uint8_t c : l) acc.push((char)c); }
    for (ssize_t i = 0; i < n; i++) acc.push(buf[i]);
  }
  free(buf);
  setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &saved_off, sizeof saved_off);
  if (!e) *out = Str(acc.begin(), acc.size());
  return e;
}

Err send_queue(int from, const FdescRec &to) {
  const uint8_t *p = reinterpret_cast<const uint8_t *>(to.data.c());
  size_t n = to.data.size();
  if (to.sock_type == SOCK_STREAM) return n ? write_full(from, p, n) : ok();
  for (size_t at = 0; at + 4 <= n;) {
    uint32_t len = load_le32(p + at);
    if (len > n - at - 4) return bad_image("a queued datagram overruns its socket's data");
    if (send(from, p + at + 4, len, 0) != (ssize_t)len) return sys_err("re-queueing a datagram");
    at += 4 + len;
  }
  return ok();
}

int desc_with_ino(const SetImage &set, uint64_t ino) {
  for (size_t i = 0; i < set.fdescs.size(); i++)
    if (set.fdescs[i].kind == FileKind::UnixSocket && set.fdescs[i].ino == ino) return (int)i;
  return -1;
}

Err place(int fd, const FdescRec &f, int above, int *out) {
  *out = fcntl(fd, F_DUPFD, above);
  if (*out < 0) return sys_err("placing a socket");
  if (fcntl(*out, F_SETFL, (int)(f.flags & O_NONBLOCK)) < 0) return sys_err("socket flags");
  return ok();
}
}  // namespace

Err dump_unix_socket(int pid, int fd, FdescRec *f) {
  Fd pidfd(syscall(SYS_pidfd_open, pid, 0));
  if (!pidfd.ok()) return sys_err("pidfd_open %d", pid);
  Fd sk(syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0));
  if (!sk.ok()) return sys_err("pidfd_getfd of process %d fd %d", pid, fd);
  int domain = 0, type = 0;
  socklen_t l = sizeof domain;
  getsockopt(sk.get(), SOL_SOCKET, SO_DOMAIN, &domain, &l);
  l = sizeof type;
  getsockopt(sk.get(), SOL_SOCKET, SO_TYPE, &type, &l);
  if (domain != AF_UNIX) return errf("process %d fd %d: sockets of family %d are not supported yet", pid, fd, domain);
  DiagInfo di;
  TRY(diag(f->ino, &di));
  if (di.named) return errf("process %d fd %d: named (bound) unix sockets are not supported yet", pid, fd);
  if (di.state == 10 /* TCP_LISTEN */) return errf("process %d fd %d: listening sockets are not supported yet", pid, fd);
  f->sock_type = (uint32_t)type;
  f->peer = di.peer;
  return peek_queue(sk.get(), (uint32_t)type, &f->data);
}

Err open_unix_sockets(const SetImage &set, int above, Vec<int> *fds) {
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdescRec &a = set.fdescs[i];
    if (a.kind != FileKind::UnixSocket || (*fds)[i] >= 0) continue;
    int sv[2];
    if (socketpair(AF_UNIX, (int)a.sock_type | SOCK_CLOEXEC, 0, sv) < 0) return sys_err("socketpair");
    Fd s0(sv[0]), s1(sv[1]);
    int b = a.peer ? desc_with_ino(set, a.peer) : -1;
    TRY(send_queue(s1.get(), a));  // a's receive queue came from its peer
    if (b >= 0) TRY(send_queue(s0.get(), set.fdescs[b]));
    TRY(place(s0.get(), a, above, &(*fds)[i]));
    if (b >= 0) TRY(place(s1.get(), set.fdescs[b], above, &(*fds)[b]));
  }
  return ok();
}
