// src/fmt.cpp, the product's snprintf, built here as chkpt_snprintf (Makefile),
// against glibc's for every conversion the product's messages use.
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
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

extern "C" unsigned long long chkpt_strtoull(const char *, char **, int);
extern "C" unsigned long chkpt_strtoul(const char *, char **, int);
extern "C" long long chkpt_strtoll(const char *, char **, int);
extern "C" long chkpt_strtol(const char *, char **, int);
extern "C" int chkpt_atoi(const char *);

TEST_CASE("fmt: the product's strtoull and kin parse as the C library does") {
  const char *inputs[] = {"0", "42", "  \t-17xyz", "+9", "0x1F", "0X1fg", "0x", "0755", "08", "ffff", "  ", "",
                          "18446744073709551615", "18446744073709551616", "99999999999999999999999",
                          "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                          "-9223372036854775809", "-1", "4294967296", "12 34", "z"};
  for (const char *in : inputs) {
    for (int base : {0, 8, 10, 16}) {
      char *e1, *e2;
      errno = 0;
      unsigned long long a = strtoull(in, &e1, base);
      int ea = errno;
      errno = 0;
      unsigned long long b = chkpt_strtoull(in, &e2, base);
      CHECK_MESSAGE((a == b && e1 == e2 && ea == errno), in, " base ", base);
      errno = 0;
      long long c = strtoll(in, &e1, base);
      ea = errno;
      errno = 0;
      long long d = chkpt_strtoll(in, &e2, base);
      CHECK_MESSAGE((c == d && e1 == e2 && ea == errno), in, " base ", base);
      CHECK(strtoul(in, nullptr, base) == chkpt_strtoul(in, nullptr, base));
      CHECK(strtol(in, nullptr, base) == chkpt_strtol(in, nullptr, base));
    }
    CHECK(atoi(in) == chkpt_atoi(in));
  }
}
