// IPv4 and IPv6 sockets: TCP sockets listening (with no connection waiting to
// be accepted), bound or not yet bound, and established connections (TCP
// repair mode); UDP sockets, bound and connected, with their queued datagrams
// (udp_queue.cpp). Made anew at restore in rstrt's network namespace with
// their options, address and backlog. (Connections waiting in the accept
// queue and closing ones are refused at checkpoint.)
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

#include "fd/udp_queue.h"
#include "image.h"
#include "model.h"

namespace {
// kAborted: an established TCP connection dropped on purpose (--tcp-close):
// made again as a socket whose connection was aborted, nothing sent.
enum State : uint32_t { kFresh = 0, kBound = 1, kListening = 2, kConnected = 3, kEstablished = 4, kAborted = 5 };
constexpr int kTcpEstablished = 1, kTcpListen = 10, kTcpClose = 7;  // include/net/tcp_states.h
// TCP repair mode (include/uapi/linux/tcp.h; CAP_NET_ADMIN): a socket in it
// sends nothing, and its sequence numbers, queues, options and window can be
// read and set.
constexpr int kTcpRepair = 19, kTcpRepairQueue = 20, kTcpQueueSeq = 21, kTcpRepairOptions = 22,
              kTcpTimestamp = 24, kTcpRepairWindow = 29;
constexpr int kRecvQueue = 1, kSendQueue = 2, kRepairOffNoProbe = -1;
constexpr uint32_t kOptMss = 2, kOptWindow = 3, kOptSackPerm = 4, kOptTimestamp = 8;  // TCPOPT_*
constexpr uint8_t kInfoTimestamps = 1, kInfoSack = 2, kInfoWscale = 4;  // TCPI_OPT_*

// An established connection, as repair mode shows it (CRIU's approach): the
// first sequence number of each queue, the queues' bytes, the options agreed
// in the handshake, the timestamp clock and the window.
struct Repair {
  uint32_t snd_seq = 0, rcv_seq = 0, sndq = 0, rcvq = 0;
  uint32_t mss = 0, opts = 0, snd_wscale = 0, rcv_wscale = 0, timestamp = 0;
  uint32_t window[5] = {};  // struct tcp_repair_window: snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup
};

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
  Repair tcp;
  const uint8_t *queues = nullptr;  // TCP: the send queue's bytes, then the receive queue's; UDP: datagrams
  uint32_t queues_len = 0;
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
  Repair &r = s->tcp;
  for (uint32_t *v : {&r.snd_seq, &r.rcv_seq, &r.sndq, &r.rcvq, &r.mss, &r.opts, &r.snd_wscale, &r.rcv_wscale, &r.timestamp})
    *v = d.u32();
  for (uint32_t &w : r.window) w = d.u32();
  s->queues = d.blob(&s->queues_len, kMaxRecord);
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
      return errk(ErrKind::Busy, "process %d fd %d: a listening TCP socket with %u connections not yet accepted",
                  p.pid, p.fd, ti.tcpi_unacked);
    s->state = kListening;
    s->backlog = ti.tcpi_sacked;
    return ok();
  }
  if (ti.tcpi_state != kTcpClose && p.tcp_close) {  // established or closing: dropped
    s->state = kAborted;
    return ok();
  }
  if (ti.tcpi_state == kTcpEstablished) {
    s->state = kEstablished;
    s->tcp.opts = ti.tcpi_options;
    s->tcp.snd_wscale = ti.tcpi_snd_wscale;
    s->tcp.rcv_wscale = ti.tcpi_rcv_wscale;
    return ok();
  }
  if (ti.tcpi_state != kTcpClose)
    return errf("process %d fd %d: a TCP connection that is closing (state %u): not supported yet", p.pid, p.fd,
                ti.tcpi_state);
  return ok();
}

Err repair_opt(int sk, int name, int v, const char *what) {
  return setsockopt(sk, IPPROTO_TCP, name, &v, sizeof v) < 0 ? sys_err("%s", what) : ok();
}

uint32_t get_u32(int sk, int name) {
  uint32_t v = 0;
  socklen_t l = sizeof v;
  getsockopt(sk, IPPROTO_TCP, name, &v, &l);
  return v;
}

// One queue: its first sequence number and its bytes (peeked: nothing consumed).
Err read_queue(int sk, int queue, int size_ioctl, uint32_t *seq, Vec<uint8_t> *out, uint32_t *len) {
  TRY(repair_opt(sk, kTcpRepairQueue, queue, "TCP_REPAIR_QUEUE"));
  uint32_t end = get_u32(sk, kTcpQueueSeq);
  int n = 0;
  if (ioctl(sk, size_ioctl, &n) < 0 || n < 0) return sys_err("TCP queue size");
  size_t at = out->size();
  for (int i = 0; i < n; i++) out->push(0);
  if (n && recv(sk, out->begin() + at, (size_t)n, MSG_PEEK | MSG_DONTWAIT) != n) return sys_err("reading a TCP queue");
  *seq = end - (uint32_t)n;
  *len = (uint32_t)n;
  return ok();
}

