// rstrt --pidns: restore into a new PID namespace, where the image's PIDs are
// free whatever holds them on the host (pid_namespaces(7)).
#pragma once
#include "base.h"

// rstrt forks the namespace's init (PID 1 there, in a mount namespace of its
// own with its own /proc) and that init runs the whole restore: inside, the
// processes get their original PIDs (clone3 set_tid[0] is the PID in the
// innermost namespace, clone(2)), and /proc/PID, ptrace and waitpid see them.
struct PidNs {
  int init = -1;     // in rstrt: the init's PID; 0 in the init itself
  int report = -1;   // the init's verdict, init -> rstrt
};
// Fork the init. Returns in both processes (ns->init tells which).
Err pidns_enter(PidNs *ns);
// In the init, once the restore is done (e) or failed: tell rstrt. With
// detach, the init then lets go of rstrt's stdio (a `$(rstrt -d ...)` ends).
void pidns_report(PidNs &ns, const Err &e, const Vec<int> &roots, bool detach);
// In rstrt: the init's verdict, and the restored roots as rstrt sees them (as
// -d prints them).
Err pidns_result(PidNs &ns, Vec<int> *roots);
