// Process and thread attributes beyond identity (issue 10: never silently
// wrong): credentials, capabilities and securebits, no_new_privs, the
// parent-death signal, scheduling, CPU affinity, timer slack and name (all per
// thread in the kernel), the dumpable and child-subreaper flags, the OOM score
// adjustment, a group stop, interval timers and POSIX timers (per process). procattr.cpp and timers.cpp dump,
// encode, decode, check and restore them; docs/FORMAT.md has the records.
#pragma once
#include <stdint.h>

#include <fcntl.h>

#include "base.h"

class Tracee;
class Remote;
class ProcMem;
class ImageWriter;
struct Gadget;
struct ProcImage;
struct TreeEntry;
struct SetImage;

constexpr uint32_t kMaxGroups = 65536;   // NGROUPS_MAX (include/uapi/linux/limits.h)
constexpr uint32_t kAffinityBytes = 1024;  // 8192 CPUs: CONFIG_NR_CPUS's upper bound
constexpr uint32_t kMaxTimers = 4096;    // per process, a sanity bound on the image

struct ThreadAttrRec {  // Rec::ThreadAttr: one per thread, in TREE thread order
  int32_t tid = 0;
  uint32_t uid[4] = {}, gid[4] = {};  // real, effective, saved, filesystem (/proc/TID/status)
  Vec<uint32_t> groups;               // supplementary groups
  uint64_t cap_inh = 0, cap_prm = 0, cap_eff = 0, cap_bnd = 0, cap_amb = 0;
  uint32_t securebits = 0;            // PR_GET_SECUREBITS
  uint8_t no_new_privs = 0;
  uint32_t pdeathsig = 0;             // PR_GET_PDEATHSIG
  // struct sched_attr (include/uapi/linux/sched/types.h), from sched_getattr(2)
  uint32_t policy = 0;
  uint64_t sched_flags = 0;  // SCHED_FLAG_RESET_ON_FORK only
  int32_t nice = 0;
  uint32_t rt_priority = 0;
  uint64_t dl_runtime = 0, dl_deadline = 0, dl_period = 0;
  uint32_t util_min = 0, util_max = 1024;
  uint32_t affinity_len = 0;  // sched_getaffinity(2): bytes of the mask
  uint8_t affinity[kAffinityBytes] = {};
  uint64_t timerslack_ns = 0;  // PR_GET_TIMERSLACK
  char comm[16] = {};          // /proc/PID/task/TID/comm (PR_SET_NAME), NUL-terminated
};

struct ProcAttrRec {  // Rec::ProcAttr
  uint8_t dumpable = 1;    // PR_GET_DUMPABLE (per mm)
  uint8_t subreaper = 0;   // PR_GET_CHILD_SUBREAPER (per signal_struct)
  uint8_t stopped = 0;     // in a group stop (SIGSTOP, SIGTSTP...) at the checkpoint
  uint32_t stop_signal = 0;
  // getitimer(2) for ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF, in microseconds
  uint64_t itimer_value[3] = {}, itimer_interval[3] = {};
  int32_t oom_score_adj = 0;  // /proc/PID/oom_score_adj
};

struct TimerRec {  // Rec::Timer: one POSIX timer (timer_create(2)), ascending ids
  int32_t id = 0;
  int32_t clock = 0;       // clockid_t
  int32_t notify = 0;      // sigev_notify: SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, |SIGEV_THREAD_ID
  int32_t signo = 0;
  int32_t notify_tid = 0;  // SIGEV_THREAD_ID: the target thread
  uint64_t sigval = 0;     // sigev_value
  uint64_t value_ns = 0, interval_ns = 0;  // timer_gettime(2): remaining time (0: disarmed), interval
};

struct LockRec {  // Rec::Lock: one file lock the process holds (locks.cpp)
  static constexpr uint8_t kPosix = 1, kOfd = 2, kFlock = 3;
  int32_t fd = -1;     // an fd of the process it shows on (for OFD locks and flocks: of the description)
  uint8_t kind = 0;
  uint8_t write = 0;   // F_WRLCK / LOCK_EX, else F_RDLCK / LOCK_SH
  uint64_t start = 0;  // fcntl's range: start, length (0: to EOF); a flock: 0, 0
  uint64_t len = 0;
  uint32_t desc = 0;   // checkpoint only: the fd's description
};
constexpr uint32_t kMaxLocks = 65536;  // per process, a sanity bound on the image

