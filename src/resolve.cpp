// Host name resolution for the network commands (resolve.h). The DNS
// messages are those of RFC 1035 section 4.1 (header, question, answer
// records; names as length-prefixed labels, compressed by 2-byte pointers);
// AAAA is RFC 3596. An answer is untrusted input: every length is checked
// against the message before it is read.
#include "resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

namespace {
constexpr uint16_t kTypeA = 1, kTypeAAAA = 28, kClassIn = 1;
constexpr int kTimeoutMs = 2500, kAttempts = 2, kMaxServers = 3;

uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

bool numeric(const char *host, uint16_t port, HostAddrs *out) {
  uint8_t ip[16];
  if (inet_pton(AF_INET, host, ip) == 1) return out->add(AF_INET, ip, port);
  if (inet_pton(AF_INET6, host, ip) == 1) return out->add(AF_INET6, ip, port);
  return false;
}

// Past one (possibly compressed) name at *pos; false if it runs off the message.
bool skip_name(const uint8_t *msg, size_t n, size_t *pos) {
  size_t p = *pos;
  for (;;) {
    if (p >= n) return false;
    uint8_t len = msg[p];
    if ((len & 0xc0) == 0xc0) {  // a pointer ends the name
      if (p + 2 > n) return false;
      *pos = p + 2;
      return true;
    }
    if (len & 0xc0) return false;  // 0x40 and 0x80: reserved label types
    p += 1 + (size_t)len;
    if (!len) {
      *pos = p;
      return true;
    }
  }
}

// The nameservers of resolv.conf(5), 127.0.0.1 if it names none.
int nameservers(HostAddrs *out) {
  char text[4096];
  if (!read_text("/etc/resolv.conf", text, sizeof text)) {
    for (char *line = text; line && *line && out->n < kMaxServers;) {
      char *next = strchr(line, '\n');
      if (next) *next++ = 0;
      char *save = nullptr, *key = strtok_r(line, " \t\r", &save);  // no sscanf: all of musl's scanf
      char *addr = key && !strcmp(key, "nameserver") ? strtok_r(nullptr, " \t\r", &save) : nullptr;
      if (addr) numeric(addr, 53, out);
      line = next;
    }
  }
  if (!out->n) {
    uint8_t lo[4] = {127, 0, 0, 1};
    out->add(AF_INET, lo, 53);
  }
  return out->n;
}

uint64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

// One attempt at one server: the A and the AAAA query, answers collected for
// up to the timeout. True once both answered (found or not).
bool ask(const HostAddrs &servers, int k, const char *name, uint16_t port, HostAddrs *v4, HostAddrs *v6,
         const char **why) {
  Fd s(socket(servers.addr[k].ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.ok()) return false;
  uint16_t ids[2];
  if (getrandom(ids, sizeof ids, 0) != (ssize_t)sizeof ids) return false;
  const uint16_t types[2] = {kTypeA, kTypeAAAA};
  bool answered[2] = {false, false};
  for (int q = 0; q < 2; q++) {
    uint8_t msg[300];
    size_t len = dns_query(name, ids[q], types[q], msg, sizeof msg);
    if (!len) {
      *why = "name too long";
      return true;
    }
    if (sendto(s.get(), msg, len, 0, (const struct sockaddr *)&servers.addr[k], servers.len[k]) < 0) return false;
  }
  uint64_t until = now_ms() + kTimeoutMs;
  while (!(answered[0] && answered[1])) {
    uint64_t now = now_ms();
    if (now >= until) return false;
    struct pollfd p = {s.get(), POLLIN, 0};
    if (poll(&p, 1, (int)(until - now)) <= 0) continue;
    uint8_t ans[1500];
    ssize_t r = recv(s.get(), ans, sizeof ans, 0);
    if (r < 12) continue;
    for (int q = 0; q < 2; q++)
      if (!answered[q] && be16(ans) == ids[q]) answered[q] = dns_answer(ans, (size_t)r, ids[q], port, q ? v6 : v4);
  }
  return true;
}

Err dns_lookup(const char *name, uint16_t port, HostAddrs *out) {
  HostAddrs servers, v4, v6;
  nameservers(&servers);
  const char *why = "no answer from the nameservers of /etc/resolv.conf";
  bool done = false;
  for (int a = 0; a < kAttempts && !done; a++)
    for (int k = 0; k < servers.n && !done; k++) done = ask(servers, k, name, port, &v4, &v6, &why);
  for (const HostAddrs *h : {&v4, &v6})
    for (int i = 0; i < h->n && out->n < HostAddrs::kMax; i++) out->addr[out->n] = h->addr[i], out->len[out->n++] = h->len[i];
  if (out->n) return ok();
  return errf("cannot resolve %s: %s", name, done ? "no such host" : why);
}
}  // namespace

bool HostAddrs::add(int family, const void *ip, uint16_t port) {
  if (n >= kMax) return false;
  struct sockaddr_storage *ss = &addr[n];
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    memcpy(&a->sin_addr, ip, 4);
    len[n] = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    memcpy(&a->sin6_addr, ip, 16);
    len[n] = sizeof *a;
  }
  n++;
  return true;
}

