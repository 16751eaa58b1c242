// What a thread frozen in get_signal() needs before syscalls are injected into
// it (src/arch_api.h). Nothing, where the kernel's syscall-restart code runs
// after get_signal() returns and reads only registers that travel in
// NT_PRSTATUS (x86_64: arch_do_signal_or_restart, rax and orig_rax; ppc64:
// check_syscall_restart, r3, orig_gpr3, ccr and trap). An architecture that
// decides before, as aarch64 does, overrides this file (docs/CROSS.md).
#pragma once

namespace arch {
inline Err settle_after_freeze(Tracee &) { return ok(); }
}  // namespace arch
