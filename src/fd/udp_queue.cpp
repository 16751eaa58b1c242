// The datagrams queued on a UDP socket (part of the IP socket kind, inet.cpp):
// read at checkpoint without being consumed, queued again at restore with the
// addresses they came from.
//
// Reading: SO_PEEK_OFF makes each MSG_PEEK start where the last one ended
// (socket(7); net/ipv4/udp.c udp_recvmsg moves sk_peek_off by what was read),
// so peeking each datagram whole walks the queue; the socket's own peek offset
// is put back afterwards.
//
// Queuing again: the sender may be anyone (a client on another host, a socket
// of the set whose port is taken again, a process still running here), so no
// socket can be bound to its address. Each datagram is sent instead as a whole
// IP packet from a raw socket (IP_HDRINCL / IPV6_HDRINCL; CAP_NET_RAW), with
// the sender's address and port as its source, to the restored socket's own
// address. Looped back locally, it keeps the route it was sent with
// (drivers/net/loopback.c), so a foreign source is delivered too.
//
// Encoding, inside the IP socket's data blob: per datagram `u32 address
// length`, the sender's struct sockaddr_in/_in6, `u32 length`, the bytes.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec.h"
#include "fd/udp_queue.h"
#include "image.h"

namespace {
constexpr uint32_t kMaxDatagram = 65535;  // an IP packet's length field
constexpr int kIpv6HdrIncl = 36;          // IPV6_HDRINCL, include/uapi/linux/in6.h

// Visits each queued datagram in order, restoring the socket's peek offset.
template <typename Visit>
Err peek_each(int sk, uint8_t *buf, Visit visit) {
  int old = -1;
  socklen_t l = sizeof old;
  if (getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &old, &l) < 0) return sys_err("SO_PEEK_OFF of a UDP socket");
  int zero = 0;
  if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) < 0) return sys_err("SO_PEEK_OFF of a UDP socket");
  Err e = ok();
  for (;;) {
    struct sockaddr_storage from = {};
    struct iovec iov = {buf, kMaxDatagram};
    struct msghdr m = {};
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    ssize_t n = recvmsg(sk, &m, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno != EAGAIN) e = sys_err("reading a UDP socket's queue");
      break;
    }
    if ((size_t)n > kMaxDatagram) { e = errf("a queued datagram of %zd bytes", n); break; }
    e = visit(from, m.msg_namelen, buf, (uint32_t)n);
    if (e) break;
  }
  setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &old, sizeof old);
  return e;
}

uint16_t ones_sum(const uint8_t *p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)p[i] << 8 | p[i + 1];
  if (n & 1) sum += (uint32_t)p[n - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)sum;
}

void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

// An IPv4 address the datagram can be sent with: AF_INET, or IPv4 mapped
// into IPv6 (::ffff:a.b.c.d, a dual-stack socket's view of an IPv4 peer).
bool as_ipv4(const struct sockaddr_storage &a, struct in_addr *ip, uint16_t *port) {
  if (a.ss_family == AF_INET) {
    auto &s = (const struct sockaddr_in &)a;
    *ip = s.sin_addr; *port = s.sin_port;
    return true;
  }
  auto &s = (const struct sockaddr_in6 &)a;
  if (!IN6_IS_ADDR_V4MAPPED(&s.sin6_addr)) return false;
  memcpy(ip, s.sin6_addr.s6_addr + 12, 4);
  *port = s.sin6_port;
  return true;
}

// The restored socket's address to deliver to: its bound address, loopback
// for a wildcard one.
void destination(const struct sockaddr_storage &local, struct sockaddr_storage *to, bool v4) {
  *to = {};
  struct in_addr ip4;
  uint16_t port;
  if (v4) {
    auto &d = (struct sockaddr_in &)*to;
    d.sin_family = AF_INET;
    if (as_ipv4(local, &ip4, &port)) d.sin_addr = ip4;
    else port = ((const struct sockaddr_in6 &)local).sin6_port;  // bound to ::, a dual-stack socket
    if (d.sin_addr.s_addr == htonl(INADDR_ANY)) d.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d.sin_port = port;
    return;
  }
  auto &d = (struct sockaddr_in6 &)*to;
  d = (const struct sockaddr_in6 &)local;
  if (IN6_IS_ADDR_UNSPECIFIED(&d.sin6_addr)) d.sin6_addr = in6addr_loopback;
}

// IPv4: 20-byte header (the kernel fills in the checksum and total length,
// raw(7)), UDP checksum 0 (none, RFC 768).
size_t build_ipv4(uint8_t *pkt, const struct sockaddr_storage &from, const struct sockaddr_in &to, const uint8_t *data,
                  uint32_t n) {
  struct in_addr src;
  uint16_t sport;
  as_ipv4(from, &src, &sport);
  memset(pkt, 0, 28);
  pkt[0] = 0x45;
  put16(pkt + 2, 28 + n);
  pkt[8] = 64;
  pkt[9] = IPPROTO_UDP;
  memcpy(pkt + 12, &src, 4);
  memcpy(pkt + 16, &to.sin_addr, 4);
  memcpy(pkt + 20, &sport, 2);
  memcpy(pkt + 22, &to.sin_port, 2);
  put16(pkt + 24, 8 + n);
  memcpy(pkt + 28, data, n);
  return 28 + n;
}

