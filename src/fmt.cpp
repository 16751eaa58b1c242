// snprintf and vsnprintf, strtoul and kin, for the static product, in place
// of musl's: its vfprintf (10 KiB, with the long-double float printer) is
// most of what the product would link of stdio, and its strto* share a
// 2.5 KiB scanner built for FILE streams. This one knows the conversions the product's
// messages use (C11 7.21.6.1): flags '-' and '0', a width and precision
// (digits or '*'), lengths hh h l ll z j t, conversions d i u x X o c s p f
// and %%; a float is printed in fixed point with at most 9 decimals, which is
// all the product prints (sizes and seconds; a value within a rounding error
// of a tie may differ from C's in its last digit). Anything else is copied as it
// stands, so an unknown conversion shows in the message rather than reading a
// wrong argument. Not built for the glibc builds (Makefile GLIBC_SRCS).
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace {
struct Sink {
  char *buf;
  size_t cap, n = 0;  // n counts every byte, also those that did not fit
  void put(char c) {
    if (n + 1 < cap) buf[n] = c;
    n++;
  }
  void pad(char c, int count) {
    while (count-- > 0) put(c);
  }
};

struct Spec {
  bool left = false, zero = false;
  int width = 0, prec = -1;
};

// `digits` of a number already converted, with its sign, padded to the width.
void put_field(Sink &s, const Spec &sp, const char *sign, const char *digits, size_t len) {
  size_t sl = strlen(sign);
  int fill = sp.width - (int)(len + sl);
  if (!sp.left && !sp.zero) s.pad(' ', fill);
  for (size_t i = 0; i < sl; i++) s.put(sign[i]);
  if (!sp.left && sp.zero) s.pad('0', fill);
  for (size_t i = 0; i < len; i++) s.put(digits[i]);
  if (sp.left) s.pad(' ', fill);
}

// Digits of v in base, least significant last; returns where they start in tmp.
char *to_digits(uint64_t v, unsigned base, bool upper, char *end) {
  const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char *p = end;
  do *--p = set[v % base]; while (v /= base);
  return p;
}

void put_unsigned(Sink &s, const Spec &sp, const char *sign, uint64_t v, unsigned base, bool upper) {
  char tmp[24];
  char *p = to_digits(v, base, upper, tmp + sizeof tmp);
  int len = (int)(tmp + sizeof tmp - p);
  while (sp.prec > len && p > tmp) *--p = '0', len++;  // a precision is a minimum of digits
  put_field(s, sp, sign, p, (size_t)len);
}

// Fixed point: round to the precision (default 6, at most 9) and print the
// integer and fractional parts as integers. Values beyond 2^63 print as "inf".
void put_float(Sink &s, Spec sp, double v) {
  const char *sign = v < 0 ? "-" : "";
  if (v < 0) v = -v;
  int prec = sp.prec < 0 ? 6 : sp.prec > 9 ? 9 : sp.prec;
  uint64_t scale = 1;
  for (int i = 0; i < prec; i++) scale *= 10;
  if (!(v < 9.2e18 / (double)scale)) {  // also NaN
    sp.zero = false;
    put_field(s, sp, sign, "inf", 3);
    return;
  }
  uint64_t all = (uint64_t)(v * (double)scale + 0.5);
  char tmp[32];
  char *end = tmp + sizeof tmp, *p = end;
  if (prec) {
    uint64_t frac = all % scale;
    for (int i = 0; i < prec; i++, frac /= 10) *--p = (char)('0' + frac % 10);
    *--p = '.';
  }
  p = to_digits(all / scale, 10, false, p);
  put_field(s, sp, sign, p, (size_t)(end - p));
}

void put_string(Sink &s, const Spec &sp, const char *str) {
  if (!str) str = "(null)";
  size_t len = sp.prec >= 0 ? strnlen(str, (size_t)sp.prec) : strlen(str);
  Spec plain = sp;
  plain.zero = false;
  put_field(s, plain, "", str, len);
}

int read_number(const char **f, va_list *ap) {
  if (**f == '*') {
    (*f)++;
    return va_arg(*ap, int);
  }
  int v = 0;
  while (**f >= '0' && **f <= '9') v = v * 10 + (*(*f)++ - '0');
  return v;
}

// One conversion starting after its '%'; returns false if it is not one this
// printer knows (the caller then copies it as text).
bool convert(Sink &s, const char **fp, va_list *ap) {
  const char *f = *fp;
  Spec sp;
  for (;; f++) {
    if (*f == '-') sp.left = true;
    else if (*f == '0') sp.zero = true;
    else break;
  }
  sp.width = read_number(&f, ap);
  if (sp.width < 0) sp.left = true, sp.width = -sp.width;
  if (*f == '.') {
    f++;
    sp.prec = read_number(&f, ap);
    if (sp.prec < 0) sp.prec = -1;
  }
  int longs = 0;  // 0 int, 1 long / size_t / intmax_t / ptrdiff_t (64-bit here), 2 long long
  while (*f == 'h') f++;  // a char or short comes promoted to int
  if (*f == 'l' && f[1] == 'l') longs = 2, f += 2;
  else if (*f == 'l' || *f == 'z' || *f == 'j' || *f == 't') longs = 1, f++;
  char c = *f++;
  switch (c) {
    case 'd': case 'i': {
      int64_t v = longs == 2 ? va_arg(*ap, long long) : longs ? va_arg(*ap, long) : va_arg(*ap, int);
      put_unsigned(s, sp, v < 0 ? "-" : "", v < 0 ? 0 - (uint64_t)v : (uint64_t)v, 10, false);
      break;
    }
    case 'u': case 'x': case 'X': case 'o': {
      uint64_t v = longs == 2 ? va_arg(*ap, unsigned long long) : longs ? va_arg(*ap, unsigned long)
                                                                        : va_arg(*ap, unsigned);
      put_unsigned(s, sp, "", v, c == 'u' ? 10 : c == 'o' ? 8 : 16, c == 'X');
      break;
    }
    case 'p':
      put_unsigned(s, sp, "0x", (uintptr_t)va_arg(*ap, void *), 16, false);
      break;
    case 'c': {
      char ch = (char)va_arg(*ap, int);
      Spec plain = sp;
      plain.prec = -1;
      plain.zero = false;
      put_field(s, plain, "", &ch, 1);
      break;
    }
    case 's': put_string(s, sp, va_arg(*ap, const char *)); break;
    case 'f': put_float(s, sp, va_arg(*ap, double)); break;
    case '%': s.put('%'); break;
    default: return false;
  }
  *fp = f;
  return true;
}
}  // namespace

