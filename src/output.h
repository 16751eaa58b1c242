// Where an image goes, and where one comes from (docs/ROBUSTNESS.md, "Trust
// model for output paths and directories"):
//   PATH        a regular file. Written to PATH.tmp.N (O_EXCL, beside it), fsync'd
//               and renamed over PATH, so a crash leaves the previous image
//               intact. An existing PATH that is not a regular file (a FIFO or
//               device someone planted there) is refused: chkpt, often root,
//               never pours a process's memory into something it did not ask for.
//   -           standard output / input (a terminal is refused).
//   fd:N        an inherited socket, pipe or serial line, used in place.
//   fifo:PATH   an existing FIFO, used in place.
//   dev:PATH    an existing character device (a serial line), used in place.
// A terminal is set to raw mode. For reading, a FIFO or character device
// named by its bare PATH is still read in place.
#pragma once
#include <fcntl.h>

#include "base.h"

class Output {
 public:
  Output() = default;
  Output(const Output &) = delete;
  ~Output() { abandon(); }
  // dirfd >= 0: path names a file in that (already checked) directory; its
  // last component is created there, whatever the path now leads to.
  Err open(const char *path, int dirfd = -1);
  int fd() const { return fd_.get(); }
  // Make the image durable under its final name.
  Err commit();
  // Remove the temporary file (after a failure).
  void abandon();

 private:
  Err open_file(const char *path, int dirfd);
  int at() const { return dir_.ok() ? dir_.get() : AT_FDCWD; }
  Fd fd_, dir_;  // dir_: the directory given to open(), if any
  char path_[4096] = {}, name_[4096] = {}, tmp_[4200] = {};
  bool is_stdout_ = false, committed_ = false;
};

// A directory holds periodic checkpoints (chkpt --every): generations
// DIR/00000001.img, DIR/00000002.img, ... (8 digits or more). A generation is
// complete once it has that name: it is written as NNNNNNNN.img.tmp.PID, synced,
// renamed and the directory synced. open_input() of a directory takes the newest
// generation that passes every check rstrt makes (check_image), so a damaged
// newest one falls back to the one before, with a warning.
Err open_input(const char *path, Fd *out);
// A directory whose contents are trusted (generations, restartd --dir): nobody
// but its owner can change them, and the owner is the caller or root. Refused
// otherwise (group- or other-writable, sticky too; another user's), naming it.
Err check_trusted_dir(int dirfd, const char *path);
// Open (with create, mkdir 0700 first) and check a directory of generations.
Err open_generation_dir(const char *path, bool create, Fd *out);
void generation_name(uint64_t n, char *out, size_t cap);  // "00000042.img"
Err list_generations(int dirfd, const char *dir, Vec<uint64_t> *out);  // ascending
Err list_temp_generations(int dirfd, const char *dir, Vec<Str> *names);  // NNNNNNNN.img.tmp.PID
