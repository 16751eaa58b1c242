#include <doctest/doctest.h>

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "net.h"

namespace {
Psk key_of(const char *s) {
  Psk k;
  k.n = strlen(s);
  memcpy(k.b, s, k.n);
  return k;
}

// A connected client and server after a real handshake over a socketpair.
struct Pair {
  int fd[2] = {-1, -1};
  Channel client, server;
  Err client_err = {}, server_err = {};
  Pair(const char *client_key, const char *server_key) {
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) == 0);
    Psk ck = key_of(client_key), sk = key_of(server_key);
    std::thread t([&] { server_err = server.server_hello(fd[1], sk); });
    client_err = client.client_hello(fd[0], ck);
    t.join();
  }
  ~Pair() {
    close(fd[0]);
    close(fd[1]);
  }
  // The raw bytes of one frame of n payload bytes the client sent.
  std::string take_frame(size_t n) {
    std::string s(8 + n + kSha256Len, '\0');
    REQUIRE(read_full(fd[1], &s[0], s.size()) == (long)s.size());
    return s;
  }
  // From now on the server reads `bytes` (then end of file) instead of the socket.
  void feed_server(const std::string &bytes) {
    int p[2];
    REQUIRE(pipe(p) == 0);
    REQUIRE(write_full(p[1], bytes.data(), bytes.size()).msg[0] == 0);
    close(p[1]);
    REQUIRE(dup2(p[0], fd[1]) == fd[1]);
    close(p[0]);
  }
  Err server_recv(std::string *out, uint32_t *flags) {
    std::vector<uint8_t> buf(kFrameMax);
    uint32_t n;
    Err e = server.recv(buf.data(), kFrameMax, &n, flags);
    if (!e) out->assign((const char *)buf.data(), n);
    return e;
  }
};

const char *kKey = "0123456789abcdef-shared";
}  // namespace

TEST_CASE("split_hostport: names, ports, IPv6 in brackets, the default") {
  char h[64];
  uint16_t p;
  CHECK_FALSE(split_hostport("dest", h, sizeof h, &p, 7450));
  CHECK(std::string(h) == "dest");
  CHECK(p == 7450);
  CHECK_FALSE(split_hostport("10.0.0.2:9000", h, sizeof h, &p, 7450));
  CHECK((std::string(h) == "10.0.0.2" && p == 9000));
  CHECK_FALSE(split_hostport("[fe80::1]:81", h, sizeof h, &p, 7450));
  CHECK((std::string(h) == "fe80::1" && p == 81));
  CHECK_FALSE(split_hostport("::1", h, sizeof h, &p, 7450));
  CHECK((std::string(h) == "::1" && p == 7450));
  CHECK_FALSE(split_hostport(":7451", h, sizeof h, &p, 7450));
  CHECK((std::string(h).empty() && p == 7451));
  for (const char *bad : {"h:0", "h:65536", "h:x", "[::1", "[::1]x", "h:"}) {
    CAPTURE(bad);
    CHECK(split_hostport(bad, h, sizeof h, &p, 7450));
  }
}

TEST_CASE("channel: the same key authenticates both ends; frames pass both ways") {
  Pair c(kKey, kKey);
  REQUIRE_FALSE(c.client_err);
  REQUIRE_FALSE(c.server_err);
  REQUIRE_FALSE(c.client.send("hello", 5, 0));
  std::string got;
  uint32_t flags;
  REQUIRE_FALSE(c.server_recv(&got, &flags));
  CHECK(got == "hello");
  CHECK(flags == 0);
  REQUIRE_FALSE(send_reply(c.server, "OK 42"));
  char reply[64];
  REQUIRE_FALSE(recv_reply(c.client, 5, reply, sizeof reply));
  CHECK(std::string(reply) == "OK 42");
}