extern "C" int vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap) {
  Sink s{buf, cap};
  va_list args;
  va_copy(args, ap);
  while (*fmt) {
    if (*fmt != '%') {
      s.put(*fmt++);
      continue;
    }
    const char *at = fmt++;
    if (!convert(s, &fmt, &args)) {
      s.put(*at);
      fmt = at + 1;
    }
  }
  va_end(args);
  if (cap) buf[s.n < cap ? s.n : cap - 1] = 0;
  return s.n > 0x7fffffff ? -1 : (int)s.n;
}

extern "C" int snprintf(char *buf, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, cap, fmt, ap);
  va_end(ap);
  return n;
}

// strtoull and kin (C11 7.22.1.4): leading white space, a sign, base 0
// (0x hex, 0 octal, else decimal), 8, 10 or 16 (an optional 0x); *end after
// the last digit used (s itself if there was none); out of range: the limit
// and ERANGE. A '-' negates an unsigned result, as C says.
namespace {
int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if ((c | 32) >= 'a' && (c | 32) <= 'z') return (c | 32) - 'a' + 10;
  return 99;
}

// The magnitude of the number at s, saturated at `limit` (then *over is set).
uint64_t scan_number(const char *s, char **end, int base, uint64_t limit, bool *neg, bool *over) {
  const char *p = s;
  while (*p == ' ' || (*p >= '\t' && *p <= '\r')) p++;
  *neg = *p == '-';
  if (*p == '-' || *p == '+') p++;
  if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 32) == 'x' && digit_value(p[2]) < 16) {
    p += 2;
    base = 16;
  } else if (base == 0) {
    base = *p == '0' ? 8 : 10;
  }
  uint64_t v = 0;
  const char *first = p;
  *over = false;
  for (int d; (d = digit_value(*p)) < base; p++) {
    if (v > (limit - (uint64_t)d) / (uint64_t)base) *over = true;
    else v = v * (uint64_t)base + (uint64_t)d;
  }
  if (end) *end = const_cast<char *>(p == first ? s : p);
  if (*over) errno = ERANGE;
  return *over ? limit : v;
}

uint64_t to_unsigned(const char *s, char **end, int base, uint64_t max) {
  bool neg, over;
  uint64_t v = scan_number(s, end, base, max, &neg, &over);
  return neg && !over ? (0 - v) & max : v;
}

int64_t to_signed(const char *s, char **end, int base, int64_t max) {
  bool neg, over;
  uint64_t v = scan_number(s, end, base, (uint64_t)max + 1, &neg, &over);
  if (!neg && v > (uint64_t)max) errno = ERANGE, v = (uint64_t)max;
  return neg ? (int64_t)(0 - v) : (int64_t)v;
}
}  // namespace

extern "C" unsigned long long strtoull(const char *s, char **end, int base) { return to_unsigned(s, end, base, ULLONG_MAX); }
extern "C" unsigned long strtoul(const char *s, char **end, int base) { return (unsigned long)to_unsigned(s, end, base, ULONG_MAX); }
extern "C" long long strtoll(const char *s, char **end, int base) { return to_signed(s, end, base, LLONG_MAX); }
extern "C" long strtol(const char *s, char **end, int base) { return (long)to_signed(s, end, base, LONG_MAX); }
extern "C" int atoi(const char *s) { return (int)strtol(s, nullptr, 10); }
