// IPv4 and IPv6 sockets that hold no connection: TCP sockets listening (with
// no connection waiting to be accepted), bound or not yet bound; UDP sockets,
// bound and connected, with nothing queued. Made anew at restore in rstrt's
// network namespace with their options, address and backlog. (Established TCP
// connections, queued datagrams and connections waiting in the accept queue
// are refused at checkpoint: they need TCP_REPAIR / a copy of the queue.)
//
// Payload: u32 family, type, protocol, state (0 fresh, 1 bound, 2 listening,
// 3 bound and connected: UDP), u32 backlog, blob local address, blob peer
// address (struct sockaddr_in/_in6 as the kernel has them), u32 n, then n x
// (u32 level, u32 name, i32 value) options; empty blob.
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "model.h"

namespace {
enum State : uint32_t { kFresh = 0, kBound = 1, kListening = 2, kConnected = 3 };
constexpr int kTcpListen = 10, kTcpClose = 7;  // include/net/tcp_states.h

// The options saved, in the order they are set again (IPV6_V6ONLY and the
// reuse flags before bind). Buffer sizes are as getsockopt reports them (the
// kernel's doubled value: halved when set, socket(7)).
const struct { int level, name; } kOptions[] = {
    {IPPROTO_IPV6, IPV6_V6ONLY}, {SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_REUSEPORT},
    {SOL_SOCKET, SO_KEEPALIVE},  {SOL_SOCKET, SO_BROADCAST}, {SOL_SOCKET, SO_OOBINLINE},
    {SOL_SOCKET, SO_PRIORITY},   {SOL_SOCKET, SO_RCVLOWAT},  {SOL_SOCKET, SO_SNDBUF},
    {SOL_SOCKET, SO_RCVBUF},     {IPPROTO_TCP, TCP_NODELAY}, {IPPROTO_TCP, TCP_KEEPIDLE},
    {IPPROTO_TCP, TCP_KEEPINTVL}, {IPPROTO_TCP, TCP_KEEPCNT}, {IPPROTO_TCP, TCP_DEFER_ACCEPT},
    {IPPROTO_IP, IP_TOS},        {IPPROTO_IP, IP_TTL},       {IPPROTO_IP, IP_FREEBIND},
};

struct InetFields {
  uint32_t family = 0, type = 0, protocol = 0, state = 0, backlog = 0;
  struct sockaddr_storage local = {}, peer = {};
  uint32_t local_len = 0, peer_len = 0;
  struct Opt { uint32_t level, name; int32_t value; } opts[sizeof kOptions / sizeof *kOptions];
  uint32_t nopts = 0;
};

bool fields(const FdescRec &f, InetFields *s) {
  Dec d = payload_of(f);
  s->family = d.u32(); s->type = d.u32(); s->protocol = d.u32(); s->state = d.u32(); s->backlog = d.u32();
  const uint8_t *a = d.blob(&s->local_len, sizeof s->local);
  if (a) memcpy(&s->local, a, s->local_len);
  a = d.blob(&s->peer_len, sizeof s->peer);
  if (a) memcpy(&s->peer, a, s->peer_len);
  s->nopts = d.u32();
  if (s->nopts > sizeof s->opts / sizeof *s->opts) return false;
  for (uint32_t i = 0; i < s->nopts; i++) {
    s->opts[i].level = d.u32();
    s->opts[i].name = d.u32();
    s->opts[i].value = (int32_t)d.u32();
  }
  uint32_t n;
  d.blob(&n, 0);
  return payload_done(d);
}

bool match(const FdProbe &p) { return p.sock_family == AF_INET || p.sock_family == AF_INET6; }

int int_opt(int sk, int level, int name, bool *okay) {
  int v = 0;
  socklen_t l = sizeof v;
  *okay = getsockopt(sk, level, name, &v, &l) == 0;
  return v;
}

// Where a TCP socket is: listening (and how many wait to be accepted, its
// backlog: tcp_get_info fills tcpi_unacked/tcpi_sacked so for listeners),
// closed, or anything else (a connection).
Err tcp_state(const FdProbe &p, int sk, InetFields *s) {
  struct tcp_info ti = {};
  socklen_t l = sizeof ti;
  if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0) return sys_err("TCP_INFO of process %d fd %d", p.pid, p.fd);
  if (ti.tcpi_state == kTcpListen) {
    if (ti.tcpi_unacked)
      return errf("process %d fd %d: a listening TCP socket with %u connections not yet accepted: not supported yet",
                  p.pid, p.fd, ti.tcpi_unacked);
    s->state = kListening;
    s->backlog = ti.tcpi_sacked;
    return ok();
  }
  if (ti.tcpi_state != kTcpClose)
    return errf("process %d fd %d: an established TCP connection (state %u): not supported yet", p.pid, p.fd,
                ti.tcpi_state);
  return ok();
}