// Repair mode stays on in the frozen process until it is released (or dies
// without sending anything: a killed socket in repair mode closes silently),
// so nothing is acknowledged after this snapshot.
Err dump_established(const FdProbe &p, int sk, InetFields *s, Vec<uint8_t> *queues) {
  if (repair_opt(sk, kTcpRepair, 1, "TCP_REPAIR"))
    return sys_err("process %d fd %d: TCP repair mode for an established connection (needs CAP_NET_ADMIN)", p.pid, p.fd);
  p.repaired->push(p.pid);
  p.repaired->push(p.fd);
  Repair &r = s->tcp;
  TRY(read_queue(sk, kSendQueue, TIOCOUTQ, &r.snd_seq, queues, &r.sndq));
  TRY(read_queue(sk, kRecvQueue, FIONREAD, &r.rcv_seq, queues, &r.rcvq));
  r.mss = get_u32(sk, TCP_MAXSEG);
  r.timestamp = get_u32(sk, kTcpTimestamp);
  socklen_t l = sizeof r.window;
  if (getsockopt(sk, IPPROTO_TCP, kTcpRepairWindow, r.window, &l) < 0) return sys_err("TCP_REPAIR_WINDOW");
  l = sizeof s->peer;
  if (getpeername(sk, (struct sockaddr *)&s->peer, &l) < 0) return sys_err("getpeername");
  s->peer_len = l;
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
  Vec<uint8_t> queues;
  if (s.protocol == IPPROTO_TCP) {
    TRY(tcp_state(p, sk.get(), &s));
    if (s.state == kEstablished) TRY(dump_established(p, sk.get(), &s, &queues));
    l = sizeof s.peer;
    if (s.state == kAborted && getpeername(sk.get(), (struct sockaddr *)&s.peer, &l) == 0) s.peer_len = l;
    if (s.state == kAborted && !s.peer_len) s.state = kFresh;  // closing, already without a peer
  } else {
    l = sizeof s.peer;
    if (getpeername(sk.get(), (struct sockaddr *)&s.peer, &l) == 0) { s.peer_len = l; s.state = kConnected; }
    TRY(dump_udp_queue(p.pid, p.fd, sk.get(), &queues));
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
  const Repair &r = s.tcp;
  for (uint32_t v : {r.snd_seq, r.rcv_seq, r.sndq, r.rcvq, r.mss, r.opts, r.snd_wscale, r.rcv_wscale, r.timestamp}) e.u32(v);
  for (uint32_t w : r.window) e.u32(w);
  return set_payload(f, e, queues.begin(), (uint32_t)queues.size());
}

bool valid(const FdescRec &f) {
  InetFields s;
  if (!fields(f, &s) || (s.family != AF_INET && s.family != AF_INET6) || s.state > kAborted) return false;
  if (s.protocol != IPPROTO_TCP && s.protocol != IPPROTO_UDP) return false;
  if (s.protocol == IPPROTO_UDP ? (s.state >= kListening && s.state != kConnected) || s.tcp.sndq || s.tcp.rcvq ||
                                      (s.state == kFresh && s.queues_len) || !udp_queue_valid(s.queues, s.queues_len, s.family)
                                : (uint64_t)s.tcp.sndq + s.tcp.rcvq != s.queues_len || (s.state != kEstablished && s.queues_len))
    return false;
  socklen_t want = s.family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
  bool has_peer = s.state == kConnected || s.state >= kEstablished;
  return (s.state == kFresh || s.local_len == want) && (!has_peer || s.peer_len == want);
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

// Bytes into one queue: a receive queue takes at most MAX_SKB_FRAGS pages a
// call (net/ipv4/tcp.c tcp_send_rcvq), so in a loop, never waiting.
Err refill(int sk, int queue, const uint8_t *p, uint32_t n, const char *which) {
  TRY(repair_opt(sk, kTcpRepairQueue, queue, "TCP_REPAIR_QUEUE"));
  for (uint32_t at = 0; at < n;) {
    ssize_t k = send(sk, p + at, n - at, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (k <= 0) return k < 0 ? sys_err("refilling a TCP %s queue", which) : errf("refilling a TCP %s queue: no room", which);
    at += (uint32_t)k;
  }
  return ok();
}

// An established connection made again in repair mode: no handshake, the
// peer sees nothing; then the same sequence numbers, queues, options, clock
// and window, and repair off (without a window probe).
Err restore_established(int sk, const InetFields &s) {
  const Repair &r = s.tcp;
  TRY(repair_opt(sk, kTcpRepairQueue, kSendQueue, "TCP_REPAIR_QUEUE"));
  TRY(repair_opt(sk, kTcpQueueSeq, (int)r.snd_seq, "TCP_QUEUE_SEQ"));
  TRY(repair_opt(sk, kTcpRepairQueue, kRecvQueue, "TCP_REPAIR_QUEUE"));
  TRY(repair_opt(sk, kTcpQueueSeq, (int)r.rcv_seq, "TCP_QUEUE_SEQ"));
  // The segment size as it was: repair-mode connect sizes segments from it
  // (tcp_connect_init), where the handshake's options are not set yet.
  if (r.mss >= 88) (void)repair_opt(sk, TCP_MAXSEG, (int)r.mss, "TCP_MAXSEG");
  if (connect(sk, (struct sockaddr *)&s.peer, s.peer_len) < 0) return sys_err("reconnecting a TCP connection");
  struct { uint32_t code, val; } opts[4];
  int n = 0;
  opts[n++] = {kOptMss, r.mss};
  if (r.opts & kInfoWscale) opts[n++] = {kOptWindow, r.snd_wscale | r.rcv_wscale << 16};
  if (r.opts & kInfoSack) opts[n++] = {kOptSackPerm, 0};
  if (r.opts & kInfoTimestamps) opts[n++] = {kOptTimestamp, 0};
  if (setsockopt(sk, IPPROTO_TCP, kTcpRepairOptions, opts, n * sizeof *opts) < 0) return sys_err("TCP_REPAIR_OPTIONS");
  if ((r.opts & kInfoTimestamps) && setsockopt(sk, IPPROTO_TCP, kTcpTimestamp, &r.timestamp, sizeof r.timestamp) < 0)
    return sys_err("TCP_TIMESTAMP");
  TRY(refill(sk, kSendQueue, s.queues, r.sndq, "send"));
  TRY(refill(sk, kRecvQueue, s.queues + r.sndq, r.rcvq, "receive"));
  if (setsockopt(sk, IPPROTO_TCP, kTcpRepairWindow, r.window, sizeof r.window) < 0) return sys_err("TCP_REPAIR_WINDOW");
  if (repair_opt(sk, kTcpRepair, kRepairOffNoProbe, "TCP_REPAIR off")) TRY(repair_opt(sk, kTcpRepair, 0, "TCP_REPAIR off"));
  return ok();
}

// tcp_disconnect (net/ipv4/tcp.c) of a socket in repair mode sends nothing
// and leaves ECONNABORTED for its next call: the connection as if aborted.
// Without CAP_NET_ADMIN, a socket never connected (ENOTCONN) is the closest.
Err open_aborted(OpenCtx &c, size_t i, Fd sk) {
  if (!repair_opt(sk.get(), kTcpRepair, 1, "TCP_REPAIR")) {
    struct sockaddr unspec = {};
    unspec.sa_family = AF_UNSPEC;
    if (connect(sk.get(), &unspec, sizeof unspec) < 0) return sys_err("aborting a restored TCP connection");
    TRY(repair_opt(sk.get(), kTcpRepair, 0, "TCP_REPAIR off"));
  }
  return c.place(i, sk.release());
}

Err open_inet(OpenCtx &c, size_t i) {
  InetFields s;
  if (!fields(c.set.fdescs[i], &s)) return bad_image("socket description %u", (unsigned)i);
  Fd sk(socket((int)s.family, (int)s.type | SOCK_CLOEXEC, (int)s.protocol));
  if (!sk.ok()) return sys_err("socket");
  for (uint32_t k = 0; k < s.nopts; k++) TRY(set_option(sk.get(), s.opts[k]));
  if (s.state == kAborted || (s.state == kEstablished && c.tcp_close)) return open_aborted(c, i, std::move(sk));
  // After the options: repair mode makes the address reusable (SK_FORCE_REUSE),
  // as the listener it was accepted from holds the same, and SO_REUSEADDR
  // would undo that.
  if (s.state == kEstablished && repair_opt(sk.get(), kTcpRepair, 1, "TCP_REPAIR"))
    return sys_err("TCP repair mode (restoring an established connection needs CAP_NET_ADMIN)");
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
  if (s.state == kEstablished) TRY(restore_established(sk.get(), s));
  if (s.protocol == IPPROTO_UDP && s.queues_len) TRY(restore_udp_queue(sk.get(), s.queues, s.queues_len));
  return c.place(i, sk.release());
}
}  // namespace

Err tcp_leave_repair(const Vec<int> &repaired) {
  Err first = ok();
  for (size_t i = 0; i + 1 < repaired.size(); i += 2) {
    Fd pidfd(syscall(SYS_pidfd_open, repaired[i], 0));
    Fd sk(pidfd.ok() ? syscall(SYS_pidfd_getfd, pidfd.get(), repaired[i + 1], 0) : -1);
    Err e = sk.ok() ? ok() : sys_err("TCP repair mode of process %d fd %d", repaired[i], repaired[i + 1]);
    if (!e && repair_opt(sk.get(), kTcpRepair, kRepairOffNoProbe, "TCP_REPAIR off")) e = repair_opt(sk.get(), kTcpRepair, 0, "TCP_REPAIR off");
    if (e && !first) first = e;
  }
  return first;
}

extern const FdKind kInetKind = {
    FileKind::Inet, "IP socket", match, dump, valid, open_inet, nullptr, nullptr, nullptr, nullptr,
};
