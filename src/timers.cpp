// POSIX timers (timer_create(2)). /proc/PID/timers (fs/proc/base.c: show_timer,
// CONFIG_CHECKPOINT_RESTORE) lists each timer's id, signal and sigev_value,
// notification kind and target, and clock; timer_gettime and timer_getoverrun,
// injected into the frozen target, tell the rest. A timer's pending signal is
// one of the pending signals (signals.cpp) and comes back with them.
//
// Ids: a restored timer must get its old id, which the program holds. Linux
// 6.17 and later take the wanted id in *created_timer_id while the process has
// PR_TIMER_CREATE_RESTORE_IDS on (kernel/time/posix-timers.c: posix_timer_add).
// Older kernels (Debian 12's 6.1) hand out ids in order from a per-process
// counter that starts at 0 in a new process: the timers are then created in id
// order, the gaps filled with timers deleted at once. A checkpoint whose ids
// that cannot reproduce within kMaxFillers is refused where the kernel lacks
// the prctl; a restore that still gets another id fails, naming the timer.
#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "codec.h"
#include "model.h"
#include "procattr.h"
#include "remote.h"
#include "process.h"
#include "procfs.h"
#include "ptrace.h"

namespace {
// include/uapi/linux/prctl.h
constexpr int kPrTimerCreateRestoreIds = 77, kRestoreIdsOff = 0, kRestoreIdsOn = 1, kRestoreIdsGet = 2;
// include/uapi/asm-generic/siginfo.h
constexpr int kSigevSignal = 0, kSigevNone = 1, kSigevThread = 2, kSigevThreadId = 4;
constexpr int32_t kMaxFillers = 4096;

struct KSigevent {  // struct sigevent: value, signo, notify, then a union whose first int is _tid
  uint64_t value;
  int32_t signo, notify, tid;
  int32_t pad[11];
};
static_assert(sizeof(KSigevent) == 64, "struct sigevent is 64 bytes");

int32_t cpu_clock_pid(int32_t c) { return ~(c >> 3); }
bool cpu_clock_thread(int32_t c) { return (c & 4) != 0; }

// "notify: signal/pid.123": the kind, then tid or pid and the target.
bool parse_notify(const char *v, TimerRec *t) {
  const char *slash = strchr(v, '/');
  if (!slash) return false;
  size_t k = (size_t)(slash - v);
  if (k == 6 && !strncmp(v, "signal", 6)) t->notify = kSigevSignal;
  else if (k == 4 && !strncmp(v, "none", 4)) t->notify = kSigevNone;
  else if (k == 6 && !strncmp(v, "thread", 6)) t->notify = kSigevThread;
  else return false;
  if (!strncmp(slash + 1, "tid.", 4)) t->notify |= kSigevThreadId;
  else if (strncmp(slash + 1, "pid.", 4)) return false;
  t->notify_tid = (t->notify & kSigevThreadId) ? atoi(slash + 5) : 0;
  return true;
}

Err refuse(int pid, const TimerRec &t, const char *why) {
  return errf("process %d: POSIX timer %d %s", pid, t.id, why);
}

bool has_tid(const TreeEntry &te, int tid) {
  for (int x : te.tids)
    if (x == tid) return true;
  return false;
}

Err check_timer(int pid, const TreeEntry &te, const TimerRec &t) {
  if (!timer_clock_ok(t.clock)) return refuse(pid, t, "uses a clock timer_create does not take");
  int32_t of = t.clock < 0 ? cpu_clock_pid(t.clock) : 0;
  if (t.clock < 0 && cpu_clock_thread(t.clock) && of == 0 && te.tids.size() > 1)
    return refuse(pid, t, "measures the CPU time of the thread that made it, which /proc does not tell");
  if (t.clock < 0 && cpu_clock_thread(t.clock) && of != 0 && !has_tid(te, of))
    return refuse(pid, t, "measures the CPU time of a thread of another process");
  if (t.clock < 0 && !cpu_clock_thread(t.clock) && of != 0 && of != te.pid)
    return refuse(pid, t, "measures the CPU time of another process");
  if (!timer_notify_ok(t.notify)) return refuse(pid, t, "has an unknown notification kind");
  if ((t.notify & kSigevThreadId) && !has_tid(te, t.notify_tid))
    return refuse(pid, t, "signals a thread that is not in the process");
  return ok();
}

int64_t ns_of(const int64_t ts[2]) { return ts[0] * 1000000000 + ts[1]; }

Err inject(Remote &t, long nr, int64_t *r, const char *what, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
           uint64_t a3 = 0) {
  TRY(t.call(nr, r, a0, a1, a2, a3));
  if (*r < 0) return errf("%s in process %d: %s", what, t.tid(), strerror((int)-*r));
  return ok();
}

// One timer_create; the kernel's id in *id (with restore ids on, *id is the wish).
Err create_one(Remote &t, int32_t clock, const KSigevent &ev, int32_t *id) {
  TRY(t.put(0, &ev, sizeof ev));
  TRY(t.put(sizeof ev, id, sizeof *id));
  int64_t r;
  TRY(t.call(SYS_timer_create, &r, (uint64_t)(int64_t)clock, t.at(0), t.at(sizeof ev)));
  if (r < 0) return errf("timer_create in process %d: %s", t.tid(), strerror((int)-r));
  return t.get(sizeof ev, id, sizeof *id);
}

// Linear ids: each try takes the next id; one below the wanted id is deleted.
Err create_linear(Remote &t, const TimerRec &tr, const KSigevent &ev) {
  for (int32_t n = 0; n <= kMaxFillers; n++) {
    int32_t id = 0;
    TRY(create_one(t, tr.clock, ev, &id));
    if (id == tr.id) return ok();
    if (id > tr.id) break;
    int64_t r;
    TRY(inject(t, SYS_timer_delete, &r, "timer_delete", (uint64_t)id));
  }
  return errf("process %d: POSIX timer %d cannot get its id back: this kernel hands out ids in order and has no "
              "PR_TIMER_CREATE_RESTORE_IDS", t.tid(), tr.id);
}
}  // namespace

