// Tracing a thread: freeze (PTRACE_SEIZE + PTRACE_INTERRUPT), register sets,
// signal mask, pending signals, and syscall injection (compel-style: the thread
// runs one syscall instruction with our arguments, then everything is put back).
#pragma once
#include <stdint.h>

#include "arch_api.h"
#include "base.h"
#include "model.h"

class Tracee {
 public:
  explicit Tracee(int tid) : tid_(tid) {}
  int tid() const { return tid_; }

  // PTRACE_SEIZE and stop the thread (PTRACE_INTERRUPT); waits for the stop.
  Err seize_and_freeze();
  // Attach to a child that will stop itself with SIGSTOP (restore side).
  Err seize_child();
  Err wait_self_stop();
  // Let a thread in that stop go on (the SIGSTOP suppressed).
  Err cont();
  // The initial stop of a thread auto-attached by PTRACE_O_TRACECLONE.
  Err wait_event_stop();
  // Also trace threads this one creates (restore side, before injecting clone3).
  Err trace_clones();
  // Resume and forget the thread. sig != 0 is left pending for it (SIGSTOP for --stop).
  Err detach(int sig = 0);

  Err get_regs(arch::Regs *r);
  Err set_regs(const arch::Regs &r);
  Err get_regset(unsigned nt, uint8_t *buf, uint32_t cap, uint32_t *len);
  Err set_regset(unsigned nt, const uint8_t *buf, uint32_t len);
  Err get_sigmask(uint64_t *mask);
  Err set_sigmask(uint64_t mask);
  // Queued signals without dequeuing them (PTRACE_PEEKSIGINFO).
  Err peek_siginfo(bool shared, Vec<SiginfoRec> *out);

  // Syscall injection. begin() remembers the registers and signal mask and
  // blocks all signals, so nothing is delivered (or lost) meanwhile; end()
  // restores them and leaves the thread in the same kind of stop it was frozen
  // in, so the kernel's own syscall-restart logic applies when it resumes.
  Err inject_begin(uint64_t syscall_insn_addr);
  Err syscall(long nr, int64_t *ret, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
              uint64_t a4 = 0, uint64_t a5 = 0);
  Err inject_end();
  // Restore side: after the last injected syscall, load the final registers and
  // signal mask and let the thread go through a ptrace stop inside get_signal()
  // (arch_do_signal_or_restart) so that an interrupted syscall restarts as the
  // kernel would have restarted it; then detach.
  Err resume_with(const arch::Regs &final_regs, uint64_t mask);
  // Run the thread to its next syscall stop (entry or exit), all else as in injection.
  Err step_syscall(const char *phase);

 private:
  Err wait_stop(int *status);
  Err interrupt_and_wait();
  int tid_;
  bool injecting_ = false;
  uint64_t insn_ = 0;
  arch::Regs saved_{};
  uint64_t saved_mask_ = 0;
  bool stop_arrived_ = false;  // a SIGSTOP came in while injecting: re-sent at the end
};
