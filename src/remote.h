// One context for calls into a stopped thread of another process (CRIU's
// compel parasite_ctl is the model): the thread, the process's memory, the
// address of a syscall instruction it can run, and a scratch area in its
// address space for arguments and results. Everything that injects syscalls
// takes one Remote.
#pragma once
#include <stdint.h>

#include "base.h"
#include "process.h"
#include "ptrace.h"

class Remote {
 public:
  Remote(Tracee &t, const ProcMem &mem, const Gadget &g) : t_(t), mem_(mem), g_(g) {}
  Tracee &thread() { return t_; }
  int tid() const { return t_.tid(); }
  const ProcMem &mem() const { return mem_; }
  const Gadget &gadget() const { return g_; }

  // Start injecting (Tracee::inject_begin at the gadget's instruction).
  Err begin() { return t_.inject_begin(g_.insn); }
  // The raw call: *ret is its result (a negative errno on failure).
  Err call(long nr, int64_t *ret, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
           uint64_t a4 = 0, uint64_t a5 = 0) {
    return t_.syscall(nr, ret, a0, a1, a2, a3, a4, a5);
  }
  // A call that must succeed: a failure is "<what> in thread T: <strerror>".
  Err must(const char *what, long nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
           uint64_t a4 = 0, uint64_t a5 = 0);

  // The scratch area: `off` bytes into it; put/get are bounds-checked.
  uint64_t at(size_t off) const { return g_.scratch + off; }
  Err put(size_t off, const void *p, size_t n) const;
  Err get(size_t off, void *p, size_t n) const;

 private:
  Err fits(size_t off, size_t n) const;
  Tracee &t_;
  const ProcMem &mem_;
  Gadget g_;
};
