// Force-included (-include) when the product is compiled against glibc: for the
// fuzz target and the ASan build (Makefile). glibc declares ptrace() and
// prlimit() with enum parameters in C++, where musl, the product's libc, takes
// int; these overloads accept the int the product passes.
#pragma once
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/types.h>

inline long ptrace(int req, pid_t pid, void *addr, void *data) {
  long (*glibc)(enum __ptrace_request, ...) = ::ptrace;
  return glibc(static_cast<enum __ptrace_request>(req), pid, addr, data);
}
inline int prlimit(pid_t pid, int res, const struct rlimit *lim, struct rlimit *old) {
  int (*glibc)(pid_t, enum __rlimit_resource, const struct rlimit *, struct rlimit *) = ::prlimit;
  return glibc(pid, static_cast<enum __rlimit_resource>(res), lim, old);
}