Err dump(const FdProbe &p, FdescRec *f) {
  Fd pidfd(syscall(SYS_pidfd_open, p.pid, 0));
  Fd sk(pidfd.ok() ? syscall(SYS_pidfd_getfd, pidfd.get(), p.fd, 0) : -1);
  if (!sk.ok()) return sys_err("pidfd_getfd of process %d fd %d", p.pid, p.fd);
  InetFields s;
  bool okay;
  s.family = (uint32_t)p.sock_family;
  s.type = (uint32_t)int_opt(sk.get(), SOL_SOCKET, SO_TYPE, &okay);
  s.protocol = (uint32_t)int_opt(sk.get(), SOL_SOCKET, SO_PROTOCOL, &okay);
  if (s.protocol != IPPROTO_TCP && s.protocol != IPPROTO_UDP)
    return errf("process %d fd %d: IP sockets of protocol %u (raw, SCTP, ...) are not supported", p.pid, p.fd, s.protocol);
  socklen_t l = sizeof s.local;
  if (getsockname(sk.get(), (struct sockaddr *)&s.local, &l) < 0) return sys_err("getsockname");
  s.local_len = l;
  bool bound = s.family == AF_INET ? ((struct sockaddr_in *)&s.local)->sin_port != 0
                                   : ((struct sockaddr_in6 *)&s.local)->sin6_port != 0;
  s.state = bound ? kBound : kFresh;
  if (s.protocol == IPPROTO_TCP) {
    TRY(tcp_state(p, sk.get(), &s));
  } else {
    l = sizeof s.peer;
    if (getpeername(sk.get(), (struct sockaddr *)&s.peer, &l) == 0) { s.peer_len = l; s.state = kConnected; }
    int queued = 0;
    if (ioctl(sk.get(), FIONREAD, &queued) == 0 && queued > 0)
      return errf("process %d fd %d: a UDP socket with datagrams queued: not supported yet", p.pid, p.fd);
  }
  for (auto &o : kOptions) {
    int v = int_opt(sk.get(), o.level, o.name, &okay);
    if (okay) s.opts[s.nopts++] = {(uint32_t)o.level, (uint32_t)o.name, v};
  }
  uint8_t head[1024];
  Enc e(head, sizeof head);
  e.u32(s.family); e.u32(s.type); e.u32(s.protocol); e.u32(s.state); e.u32(s.backlog);
  e.blob(&s.local, s.local_len);
  e.blob(&s.peer, s.peer_len);
  e.u32(s.nopts);
  for (uint32_t i = 0; i < s.nopts; i++) { e.u32(s.opts[i].level); e.u32(s.opts[i].name); e.u32((uint32_t)s.opts[i].value); }
  return set_payload(f, e, nullptr, 0);
}

bool valid(const FdescRec &f) {
  InetFields s;
  if (!fields(f, &s) || (s.family != AF_INET && s.family != AF_INET6) || s.state > kConnected) return false;
  if (s.protocol != IPPROTO_TCP && s.protocol != IPPROTO_UDP) return false;
  socklen_t want = s.family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
  return (s.state == kFresh || s.local_len == want) && (s.state != kConnected || s.peer_len == want);
}

// The option as it was; a buffer size as SO_*BUFFORCE where rstrt may.
Err set_option(int sk, const InetFields::Opt &o) {
  int v = o.value;
  if (o.level == SOL_SOCKET && (o.name == SO_SNDBUF || o.name == SO_RCVBUF)) {
    v /= 2;
    if (setsockopt(sk, SOL_SOCKET, o.name == SO_SNDBUF ? SO_SNDBUFFORCE : SO_RCVBUFFORCE, &v, sizeof v) == 0) return ok();
  }
  if (setsockopt(sk, (int)o.level, (int)o.name, &v, sizeof v) < 0)
    return sys_err("setsockopt(%u, %u) of a restored socket", o.level, o.name);
  return ok();
}

Err open_inet(OpenCtx &c, size_t i) {
  InetFields s;
  if (!fields(c.set.fdescs[i], &s)) return bad_image("socket description %u", (unsigned)i);
  Fd sk(socket((int)s.family, (int)s.type | SOCK_CLOEXEC, (int)s.protocol));
  if (!sk.ok()) return sys_err("socket");
  for (uint32_t k = 0; k < s.nopts; k++) TRY(set_option(sk.get(), s.opts[k]));
  if (s.state != kFresh && bind(sk.get(), (struct sockaddr *)&s.local, s.local_len) < 0) {
    char addr[64] = "?";
    const void *a = s.family == AF_INET ? (const void *)&((struct sockaddr_in *)&s.local)->sin_addr
                                        : (const void *)&((struct sockaddr_in6 *)&s.local)->sin6_addr;
    inet_ntop((int)s.family, a, addr, sizeof addr);
    unsigned port = ntohs(s.family == AF_INET ? ((struct sockaddr_in *)&s.local)->sin_port
                                              : ((struct sockaddr_in6 *)&s.local)->sin6_port);
    return sys_err("cannot bind a restored socket to %s port %u again", addr, port);
  }
  if (s.state == kListening && listen(sk.get(), (int)s.backlog) < 0) return sys_err("listen");
  if (s.state == kConnected && connect(sk.get(), (struct sockaddr *)&s.peer, s.peer_len) < 0)
    return sys_err("connecting a restored UDP socket");
  return c.place(i, sk.release());
}
}  // namespace

extern const FdKind kInetKind = {
    FileKind::Inet, "IP socket", match, dump, valid, open_inet, nullptr, nullptr, nullptr, nullptr,
};
