// Payloads of PROC_ATTR, THREAD_ATTR, TIMER and LOCK (docs/FORMAT.md keeps the same
// field lists), apart from procattr.cpp and timers.cpp so that the unit tests
// link them alone. Decoders check every field's range: an image is untrusted.
#include "codec.h"
#include "image.h"
#include "procattr.h"

namespace {
constexpr uint64_t kOffsetMax = 0x7fffffffffffffffull;  // OFFSET_MAX
constexpr uint64_t kSchedFlagsKept = 0x07;  // RESET_ON_FORK, RECLAIM, DL_OVERRUN
// include/uapi/asm-generic/siginfo.h
constexpr int kSigevSignal = 0, kSigevNone = 1, kSigevThread = 2, kSigevThreadId = 4;
}  // namespace

// Clocks timer_create accepts (kernel/time/posix-timers.c: posix_clocks): no
// MONOTONIC_RAW or COARSE. CPU clocks are negative (include/linux/posix-timers.h:
// CPUCLOCK_PID, CPUCLOCK_PERTHREAD_MASK, CPUCLOCK_WHICH): pid 0 is the caller
// (the creating thread for a thread clock), which /proc shows as such.
bool timer_clock_ok(int32_t c) {
  if (c < 0) return (c & 3) != 3;
  return c == 0 || c == 1 || c == 7 || c == 8 || c == 9 || c == 11;
}
bool timer_notify_ok(int32_t n) {
  return n == kSigevSignal || n == kSigevNone || n == kSigevThread || n == (kSigevSignal | kSigevThreadId);
}

size_t encode_thread_attr(const ThreadAttrRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u32(r.tid);
  for (uint32_t v : r.uid) e.u32(v);
  for (uint32_t v : r.gid) e.u32(v);
  e.u32((uint32_t)r.groups.size());
  for (uint32_t g : r.groups) e.u32(g);
  e.u64(r.cap_inh); e.u64(r.cap_prm); e.u64(r.cap_eff); e.u64(r.cap_bnd); e.u64(r.cap_amb);
  e.u32(r.securebits); e.u8(r.no_new_privs); e.u32(r.pdeathsig);
  e.u32(r.policy); e.u64(r.sched_flags); e.u32((uint32_t)r.nice); e.u32(r.rt_priority);
  e.u64(r.dl_runtime); e.u64(r.dl_deadline); e.u64(r.dl_period); e.u32(r.util_min); e.u32(r.util_max);
  e.blob(r.affinity, r.affinity_len);
  e.u64(r.timerslack_ns);
  e.str(r.comm);
  return e.overflow() ? 0 : e.len();
}

bool decode_thread_attr(const uint8_t *p, size_t n, ThreadAttrRec *r) {
  Dec d(p, n);
  r->tid = (int32_t)d.u32();
  for (uint32_t &v : r->uid) v = d.u32();
  for (uint32_t &v : r->gid) v = d.u32();
  uint32_t ng = d.u32();
  if (ng > kMaxGroups) return false;
  for (uint32_t i = 0; i < ng && !d.bad(); i++) r->groups.push(d.u32());
  r->cap_inh = d.u64(); r->cap_prm = d.u64(); r->cap_eff = d.u64(); r->cap_bnd = d.u64(); r->cap_amb = d.u64();
  r->securebits = d.u32(); r->no_new_privs = d.u8(); r->pdeathsig = d.u32();
  r->policy = d.u32(); r->sched_flags = d.u64(); r->nice = (int32_t)d.u32(); r->rt_priority = d.u32();
  r->dl_runtime = d.u64(); r->dl_deadline = d.u64(); r->dl_period = d.u64(); r->util_min = d.u32(); r->util_max = d.u32();
  uint32_t len;
  const uint8_t *aff = d.blob(&len, kAffinityBytes);
  if (aff) memcpy(r->affinity, aff, len);
  r->affinity_len = aff ? len : 0;
  r->timerslack_ns = d.u64();
  d.str(r->comm, sizeof r->comm);
  return !d.bad() && d.left() == 0 && r->tid > 0 && r->no_new_privs <= 1 && r->pdeathsig <= 64 &&
         (r->sched_flags & ~kSchedFlagsKept) == 0 && r->nice >= -20 && r->nice <= 19 && r->policy <= 6 &&
         r->affinity_len > 0;
}

