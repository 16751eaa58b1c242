// aarch64 overrides arch/generic/syscall_restart.h: arm64 rewinds an
// interrupted syscall before get_signal() (syscall_restart.cpp, docs/CROSS.md).
#pragma once

namespace arch {
// Called once a thread is frozen (PTRACE_INTERRUPT stop in get_signal()).
// arm64 has already rewound an interrupted syscall at that point (pc on the
// svc, x0 = its first argument again) but keeps "restart it through
// restart_syscall" in locals that injecting syscalls would lose; this puts the
// thread back in the same stop with x8 = the number it would really enter.
Err settle_after_freeze(Tracee &t);
}  // namespace arch
