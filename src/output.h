// Where an image goes: a path (written to a temporary file in the same directory,
// fsync'd and renamed over the path, so a crash leaves the previous image intact)
// or standard output ("-"). And where one comes from: a path or stdin ("-").
#pragma once
#include "base.h"

class Output {
 public:
  Output() = default;
  Output(const Output &) = delete;
  ~Output() { abandon(); }
  Err open(const char *path);
  int fd() const { return fd_.get(); }
  // Make the image durable under its final name.
  Err commit();
  // Remove the temporary file (after a failure).
  void abandon();

 private:
  Fd fd_;
  char path_[4096] = {}, tmp_[4200] = {};
  bool is_stdout_ = false, committed_ = false;
};

Err open_input(const char *path, Fd *out);