size_t encode_proc_attr(const ProcAttrRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u8(r.dumpable); e.u8(r.subreaper); e.u8(r.stopped); e.u32(r.stop_signal);
  for (int i = 0; i < 3; i++) { e.u64(r.itimer_value[i]); e.u64(r.itimer_interval[i]); }
  e.u32((uint32_t)r.oom_score_adj);
  return e.overflow() ? 0 : e.len();
}

bool decode_proc_attr(const uint8_t *p, size_t n, ProcAttrRec *r) {
  Dec d(p, n);
  r->dumpable = d.u8(); r->subreaper = d.u8(); r->stopped = d.u8(); r->stop_signal = d.u32();
  for (int i = 0; i < 3; i++) { r->itimer_value[i] = d.u64(); r->itimer_interval[i] = d.u64(); }
  r->oom_score_adj = (int32_t)d.u32();
  return !d.bad() && d.left() == 0 && r->oom_score_adj >= -1000 && r->oom_score_adj <= 1000 && r->dumpable <= 1 && r->subreaper <= 1 && r->stopped <= 1 &&
         r->stop_signal <= 64;
}

bool is_attr_record(uint32_t type) {
  return type == (uint32_t)Rec::ProcAttr || type == (uint32_t)Rec::ThreadAttr || type == (uint32_t)Rec::Timer ||
         type == (uint32_t)Rec::Lock;
}

bool decode_attr_record(uint32_t type, const uint8_t *p, size_t n, ProcAttrs *a) {
  switch ((Rec)type) {
    case Rec::ProcAttr:
      if (a->have_proc) return false;
      a->have_proc = true;
      return decode_proc_attr(p, n, &a->proc);
    case Rec::ThreadAttr: {
      ThreadAttrRec th;
      if (!decode_thread_attr(p, n, &th)) return false;
      a->threads.push(std::move(th));
      return true;
    }
    case Rec::Timer: {
      TimerRec t;
      if (a->timers.size() >= kMaxTimers || !decode_timer(p, n, &t)) return false;
      a->timers.push(t);
      return true;
    }
    case Rec::Lock: {
      LockRec l;
      if (a->locks.size() >= kMaxLocks || !decode_lock(p, n, &l)) return false;
      a->locks.push(l);
      return true;
    }
    default: return false;
  }
}

size_t encode_timer(const TimerRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u32((uint32_t)r.id); e.u32((uint32_t)r.clock); e.u32((uint32_t)r.notify); e.u32((uint32_t)r.signo);
  e.u32((uint32_t)r.notify_tid); e.u64(r.sigval); e.u64(r.value_ns); e.u64(r.interval_ns);
  return e.overflow() ? 0 : e.len();
}

bool decode_timer(const uint8_t *p, size_t n, TimerRec *r) {
  Dec d(p, n);
  r->id = (int32_t)d.u32(); r->clock = (int32_t)d.u32(); r->notify = (int32_t)d.u32(); r->signo = (int32_t)d.u32();
  r->notify_tid = (int32_t)d.u32(); r->sigval = d.u64(); r->value_ns = d.u64(); r->interval_ns = d.u64();
  bool signo_ok = r->notify == kSigevNone ? r->signo >= 0 && r->signo <= 64 : r->signo >= 1 && r->signo <= 64;
  return !d.bad() && d.left() == 0 && r->id >= 0 && timer_clock_ok(r->clock) && timer_notify_ok(r->notify) && signo_ok;
}

size_t encode_lock(const LockRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u32((uint32_t)r.fd);
  e.u8(r.kind);
  e.u8(r.write);
  e.u64(r.start);
  e.u64(r.len);
  return e.overflow() ? 0 : e.len();
}

// Ranges as fcntl takes them (start and length within off_t, l_len 0 to EOF); flocks whole.
bool decode_lock(const uint8_t *p, size_t n, LockRec *r) {
  Dec d(p, n);
  r->fd = (int32_t)d.u32();
  r->kind = d.u8();
  r->write = d.u8();
  r->start = d.u64();
  r->len = d.u64();
  if (d.bad() || d.left() || r->fd < 0 || r->kind < LockRec::kPosix || r->kind > LockRec::kFlock || r->write > 1)
    return false;
  if (r->kind == LockRec::kFlock) return r->start == 0 && r->len == 0;
  return r->start <= kOffsetMax && r->len <= kOffsetMax - r->start;
}
