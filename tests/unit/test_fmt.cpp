// src/fmt.cpp, the product's snprintf, built here as chkpt_snprintf (Makefile),
// against glibc's for every conversion the product's messages use.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <doctest/doctest.h>
#include <string>
#include <sys/types.h>

extern "C" int chkpt_snprintf(char *buf, size_t cap, const char *fmt, ...);

#define SAME(...)                                                   \
  do {                                                              \
    char want[256], got[256];                                       \
    int wn = snprintf(want, sizeof want, __VA_ARGS__);              \
    int gn = chkpt_snprintf(got, sizeof got, __VA_ARGS__);          \
    CHECK(std::string(got) == std::string(want));                   \
    CHECK(gn == wn);                                                \
  } while (0)

TEST_CASE("fmt: the product's snprintf prints as the C library does") {
  SAME("plain text");
  SAME("%d %d %d %i", 0, -1, 2147483647, -2147483647 - 1);
  SAME("%u %x %X %o %04x %04o", 4000000000u, 0xbeefu, 0xbeefu, 8u, 0x1fu, 0755u);
  SAME("%lld %llu %llx %ld", -9000000000000000000ll, 18446744073709551615ull, 0xdeadbeefcafeull, -5l);
  SAME("%zu %zd %02d %04d %02u %0*llu", (size_t)12345, (ssize_t)-3, 7, 2026, 9u, 6, 42ull);
  SAME("%s|%.*s|%.3s|%-10s|%8s|%-20s|", "abc", 2, "xyz", "abcdef", "left", "right", "");
  SAME("%c%c %% %5d|%-5d|", 'o', 'k', 42, 42);
  SAME("%.1f %.2f %.3f %.0f %.1f %.1f", 3.14159, 2.25, 0.0004, 99.5, 1048576.0 / 3, 0.05);
  SAME("%.1f MiB, frozen %.3f s", 1023.96, 0.0125);
  char small[5];
  CHECK(chkpt_snprintf(small, sizeof small, "%s", "truncated") == 9);
  CHECK(strcmp(small, "trun") == 0);
  CHECK(chkpt_snprintf(nullptr, 0, "%d", 12345) == 5);
}
