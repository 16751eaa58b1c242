// Checkpoint and restore of a whole image (the engine under the commands).
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
class Dumper {
 public:
  Dumper(Scope scope, int id) : scope_(scope), id_(id) {}
  Err freeze_and_write(ImageWriter &w, DumpStats *stats);
  // Release: Run resumes it untouched, Stop leaves it stopped, Kill ends it.
  Err finish(AfterDump how);

 private:
  Scope scope_;
  int id_;
  FrozenSet frozen_;
};

struct RestoreOptions {
  bool detach = false;        // -d: do not wait for the restored process
  bool allow_changed_files = false;  // map files that changed since the checkpoint anyway
};
// Restore the image read from fd. `roots` gets the restored processes whose
// parent was not checkpointed with them (they are children of the caller now).
Err restore_image(int fd, const RestoreOptions &opt, Vec<int> *roots);
// Every check restore_image makes of the image itself (framing, checksums,
// record order, field bounds, page runs inside their mappings, END), without
// creating any process: for `rstrt DIR` (pick the newest good generation) and
// the fuzz target.
Err check_image(int fd);
