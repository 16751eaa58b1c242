// Where an image goes: a path (written to a temporary file in the same directory,
// fsync'd and renamed over the path, so a crash leaves the previous image intact)
// or standard output ("-"). And where one comes from: a path or stdin ("-").
// Either way "fd:N" (an inherited socket, pipe or serial line) and an existing
// FIFO or character device are used in place; a terminal is set to raw mode.
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

// A directory holds periodic checkpoints (chkpt --every): generations
// DIR/00000001.img, DIR/00000002.img, ... (8 digits or more). A generation is
// complete once it has that name: it is written as NNNNNNNN.img.tmp.PID, synced,
// renamed and the directory synced. open_input() of a directory takes the newest
// generation that passes every check rstrt makes (check_image), so a damaged
// newest one falls back to the one before, with a warning.
Err open_input(const char *path, Fd *out);
void generation_path(const char *dir, uint64_t n, char *out, size_t cap);
Err list_generations(const char *dir, Vec<uint64_t> *out);  // ascending
Err list_temp_generations(const char *dir, Vec<Str> *names);  // NNNNNNNN.img.tmp.PID