Err dump_timer_list(int pid, const TreeEntry &te, Vec<TimerRec> *out) {
  Fd fd;
  TRY(open_proc(pid, "timers", &fd));
  LineReader lr(fd.get());
  TimerRec cur;
  bool have = false;
  while (char *line = lr.next()) {
    char *v = strchr(line, ':');
    if (!v) return errf("/proc/%d/timers: cannot parse '%s'", pid, line);
    *v++ = 0;
    while (*v == ' ') v++;
    if (!strcmp(line, "ID")) {
      if (have) out->push(cur);
      cur = TimerRec();
      cur.id = atoi(v);
      have = true;
    } else if (!strcmp(line, "signal")) {
      char *slash = strchr(v, '/');
      if (!slash) return errf("/proc/%d/timers: cannot parse signal '%s'", pid, v);
      cur.signo = atoi(v);
      cur.sigval = strtoull(slash + 1, nullptr, 16);
    } else if (!strcmp(line, "notify")) {
      if (!parse_notify(v, &cur)) return errf("/proc/%d/timers: cannot parse notify '%s'", pid, v);
    } else if (!strcmp(line, "ClockID")) {
      cur.clock = atoi(v);
    }
  }
  if (lr.error()) return sys_err("reading /proc/%d/timers", pid);
  if (have) out->push(cur);
  // ascending ids: the order they are created in at restore
  for (size_t i = 1; i < out->size(); i++)
    for (size_t j = i; j > 0 && (*out)[j - 1].id > (*out)[j].id; j--) std::swap((*out)[j - 1], (*out)[j]);
  if (out->size() > kMaxTimers) return errf("process %d has %zu POSIX timers (at most %u are saved)", pid, out->size(), kMaxTimers);
  for (auto &t : *out) TRY(check_timer(pid, te, t));
  return ok();
}

Err dump_timers_injected(Remote &t, ProcAttrs *a) {
  int32_t last = a->timers.empty() ? 0 : a->timers.back().id;
  if (last >= kMaxFillers && prctl(kPrTimerCreateRestoreIds, kRestoreIdsGet, 0, 0, 0) < 0)
    return errf("process %d: POSIX timer id %d cannot be reproduced: this kernel has no PR_TIMER_CREATE_RESTORE_IDS "
                "and hands out ids in order", t.tid(), last);
  for (auto &tr : a->timers) {
    int64_t r, spec[4];  // struct itimerspec: it_interval, it_value
    TRY(inject(t, SYS_timer_gettime, &r, "timer_gettime", (uint64_t)tr.id, t.at(0)));
    TRY(t.get(0, spec, sizeof spec));
    tr.interval_ns = (uint64_t)ns_of(spec);
    tr.value_ns = (uint64_t)ns_of(spec + 2);
    TRY(inject(t, SYS_timer_getoverrun, &r, "timer_getoverrun", (uint64_t)tr.id));
    // timer_getoverrun(2) tells the overrun of the last delivered signal; no
    // syscall sets it on a new timer. The next signal on time resets it: the
    // checkpoint tries again while the job runs (ErrKind::Busy, dump.cpp).
    if (r > 0)
      return with_kind(refuse(t.tid(), tr, "has an overrun count from its last signal, which cannot be restored"),
                       ErrKind::Busy);
  }
  return ok();
}

Err restore_timers(Remote &t, const ProcImage &img) {
  const Vec<TimerRec> &timers = img.attrs.timers;
  if (timers.empty()) return ok();
  int64_t r;
  TRY(t.call(SYS_prctl, &r, kPrTimerCreateRestoreIds, kRestoreIdsOn));
  bool explicit_ids = r == 0;
  for (auto &tr : timers) {
    KSigevent ev = {tr.sigval, tr.signo, tr.notify, tr.notify_tid, {}};
    if (!explicit_ids) {
      TRY(create_linear(t, tr, ev));
      continue;
    }
    int32_t id = tr.id;
    TRY(create_one(t, tr.clock, ev, &id));
    if (id != tr.id) return errf("process %d: POSIX timer %d came back with id %d", t.tid(), tr.id, id);
  }
  if (explicit_ids) TRY(inject(t, SYS_prctl, &r, "PR_TIMER_CREATE_RESTORE_IDS", kPrTimerCreateRestoreIds, kRestoreIdsOff));
  for (auto &tr : timers) {  // armed last, right before the process resumes
    if (!tr.value_ns) continue;
    int64_t spec[4] = {(int64_t)(tr.interval_ns / 1000000000), (int64_t)(tr.interval_ns % 1000000000),
                       (int64_t)(tr.value_ns / 1000000000), (int64_t)(tr.value_ns % 1000000000)};
    TRY(t.put(0, spec, sizeof spec));
    TRY(inject(t, SYS_timer_settime, &r, "timer_settime", (uint64_t)tr.id, 0, t.at(0), 0));
  }
  return ok();
}

Err check_timers_image(const ProcImage &img, const TreeEntry &te) {
  const Vec<TimerRec> &ts = img.attrs.timers;
  for (size_t i = 0; i < ts.size(); i++) {
    if (i && ts[i].id <= ts[i - 1].id) return bad_image("process %d: timer ids not ascending", te.pid);
    Err e = check_timer(te.pid, te, ts[i]);
    if (e) return bad_image("%s", e.msg);
  }
  return ok();
}
