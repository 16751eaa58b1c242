#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "codec.h"
#include "fd/udp_queue.h"

namespace {
// One saved datagram as dump_udp_queue writes it: blob sender, blob bytes.
size_t put_datagram(uint8_t *buf, size_t cap, const void *addr, uint32_t alen, const char *data) {
  Enc e(buf, cap);
  e.blob(addr, alen);
  e.blob(data, (uint32_t)strlen(data));
  return e.len();
}
}  // namespace

TEST_CASE("udp queue: a saved queue is checked against the socket's family") {
  struct sockaddr_in v4 = {};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(4000);
  struct sockaddr_in6 v6 = {};
  v6.sin6_family = AF_INET6;
  v6.sin6_addr = in6addr_loopback;
  uint8_t q[256];
  size_t first = put_datagram(q, sizeof q, &v4, sizeof v4, "one"), n = first;
  n += put_datagram(q + n, sizeof q - n, &v4, sizeof v4, "");
  CHECK(udp_queue_valid(q, (uint32_t)n, AF_INET));
  CHECK(udp_queue_valid(q, (uint32_t)n, AF_INET6));  // a dual-stack socket hears IPv4 senders
  CHECK(udp_queue_valid(q, 0, AF_INET));
  for (size_t cut = 1; cut < n; cut++)  // cut short anywhere but between the two
    if (n - cut != first) CHECK_FALSE(udp_queue_valid(q, (uint32_t)(n - cut), AF_INET));

  size_t m = put_datagram(q, sizeof q, &v6, sizeof v6, "v6");
  CHECK(udp_queue_valid(q, (uint32_t)m, AF_INET6));
  CHECK_FALSE(udp_queue_valid(q, (uint32_t)m, AF_INET));  // an IPv4 socket cannot have an IPv6 sender

  m = put_datagram(q, sizeof q, &v4, sizeof v4 - 2, "short");  // not a whole sockaddr_in
  CHECK_FALSE(udp_queue_valid(q, (uint32_t)m, AF_INET));
  struct sockaddr_in bad = v4;
  bad.sin_family = AF_UNIX;
  m = put_datagram(q, sizeof q, &bad, sizeof bad, "x");
  CHECK_FALSE(udp_queue_valid(q, (uint32_t)m, AF_INET));
}
