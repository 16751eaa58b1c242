// Host names to addresses for migrate, restartd and serve: a numeric IPv4 or
// IPv6 address, a name in /etc/hosts, or a DNS query (A, then AAAA) to the
// nameservers of /etc/resolv.conf over UDP. In place of musl's getaddrinfo,
// which brings 16 KiB of resolver into the static binary for the one lookup
// a migration makes (docs/BUDGETS.md). Not done: search domains and ndots
// (give the full name), TCP fallback for truncated answers, IPv6 scope ids.
#pragma once
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base.h"

struct HostAddrs {
  static constexpr int kMax = 8;
  struct sockaddr_storage addr[kMax];
  socklen_t len[kMax];
  int n = 0;
  bool add(int family, const void *ip, uint16_t port);  // false when full
};

// host ("" with passive: the IPv4 any-address) and port to addresses, in the
// order to try them.
Err resolve_host(const char *host, uint16_t port, bool passive, HostAddrs *out);

// Exposed for the unit tests: the names' addresses in the text of an
// /etc/hosts, and those of a DNS answer to query id `id` for `name`.
void hosts_lookup(const char *text, const char *name, uint16_t port, HostAddrs *out);
bool dns_answer(const uint8_t *msg, size_t n, uint16_t id, uint16_t port, HostAddrs *out);
size_t dns_query(const char *name, uint16_t id, uint16_t type, uint8_t *out, size_t cap);