// IPv6: 40-byte header and the UDP checksum, which IPv6 requires (RFC 8200
// 8.1: over a pseudo-header of addresses, length and next header).
size_t build_ipv6(uint8_t *pkt, const struct sockaddr_in6 &from, const struct sockaddr_in6 &to, const uint8_t *data,
                  uint32_t n) {
  memset(pkt, 0, 48);
  pkt[0] = 0x60;
  put16(pkt + 4, 8 + n);
  pkt[6] = IPPROTO_UDP;
  pkt[7] = 64;
  memcpy(pkt + 8, &from.sin6_addr, 16);
  memcpy(pkt + 24, &to.sin6_addr, 16);
  uint8_t *udp = pkt + 40;
  memcpy(udp, &from.sin6_port, 2);
  memcpy(udp + 2, &to.sin6_port, 2);
  put16(udp + 4, 8 + n);
  memcpy(udp + 8, data, n);
  uint32_t pseudo = ones_sum(pkt + 8, 32, 0) + 8 + n + IPPROTO_UDP;
  uint16_t sum = (uint16_t)~ones_sum(udp, 8 + n, pseudo);
  put16(udp + 6, sum ? sum : 0xffff);
  return 48 + n;
}

Err send_raw(const struct sockaddr_storage &from, const struct sockaddr_storage &local, const uint8_t *data, uint32_t n,
             uint8_t *pkt) {
  struct in_addr ip;
  uint16_t port;
  bool v4 = as_ipv4(from, &ip, &port);
  Fd raw(v4 ? socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW) : socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
  if (!raw.ok()) return sys_err("a raw socket to queue the datagrams of a UDP socket again (needs CAP_NET_RAW)");
  struct sockaddr_storage to;
  destination(local, &to, v4);
  size_t len;
  if (v4) {
    len = build_ipv4(pkt, from, (const struct sockaddr_in &)to, data, n);
  } else {
    int one = 1;
    if (setsockopt(raw.get(), IPPROTO_IPV6, kIpv6HdrIncl, &one, sizeof one) < 0) return sys_err("IPV6_HDRINCL");
    len = build_ipv6(pkt, (const struct sockaddr_in6 &)from, (const struct sockaddr_in6 &)to, data, n);
    ((struct sockaddr_in6 &)to).sin6_port = 0;  // raw(7): the port field is the protocol, or 0
  }
  socklen_t tl = v4 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
  if (sendto(raw.get(), pkt, len, 0, (struct sockaddr *)&to, tl) != (ssize_t)len)
    return sys_err("queuing a datagram on a restored UDP socket again");
  return ok();
}

// Calls visit(from, from_len, data, len) for each datagram of an encoded queue;
// false for a malformed one.
template <typename Visit>
bool each_saved(const uint8_t *q, uint32_t n, Visit visit) {
  Dec d(q, n);
  while (d.left() && !d.bad()) {
    uint32_t al = 0, len = 0;
    const uint8_t *a = d.blob(&al, sizeof(struct sockaddr_storage));
    const uint8_t *data = d.blob(&len, kMaxDatagram);
    if (d.bad()) return false;
    struct sockaddr_storage from = {};
    memcpy(&from, a, al);
    if (!visit(from, al, data, len)) return false;
  }
  return !d.bad();
}

bool address_ok(const struct sockaddr_storage &a, uint32_t len) {
  return (a.ss_family == AF_INET && len == sizeof(struct sockaddr_in)) ||
         (a.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6));
}
}  // namespace

Err dump_udp_queue(int pid, int fd, int sk, Vec<uint8_t> *out) {
  uint8_t *buf = (uint8_t *)malloc(kMaxDatagram + 16);
  if (!buf) return errf("out of memory");
  Err e = peek_each(sk, buf, [&](const struct sockaddr_storage &from, socklen_t al, const uint8_t *data, uint32_t n) {
    if (!address_ok(from, al)) return errf("process %d fd %d: a queued datagram without an IP sender", pid, fd);
    if (out->size() + 8 + al + n > kMaxRecord / 2)
      return errf("process %d fd %d: over %u MiB of datagrams queued on a UDP socket", pid, fd, kMaxRecord / 2 >> 20);
    uint8_t head[8 + sizeof from];
    Enc e(head, sizeof head);
    e.blob(&from, al);
    e.u32(n);
    for (size_t i = 0; i < e.len(); i++) out->push(head[i]);
    for (uint32_t i = 0; i < n; i++) out->push(data[i]);
    return ok();
  });
  free(buf);
  return e;
}

bool udp_queue_valid(const uint8_t *q, uint32_t n, uint32_t family) {
  return each_saved(q, n, [&](const struct sockaddr_storage &from, uint32_t al, const uint8_t *, uint32_t) {
    struct in_addr ip;
    uint16_t port;
    // An IPv4 socket hears only IPv4 senders; an IPv6 one either.
    return address_ok(from, al) && (family == AF_INET6 || as_ipv4(from, &ip, &port));
  });
}

Err restore_udp_queue(int sk, const uint8_t *q, uint32_t n) {
  struct sockaddr_storage local = {};
  socklen_t ll = sizeof local;
  if (getsockname(sk, (struct sockaddr *)&local, &ll) < 0) return sys_err("getsockname");
  uint8_t *pkt = (uint8_t *)malloc(kMaxDatagram + 64);
  if (!pkt) return errf("out of memory");
  Err e = ok();
  uint32_t sent = 0;
  each_saved(q, n, [&](const struct sockaddr_storage &from, uint32_t, const uint8_t *data, uint32_t len) {
    e = send_raw(from, local, data, len, pkt);
    sent++;
    return !e;
  });
  // Delivery over loopback is done when sendto returns (the softirq runs as
  // it leaves); count what arrived all the same, since a full receive buffer
  // or a filter would drop datagrams without a word.
  uint32_t got = 0;
  if (!e) e = peek_each(sk, pkt, [&](const struct sockaddr_storage &, socklen_t, const uint8_t *, uint32_t) {
    got++;
    return ok();
  });
  free(pkt);
  if (!e && got != sent) e = errf("a restored UDP socket holds %u of its %u queued datagrams", got, sent);
  return e;
}