size_t dns_query(const char *name, uint16_t id, uint16_t type, uint8_t *out, size_t cap) {
  size_t nl = strlen(name);
  if (nl && name[nl - 1] == '.') nl--;
  if (!nl || nl > 253 || cap < 12 + nl + 2 + 4) return 0;
  memset(out, 0, 12);
  put_be16(out, id);
  put_be16(out + 2, 0x0100);  // a standard query, recursion desired
  put_be16(out + 4, 1);       // one question
  size_t p = 12;
  for (size_t i = 0; i < nl;) {
    size_t j = i;
    while (j < nl && name[j] != '.') j++;
    if (j == i || j - i > 63) return 0;  // an empty or over-long label
    out[p++] = (uint8_t)(j - i);
    memcpy(out + p, name + i, j - i);
    p += j - i;
    i = j + 1;
  }
  out[p++] = 0;
  put_be16(out + p, type);
  put_be16(out + p + 2, kClassIn);
  return p + 4;
}

bool dns_answer(const uint8_t *msg, size_t n, uint16_t id, uint16_t port, HostAddrs *out) {
  if (n < 12 || be16(msg) != id || !(msg[2] & 0x80)) return false;  // not our response
  if ((msg[3] & 0x0f) != 0) return true;  // an error (NXDOMAIN...): answered, nothing found
  size_t pos = 12;
  for (uint16_t q = be16(msg + 4); q; q--) {
    if (!skip_name(msg, n, &pos) || pos + 4 > n) return false;
    pos += 4;
  }
  for (uint16_t a = be16(msg + 6); a; a--) {
    if (!skip_name(msg, n, &pos) || pos + 10 > n) return false;
    uint16_t type = be16(msg + pos), cls = be16(msg + pos + 2), rdlen = be16(msg + pos + 8);
    pos += 10;
    if (pos + rdlen > n) return false;
    if (cls == kClassIn && type == kTypeA && rdlen == 4) out->add(AF_INET, msg + pos, port);
    if (cls == kClassIn && type == kTypeAAAA && rdlen == 16) out->add(AF_INET6, msg + pos, port);
    pos += rdlen;  // a CNAME's target follows as its own records
  }
  return true;
}

void hosts_lookup(const char *text, const char *name, uint16_t port, HostAddrs *out) {
  const char *line = text;
  while (*line) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    char buf[512];
    if (len < sizeof buf) {
      memcpy(buf, line, len);
      buf[len] = 0;
      char *hash = strchr(buf, '#');
      if (hash) *hash = 0;
      char *save = nullptr, *addr = strtok_r(buf, " \t\r", &save);
      bool match = false;
      for (char *alias; addr && !match && (alias = strtok_r(nullptr, " \t\r", &save));)
        match = !strcasecmp(alias, name);
      if (match) numeric(addr, port, out);
    }
    line += len + (end ? 1 : 0);
  }
}

Err resolve_host(const char *host, uint16_t port, bool passive, HostAddrs *out) {
  out->n = 0;
  if (!host[0]) {
    if (!passive) return errf("no host given");
    uint8_t any[4] = {0, 0, 0, 0};
    out->add(AF_INET, any, port);
    return ok();
  }
  if (numeric(host, port, out)) return ok();
  constexpr size_t kHostsMax = 1 << 16;
  char *hosts = static_cast<char *>(malloc(kHostsMax));
  if (!hosts) return errf("out of memory");
  if (!read_text("/etc/hosts", hosts, kHostsMax)) hosts_lookup(hosts, host, port, out);
  free(hosts);
  if (out->n) return ok();
  return dns_lookup(host, port, out);
}
