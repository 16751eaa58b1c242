// timerfd(2): fdinfo shows the clock, the expirations not yet read, the
// settime flags and the timer as timerfd_gettime(2) reports it (fs/timerfd.c
// timerfd_show): "clockid: N", "ticks: N", "settime flags: 0NN",
// "it_value: (sec, nsec)" (the time left), "it_interval: (sec, nsec)".
// Restored with timerfd_settime: a TFD_TIMER_ABSTIME timer at the same
// absolute time (saved as now + time left on its clock), a relative one with
// the time it had left; the unread expirations with TFD_IOC_SET_TICKS
// (CONFIG_CHECKPOINT_RESTORE).
//
// Payload: u32 clockid, u32 settime flags, u64 ticks, u64 value_sec,
// value_nsec (absolute for TFD_TIMER_ABSTIME, else the time left; 0, 0:
// disarmed), u64 interval_sec, interval_nsec; empty blob.
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "procfs.h"

namespace {
// TFD_IOC_SET_TICKS (include/uapi/linux/timerfd.h): the ioctl encoding is
// the architecture's (powerpc's differs), so from libc's _IOW.
const unsigned long kSetTicks = _IOW('T', 0, uint64_t);
constexpr uint32_t kAbsTime = 1, kCancelOnSet = 2;  // TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET

struct TimerFields {
  uint32_t clock = 0, flags = 0;
  uint64_t ticks = 0;
  struct itimerspec it = {};
};

bool fields(const FdescRec &f, TimerFields *t) {
  Dec d = payload_of(f);
  t->clock = d.u32();
  t->flags = d.u32();
  t->ticks = d.u64();
  t->it.it_value.tv_sec = (time_t)d.u64();
  t->it.it_value.tv_nsec = (long)d.u64();
  t->it.it_interval.tv_sec = (time_t)d.u64();
  t->it.it_interval.tv_nsec = (long)d.u64();
  uint32_t n;
  d.blob(&n, 0);
  return payload_done(d);
}

// "(sec, nsec)" after the key.
bool pair_field(const char *info, const char *key, struct timespec *ts) {
  char v[64];
  if (!status_field(info, key, v, sizeof v) || v[0] != '(') return false;
  char *end;
  ts->tv_sec = (time_t)strtoull(v + 1, &end, 10);
  if (*end != ',') return false;
  ts->tv_nsec = (long)strtoull(end + 1, &end, 10);
  return *end == ')';
}

bool match(const FdProbe &p) { return strcmp(p.link, "anon_inode:[timerfd]") == 0; }

// A periodic timer that expired is re-armed only when it is read or asked
// about: until then fdinfo counts one expiration and shows no time left.
// timerfd_gettime(2) on a duplicate (pidfd_getfd(2)) does what the target's
// own would: adds the periods missed to the unread count and re-arms it,
// consuming nothing. Then fdinfo tells all.
Err settle(const FdProbe &p, Str *info) {
  Fd pidfd(syscall(SYS_pidfd_open, p.pid, 0));
  Fd dup(pidfd.ok() ? syscall(SYS_pidfd_getfd, pidfd.get(), p.fd, 0) : -1);
  struct itimerspec it;
  if (!dup.ok() || timerfd_gettime(dup.get(), &it) < 0) return sys_err("timerfd of process %d fd %d", p.pid, p.fd);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", p.pid, p.fd);
  return read_whole(path, info);
}

Err dump(const FdProbe &p, FdescRec *f) {
  char v[32];
  TimerFields t;
  Str info;
  TRY(settle(p, &info));
  if (!status_field(info.c(), "clockid", v, sizeof v)) return errf("process %d fd %d: no timerfd clockid", p.pid, p.fd);
  t.clock = (uint32_t)strtoul(v, nullptr, 10);
  if (status_field(info.c(), "ticks", v, sizeof v)) t.ticks = strtoull(v, nullptr, 10);
  if (status_field(info.c(), "settime flags", v, sizeof v)) t.flags = (uint32_t)strtoul(v, nullptr, 8);
  if (!pair_field(info.c(), "it_value", &t.it.it_value) || !pair_field(info.c(), "it_interval", &t.it.it_interval))
    return errf("process %d fd %d: cannot parse the timerfd's fdinfo", p.pid, p.fd);
  bool armed = t.it.it_value.tv_sec || t.it.it_value.tv_nsec;
  // A periodic timer that expired again between the settling and the read
  // of fdinfo shows no time left but is armed: it is due now (1 ns). Saved as
  // disarmed, it would lose its interval (seen in a loaded guest).
  if (!armed && (t.it.it_interval.tv_sec || t.it.it_interval.tv_nsec)) {
    t.it.it_value.tv_nsec = 1;
    t.flags &= ~kAbsTime;
  }
  if (armed && (t.flags & kAbsTime)) {  // back to the absolute time it was set for
    struct timespec now;
    if (clock_gettime((clockid_t)t.clock, &now) < 0) return sys_err("clock %u of process %d fd %d", t.clock, p.pid, p.fd);
    t.it.it_value.tv_sec += now.tv_sec;
    t.it.it_value.tv_nsec += now.tv_nsec;
    if (t.it.it_value.tv_nsec >= 1000000000) { t.it.it_value.tv_sec++; t.it.it_value.tv_nsec -= 1000000000; }
  }
  uint8_t head[64];
  Enc e(head, sizeof head);
  e.u32(t.clock); e.u32(t.flags); e.u64(t.ticks);
  e.u64((uint64_t)t.it.it_value.tv_sec); e.u64((uint64_t)t.it.it_value.tv_nsec);
  e.u64((uint64_t)t.it.it_interval.tv_sec); e.u64((uint64_t)t.it.it_interval.tv_nsec);
  return set_payload(f, e, nullptr, 0);
}

bool valid(const FdescRec &f) {
  TimerFields t;
  return fields(f, &t) && t.clock < 16 && !(t.flags & ~(kAbsTime | kCancelOnSet)) && t.it.it_value.tv_sec >= 0 &&
         (uint64_t)t.it.it_value.tv_nsec < 1000000000 && t.it.it_interval.tv_sec >= 0 &&
         (uint64_t)t.it.it_interval.tv_nsec < 1000000000;
}

Err open_timerfd(OpenCtx &c, size_t i) {
  TimerFields t;
  if (!fields(c.set.fdescs[i], &t)) return bad_image("timerfd description %u", (unsigned)i);
  Fd fd(timerfd_create((clockid_t)t.clock, TFD_CLOEXEC));
  if (!fd.ok()) return sys_err("timerfd_create on clock %u", t.clock);
  if ((t.it.it_value.tv_sec || t.it.it_value.tv_nsec) && timerfd_settime(fd.get(), (int)t.flags, &t.it, nullptr) < 0)
    return sys_err("timerfd_settime");
  if (t.ticks && ioctl(fd.get(), kSetTicks, &t.ticks) < 0) return sys_err("restoring a timerfd's %llu expirations", (unsigned long long)t.ticks);
  return c.place(i, fd.release());
}
}  // namespace

extern const FdKind kTimerfdKind = {
    FileKind::Timerfd, "timerfd", match, dump, valid, open_timerfd, nullptr, nullptr, nullptr, nullptr,
};