TEST_CASE("channel: a wrong key is refused at the handshake, and the client is told") {
  Pair c(kKey, "another key, 16+ bytes");
  REQUIRE(c.client_err);
  CHECK(strstr(c.client_err.msg, "refused the key"));
  REQUIRE(c.server_err);
  CHECK(strstr(c.server_err.msg, "wrong key"));
}

TEST_CASE("channel: an altered, reordered, dropped, reflected or foreign frame fails its MAC") {
  Pair c(kKey, kKey);
  REQUIRE_FALSE(c.client_err);
  REQUIRE_FALSE(c.client.send("first", 5, 0));
  REQUIRE_FALSE(c.client.send("second", 6, 0));
  std::string f0 = c.take_frame(5), f1 = c.take_frame(6);
  std::string got;
  uint32_t flags;
  SUBCASE("unchanged: both verify, in order") {
    c.feed_server(f0 + f1);
    REQUIRE_FALSE(c.server_recv(&got, &flags));
    CHECK(got == "first");
    REQUIRE_FALSE(c.server_recv(&got, &flags));
    CHECK(got == "second");
  }
  SUBCASE("one data bit flipped") {
    f0[10] ^= 1;
    c.feed_server(f0);
    Err e = c.server_recv(&got, &flags);
    REQUIRE(e);
    CHECK(strstr(e.msg, "frame 0 failed authentication"));
  }
  SUBCASE("the final flag set by someone else") {
    f0[4] ^= kFrameFinal;
    c.feed_server(f0);
    CHECK(c.server_recv(&got, &flags));
  }
  SUBCASE("swapped") {
    c.feed_server(f1 + f0);
    CHECK(c.server_recv(&got, &flags));
  }
  SUBCASE("the first dropped") {
    c.feed_server(f1);
    CHECK(c.server_recv(&got, &flags));
  }
  SUBCASE("replayed into another session with the same key") {
    Pair d(kKey, kKey);
    REQUIRE_FALSE(d.client_err);
    d.feed_server(f0);
    Err e = d.server_recv(&got, &flags);
    REQUIRE(e);
    CHECK(strstr(e.msg, "frame 0 failed authentication"));
  }
  SUBCASE("reflected: the server's own frame fed back to it") {
    REQUIRE_FALSE(c.server.send("first", 5, 0));
    std::string own(8 + 5 + kSha256Len, '\0');
    REQUIRE(read_full(c.fd[0], &own[0], own.size()) == (long)own.size());
    c.feed_server(own);
    CHECK(c.server_recv(&got, &flags));
  }
}

// The receiving pump passes a frame on only after the next one verified: a
// stream cut before the final frame never shows the reader its last data.
TEST_CASE("pump_from_channel: the last data waits for the final frame") {
  Pair c(kKey, kKey);
  REQUIRE_FALSE(c.client_err);
  REQUIRE_FALSE(c.client.send("AAAA", 4, 0));
  REQUIRE_FALSE(c.client.send("BBBB", 4, 0));
  REQUIRE_FALSE(c.client.send(nullptr, 0, kFrameFinal));
  std::string a = c.take_frame(4), b = c.take_frame(4), fin = c.take_frame(0);
  int out[2];
  REQUIRE(pipe(out) == 0);
  int side = 0;
  char buf[64] = {};
  SUBCASE("complete") {
    c.feed_server(a + b + fin);
    REQUIRE_FALSE(pump_from_channel(c.server, out[1], -1, &side));
    close(out[1]);
    CHECK(read_full(out[0], buf, sizeof buf) == 8);
    CHECK(std::string(buf) == "AAAABBBB");
  }
  SUBCASE("cut before the final frame") {
    c.feed_server(a + b);
    Err e = pump_from_channel(c.server, out[1], -1, &side);
    REQUIRE(e);
    CHECK(side == kPumpStream);
    close(out[1]);
    CHECK(read_full(out[0], buf, sizeof buf) == 4);
    CHECK(std::string(buf) == "AAAA");
  }
  close(out[0]);
}
