// Parsers for /proc text (proc(5)). Pure functions over text so that they can be
// unit-tested against captured files; the readers that feed them live beside.
#pragma once
#include <stdint.h>

#include "base.h"

// One line of /proc/PID/maps (also the header line of each smaps entry):
//   start-end perms offset major:minor inode [path]
struct MapsLine {
  uint64_t start = 0, end = 0, offset = 0, inode = 0;
  uint32_t dev_major = 0, dev_minor = 0;
  bool r = false, w = false, x = false, shared = false;
  const char *path = "";  // points into the parsed line; "" for anonymous
};
bool parse_maps_line(char *line, MapsLine *out);
// Is this smaps line the header of a new mapping (as opposed to "Name: value")?
bool is_maps_header(const char *line);

// VmFlags (smaps) bits chkpt reproduces or reports; see fs/proc/task_mmu.c show_smap_vma_flags.
enum VmFlag : uint32_t {
  kVmGrowsDown = 1 << 0,   // gd
  kVmDontCopy = 1 << 1,    // dc (MADV_DONTFORK)
  kVmDontDump = 1 << 2,    // dd (MADV_DONTDUMP)
  kVmWipeOnFork = 1 << 3,  // wf (MADV_WIPEONFORK)
  kVmHugePage = 1 << 4,    // hg (MADV_HUGEPAGE)
  kVmNoHugePage = 1 << 5,  // nh (MADV_NOHUGEPAGE)
  kVmMayWrite = 1 << 6,    // mw
  kVmLocked = 1 << 7,      // lo
  kVmIo = 1 << 8,          // io / pf: device memory, cannot be saved
  kVmAccount = 1 << 9,     // ac: charged to overcommit accounting (private writable, now or once)
  kVmLockOnFault = 1 << 10,  // lf: mlock2(MLOCK_ONFAULT)
  kVmSeqRead = 1 << 11,    // sr: MADV_SEQUENTIAL
  kVmRandRead = 1 << 12,   // rr: MADV_RANDOM
  kVmMergeable = 1 << 13,  // mg: MADV_MERGEABLE (KSM)
  kVmDroppable = 1 << 14,  // dp: MAP_DROPPABLE (Linux 6.11)
  kVmUnsaved = 1u << 31,   // um uw ui ss mt sl: userfaultfd, shadow stack, MTE, mseal: refused
};
uint32_t parse_vmflags(const char *value);

// "Key:\tvalue" lookup in /proc/PID/status-style text; copies the value (trimmed).
bool status_field(const char *text, const char *key, char *out, size_t cap);
// The resident size of process pid (VmRSS), for a progress meter's ETA: an
// image holds about that. 0 if unknown.
uint64_t resident_bytes(int pid);
bool status_u64(const char *text, const char *key, uint64_t *out);

// /proc/PID/stat: field n (1-based as in proc(5)); comm (field 2) may hold spaces
// and parentheses, so fields after it are counted from the last ')'.
bool stat_field(const char *text, int n, uint64_t *out);
bool stat_state(const char *text, char *state);
// Is pid (or a thread ID) a live task, not a zombie?
bool process_alive(int pid);

// /proc/PID/fdinfo/N: pos, flags (octal), mnt_id.
struct FdInfo {
  uint64_t pos = 0;
  uint32_t flags = 0;
  uint64_t mnt_id = 0;
};
bool parse_fdinfo(const char *text, FdInfo *out);

// A whole (procfs) file of any length into out.
Err read_whole(const char *path, Str *out);

// Open /proc/PID/NAME (read-only, close-on-exec); fails naming the path.
Err open_proc(int pid, const char *name, Fd *out);

// Buffered line reader over an fd (procfs files can be larger than any fixed buffer).
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // Next line without its newline, or nullptr at end / on error (error() tells).
  char *next();
  bool error() const { return err_; }

 private:
  int fd_;
  char buf_[8192 + 1];
  size_t have_ = 0, at_ = 0;
  bool eof_ = false, err_ = false;
};
