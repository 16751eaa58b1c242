// Checkpoint of a whole set (the engine under chkpt, migrate and --every);
// restore is restore.h.
#pragma once
#include "base.h"
#include "image.h"
#include "tree.h"

enum class AfterDump { Run, Stop, Kill };

struct DumpStats {
  uint64_t image_bytes = 0, saved_bytes = 0, mapped_bytes = 0;
  uint32_t processes = 0;
};

// Freeze the set (`scope` around process, group or session `id`) and write its
// image to `w`. The set stays frozen and traced on return, success or not;
// finish() lets it go as asked.
// The default of chkpt --ghost-limit: the most data (holes not counted) a
// deleted file that the set holds open or mapped may have to be saved.
constexpr uint64_t kDefaultGhostLimit = 1u << 20;

// What the user decides about a checkpoint (chkpt's options).
struct DumpOptions {
  uint64_t ghost_limit = kDefaultGhostLimit;
  // fds (besides 0, 1 and 2) whose other end may be outside the set: saved as
  // external, supplied by rstrt (chkpt --external N).
  static constexpr int kMaxExternal = 64;
  int external[kMaxExternal] = {};
  int nr_external = 0;
  // chkpt --tcp-close: established TCP connections are saved as aborted,
  // without repair mode (the running job's connections are not touched).
  bool tcp_close = false;
  // chkpt --compress: page data as PAGES_LZ4 where it compresses.
  bool compress = false;
};

class Dumper {
 public:
  Dumper(Scope scope, int id, const DumpOptions *opts = nullptr) : scope_(scope), id_(id), opts_(opts) {}
  Err freeze_and_write(ImageWriter &w, DumpStats *stats);
  // Release: Run resumes it untouched, Stop leaves it stopped, Kill ends it.
  Err finish(AfterDump how);

 private:
  Scope scope_;
  int id_;
  // Freeze and collect, again while the job is caught in a state that it
  // leaves by itself (ErrKind::Busy).
  Err collect_settled(SetImage *set);
  const DumpOptions *opts_;  // nullptr: the defaults
  FrozenSet frozen_;
  Vec<int> repaired_;  // (pid, fd) of TCP connections put in repair mode
};

// A whole checkpoint as chkpt runs it (in its worker, periodic.cpp): freeze,
// write the image to `out` (output.h: temporary file, sync, rename), then
// release the set as asked, never before the image is durable.
struct DumpJob {
  const char *out = nullptr;  // image path, "-", or with --every the directory
  int out_dir = -1;  // a generation of --every: the checked directory out is in
  AfterDump after = AfterDump::Run;
  Scope scope = Scope::Tree;
  int pid = -1;  // process, process group or session ID (scope)
  bool periodic = false;  // a generation of --every: quiet if the target is gone
  bool progress = false;  // bytes, rate and ETA on stderr if a terminal, for a large job
  DumpOptions opts;
};
Err dump_job(const DumpJob &job);

// The handshake with a process linked with libchkpt (src/callbacks.cpp,
// docs/API.md): its callbacks run and its critical sections end before the
// freeze, bounded by timeout_ms.
struct CallbackOptions {
  bool skip = false;     // chkpt --no-callbacks
  bool nowait = false;   // chkpt --nowait: fail at once if it is in a critical section
  uint64_t timeout_ms = 10000;  // chkpt --callback-timeout
};
// *engaged: the process took part, so it is told the outcome (callbacks_after).
// An error: the process refused or did not answer; it was not touched.
Err callbacks_before(const DumpJob &job, const CallbackOptions &o, bool *engaged);
void callbacks_after(int pid, bool failed);
