// Checkpoint and restore of a whole image (the engine under the commands).
#pragma once
#include "base.h"
#include "image.h"

enum class AfterDump { Run, Stop, Kill };

struct DumpStats {
  uint64_t image_bytes = 0, saved_bytes = 0, mapped_bytes = 0;
};

// Freeze `pid` and write its image to `w`. The target stays frozen and traced
// on return, success or not; finish_dump() lets it go as asked.
class Dumper {
 public:
  explicit Dumper(int pid) : pid_(pid) {}
  Err freeze_and_write(ImageWriter &w, DumpStats *stats);
  // Release: Run resumes it untouched, Stop leaves it stopped, Kill ends it.
  Err finish(AfterDump how);
  bool frozen() const { return frozen_; }

 private:
  int pid_;
  bool frozen_ = false;
};

struct RestoreOptions {
  bool detach = false;        // -d: do not wait for the restored process
};
// Restore the image read from fd; *pid_out is the restored process.
Err restore_image(int fd, const RestoreOptions &opt, int *pid_out);
