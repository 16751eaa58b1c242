// src/resolve.cpp: /etc/hosts lines, DNS queries and (untrusted) answers.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <string.h>

#include <string>
#include <vector>

#include "resolve.h"

namespace {
std::string addr_text(const HostAddrs &h, int i) {
  char buf[64] = "?";
  const struct sockaddr_storage &ss = h.addr[i];
  if (ss.ss_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in &)ss).sin_addr, buf, sizeof buf);
  if (ss.ss_family == AF_INET6) inet_ntop(AF_INET6, &((const struct sockaddr_in6 &)ss).sin6_addr, buf, sizeof buf);
  return buf;
}

// An answer to `query` with the given records, as a nameserver builds it
// (the answers' names point back at the question's, offset 12).
std::vector<uint8_t> answer(const uint8_t *query, size_t qlen, uint8_t rcode,
                            const std::vector<std::pair<uint16_t, std::vector<uint8_t>>> &records) {
  std::vector<uint8_t> m(query, query + qlen);
  m[2] |= 0x80;  // a response
  m[3] = rcode;
  m[6] = 0, m[7] = (uint8_t)records.size();
  for (auto &r : records) {
    uint8_t rr[12] = {0xc0, 12, (uint8_t)(r.first >> 8), (uint8_t)r.first, 0, 1, 0, 0, 1, 0,
                      (uint8_t)(r.second.size() >> 8), (uint8_t)r.second.size()};
    m.insert(m.end(), rr, rr + sizeof rr);
    m.insert(m.end(), r.second.begin(), r.second.end());
  }
  return m;
}
}  // namespace

TEST_CASE("resolve: numeric addresses, the any-address, /etc/hosts") {
  HostAddrs h;
  REQUIRE_FALSE(resolve_host("192.0.2.7", 7450, false, &h));
  REQUIRE(h.n == 1);
  CHECK(addr_text(h, 0) == "192.0.2.7");
  CHECK(ntohs(((struct sockaddr_in &)h.addr[0]).sin_port) == 7450);
  REQUIRE_FALSE(resolve_host("2001:db8::1", 1, false, &h));
  CHECK((h.n == 1 && addr_text(h, 0) == "2001:db8::1"));
  REQUIRE_FALSE(resolve_host("", 9, true, &h));
  CHECK((h.n == 1 && addr_text(h, 0) == "0.0.0.0"));
  CHECK(resolve_host("", 9, false, &h));
  HostAddrs k;
  hosts_lookup("# comment host1\n127.0.0.1\tlocalhost\n10.1.2.3 Host1 alias1 # x\n::1 ip6-localhost host1\n"
               "bad-address host1\n",
               "host1", 22, &k);
  REQUIRE(k.n == 2);
  CHECK(addr_text(k, 0) == "10.1.2.3");
  CHECK(addr_text(k, 1) == "::1");
  HostAddrs none;
  hosts_lookup("10.0.0.1 host10\n", "host1", 22, &none);
  CHECK(none.n == 0);
}

TEST_CASE("resolve: DNS query and answer; a bad answer is refused, never overrun") {
  uint8_t q[300];
  size_t n = dns_query("migrate.example.org.", 0x1234, 1, q, sizeof q);
  const uint8_t want[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'm', 'i', 'g', 'r', 'a', 't', 'e',
                          7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, 0, 1, 0, 1};
  REQUIRE(n == sizeof want);
  CHECK(memcmp(q, want, n) == 0);
  uint8_t bad[300];
  CHECK(dns_query("a..b", 1, 1, bad, sizeof bad) == 0);
  CHECK(dns_query(std::string(64, 'x').c_str(), 1, 1, bad, sizeof bad) == 0);
  CHECK(dns_query("", 1, 1, bad, sizeof bad) == 0);
  CHECK(dns_query("migrate.example.org", 1, 1, bad, 36) == 0);  // 37 bytes do not fit

  auto m = answer(q, n, 0, {{5, {3, 'f', 'o', 'o', 0xc0, 12}}, {1, {198, 51, 100, 9}}, {28, std::vector<uint8_t>(16, 0x20)},
                            {1, {1, 2, 3}}});
  HostAddrs h;
  REQUIRE(dns_answer(m.data(), m.size(), 0x1234, 80, &h));
  REQUIRE(h.n == 2);  // the CNAME and the 3-byte A are skipped
  CHECK(addr_text(h, 0) == "198.51.100.9");
  CHECK(addr_text(h, 1) == "2020:2020:2020:2020:2020:2020:2020:2020");
  HostAddrs other;
  CHECK_FALSE(dns_answer(m.data(), m.size(), 0x4321, 80, &other));  // another query's
  for (size_t cut = 12; cut < m.size(); cut++) {  // every truncation: refused or fewer, in bounds
    HostAddrs t;
    std::vector<uint8_t> c(m.begin(), m.begin() + cut);
    bool done = dns_answer(c.data(), c.size(), 0x1234, 80, &t);
    CHECK((!done || t.n <= 2));
  }
  auto nx = answer(q, n, 3, {});
  HostAddrs e;
  CHECK(dns_answer(nx.data(), nx.size(), 0x1234, 80, &e));  // answered: no such name
  CHECK(e.n == 0);
  auto loop = answer(q, n, 0, {{1, {1, 2, 3, 4}}});
  loop[12] = 0x80;  // a reserved label type in the question
  CHECK_FALSE(dns_answer(loop.data(), loop.size(), 0x1234, 80, &e));
}
