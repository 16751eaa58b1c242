// Restore of a whole image (the engine under rstrt and restartd).
#pragma once
#include "base.h"
#include "fdesc.h"
#include "pathmap.h"

struct RestoreOptions {
  bool detach = false;               // -d: do not wait for the restored process
  bool allow_changed_files = false;  // map files that changed since the checkpoint anyway
  bool stop = false;                 // --stop: each process is left stopped (SIGSTOP)
  // The image comes from an authenticated stream (restartd): trusted as
  // root's. Otherwise a file is trusted as its owner's, a pipe or socket as
  // the caller's (docs/ROBUSTNESS.md).
  bool trusted_stream = false;
  Vec<InheritFd> inherit;  // rstrt --inherit-fd
  bool tcp_close = false;  // rstrt --tcp-close: established TCP connections come back aborted
  // rstrt --shell-job: rstrt's terminal (in the foreground: checked by the
  // caller), handed to the job's own process group before anything runs.
  int shell_tty = -1;
  bool progress = false;  // rstrt: bytes, rate, ETA on a terminal, for a large image
  Vec<PathMap> map_paths;  // rstrt --map-path OLD=NEW
  // A session leader whose controlling terminal was outside the set:
  // refused unless --ctty (it takes rstrt's terminal, checked free by the
  // caller: check_ctty_terminal) or --no-ctty (it comes back without one).
  enum class Ctty : uint8_t { Refuse, Take, None } ctty = Ctty::Refuse;
};
// rstrt --ctty: rstrt's terminal (fd 0-2) can become the controlling terminal
// of a restored session: it is no other session's, or rstrt leads the session
// that has it and hands it over (*hand_over: TIOCNOTTY before the job starts).
Err check_ctty_terminal(bool *hand_over);
// Restore the image read from fd. `roots` gets the restored processes whose
// parent was not checkpointed with them (they are children of the caller now).
Err restore_image(int fd, const RestoreOptions &opt, Vec<int> *roots);
// Every check restore_image makes of the image itself (framing, checksums,
// record order, field bounds, page runs inside their mappings, END), without
// creating any process: for `rstrt DIR` (pick the newest good generation) and
// the fuzz target.
Err check_image(int fd);
// check_image, and everything rstrt decides before its first side effect
// outside itself: the rights (as the caller), the file rights each process
// would open with, fd slots and gadget addresses. Opens and creates nothing:
// the fuzz target's whole restore planner.
Err plan_image(int fd);