struct ProcAttrs {
  bool have_proc = false;  // the PROC_ATTR record was read
  // checkpoint only: is the parent in the set, and did its main thread clone us
  bool parent_in_set = false, by_parent_main = false;
  ProcAttrRec proc;
  Vec<ThreadAttrRec> threads;
  Vec<TimerRec> timers;
  Vec<LockRec> locks;
};

// Checkpoint, before injection: /proc, sched_getattr, affinity, the stop state,
// the POSIX timer list. Refuses (one line naming the process or thread and the
// attribute) what cannot be restored exactly.
Err dump_attrs(Tracee &main, const TreeEntry &te, const SetImage &set, ProcAttrs *out);
// Checkpoint, injected into thread `index` of the process (0: main thread,
// which also answers the per-process questions). Needs g.scratch.
Err dump_attrs_injected(Remote &t, size_t index, ProcAttrs *a);
Err write_attrs(ImageWriter &w, const ProcAttrs &a);

// Is `type` one of the records here; decode one into a (false: malformed).
bool is_attr_record(uint32_t type);
bool decode_attr_record(uint32_t type, const uint8_t *p, size_t n, ProcAttrs *a);
// The records belong to this process: one PROC_ATTR, a THREAD_ATTR per thread
// in order, timers with ascending ids aimed at threads of the process.
Err check_attrs_image(const ProcImage &img, const TreeEntry &te);
// The same for every process of the set; called once the record that ended
// the metadata is known good (a damaged type there is reported as such).
Err check_attrs_set(const SetImage &set);
// A root restorer must not grant more than the image's real user had: refuses
// set-user-ID state, capabilities and groups that user does not have.
Err check_attr_rights(const ProcImage &img);

// Restore, injected into each thread after its other state, right before its
// registers are loaded: credentials, securebits, capabilities, no_new_privs,
// parent-death signal, scheduling, affinity; then a SIGSTOP if it was stopped.
Err restore_thread_attrs(Remote &t, const ProcImage &img, int tid);
// The main thread, last of its process, all other threads running: POSIX timers
// and interval timers (while still privileged), then its own thread attributes,
// then dumpable and child subreaper.
Err restore_main_attrs(Remote &main, const ProcImage &img);

// timers.cpp (used by procattr.cpp)
Err dump_timer_list(int pid, const TreeEntry &te, Vec<TimerRec> *out);
Err dump_timers_injected(Remote &t, ProcAttrs *a);
Err restore_timers(Remote &t, const ProcImage &img);

// locks.cpp: the locks fdinfo shows for fd `fd` (description `desc`) of a
// frozen process, once per description, or a refusal of one it cannot restore.
Err dump_fd_locks(int pid, int fd, uint32_t desc, const char *fdinfo, Vec<LockRec> *out);
// Each lock is on an fd the process has.
Err check_locks_image(const ProcImage &img, int pid);
// In new process k once its fds exist: its OFD locks and flocks (those of
// descriptions it holds first).
Err restore_description_locks(const SetImage &set, size_t k);
// Injected once the restorer's own fds are closed: its POSIX locks (procattr.cpp).
Err restore_posix_locks(Remote &rc, const ProcImage &img);
// Shared by both: fcntl's struct flock for a lock, and the error of taking it.
struct flock lock_range(const LockRec &l);
Err lock_failed(int pid, const LockRec &l, int err);

// attr_records.cpp: payloads (0: did not fit / false: malformed)
size_t encode_proc_attr(const ProcAttrRec &r, uint8_t *buf, size_t cap);
bool decode_proc_attr(const uint8_t *p, size_t n, ProcAttrRec *r);
size_t encode_thread_attr(const ThreadAttrRec &r, uint8_t *buf, size_t cap);
bool decode_thread_attr(const uint8_t *p, size_t n, ThreadAttrRec *r);
size_t encode_timer(const TimerRec &r, uint8_t *buf, size_t cap);
bool decode_timer(const uint8_t *p, size_t n, TimerRec *r);
size_t encode_lock(const LockRec &r, uint8_t *buf, size_t cap);
bool decode_lock(const uint8_t *p, size_t n, LockRec *r);
bool timer_clock_ok(int32_t clock);  // one timer_create takes
bool timer_notify_ok(int32_t notify);
Err check_timers_image(const ProcImage &img, const TreeEntry &te);
