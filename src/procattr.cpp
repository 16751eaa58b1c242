// Credentials, capabilities, securebits, no_new_privs, parent-death signal,
// scheduling and affinity per thread; dumpable, child subreaper and group stop
// per process (procattr.h). What /proc or a syscall from outside shows is read
// from outside; what only the thread itself can ask (prctl getters) is injected.
// Restore runs in the restored thread itself, so the kernel checks every change
// against the credentials and limits the process gets back (proc(5),
// capabilities(7), sched(7), prctl(2)).
#include "procattr.h"
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "codec.h"
#include "image.h"
#include "model.h"
#include "process.h"
#include "procfs.h"
#include "ptrace.h"

namespace {
char status_buf[1 << 19];  // /proc/TID/status; Groups: can list 65536 ids (bss, not in the file)
uint8_t rec_buf[8192 + 4 * kMaxGroups];

// include/uapi/linux/securebits.h, capability.h, sched.h
constexpr uint32_t kSecbitNoSetuidFixup = 1u << 2;
constexpr int kCapSetpcap = 8;
constexpr uint64_t kSchedFlagUtilClamp = 0x60;
constexpr uint64_t kSchedFlagsKept = 0x07;  // RESET_ON_FORK, RECLAIM, DL_OVERRUN
constexpr int kCapV3 = 0x20080522;

struct SchedAttr {  // struct sched_attr, SCHED_ATTR_SIZE_VER1
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
  uint32_t util_min, util_max;
};

bool parse_ids(const char *text, const char *key, uint32_t out[4]) {
  char v[128];
  if (!status_field(text, key, v, sizeof v)) return false;
  char *s = v;
  for (int i = 0; i < 4; i++) {
    char *end;
    out[i] = (uint32_t)strtoul(s, &end, 10);
    if (end == s) return false;
    s = end;
  }
  return true;
}

bool parse_hex(const char *text, const char *key, uint64_t *out) {
  char v[32];
  if (!status_field(text, key, v, sizeof v)) return false;
  char *end;
  *out = strtoull(v, &end, 16);
  return end != v && *end == 0;
}

bool parse_groups(const char *text, Vec<uint32_t> *out) {
  const char *line = strstr(text, "\nGroups:");
  if (!line) return false;
  const char *s = line + 8;
  for (;;) {
    while (*s == ' ' || *s == '\t') s++;
    if (*s < '0' || *s > '9') return *s == '\n' || *s == 0;
    char *end;
    out->push((uint32_t)strtoul(s, &end, 10));
    s = end;
  }
}

Err read_thread_status(int pid, int tid, ThreadAttrRec *th) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/status", pid, tid);
  size_t n = 0;
  TRY(read_text(path, status_buf, sizeof status_buf, &n));
  if (n >= sizeof status_buf - 1) return errf("%s is too large", path);
  uint64_t nnp = 0, seccomp = 0;
  bool good = parse_ids(status_buf, "Uid", th->uid) && parse_ids(status_buf, "Gid", th->gid) &&
              parse_groups(status_buf, &th->groups) && parse_hex(status_buf, "CapInh", &th->cap_inh) &&
              parse_hex(status_buf, "CapPrm", &th->cap_prm) && parse_hex(status_buf, "CapEff", &th->cap_eff) &&
              parse_hex(status_buf, "CapBnd", &th->cap_bnd) && parse_hex(status_buf, "CapAmb", &th->cap_amb) &&
              status_u64(status_buf, "NoNewPrivs", &nnp) && status_u64(status_buf, "Seccomp", &seccomp);
  if (!good) return errf("cannot parse %s", path);
  if (seccomp) return errf("process %d thread %d: seccomp mode %llu: its filters cannot be saved", pid, tid,
                           (unsigned long long)seccomp);
  th->no_new_privs = nnp != 0;
  snprintf(path, sizeof path, "/proc/%d/task/%d/comm", pid, tid);
  char comm[32];  // TASK_COMM_LEN 16 with its newline
  TRY(read_text(path, comm, sizeof comm));
  comm[strcspn(comm, "\n")] = 0;
  size_t len = strlen(comm) < sizeof th->comm ? strlen(comm) : sizeof th->comm - 1;
  memcpy(th->comm, comm, len);
  th->comm[len] = 0;
  return ok();
}

Err get_sched(int tid, SchedAttr *a) {
  memset(a, 0, sizeof *a);
  if (syscall(SYS_sched_getattr, tid, a, sizeof *a, 0) < 0) return sys_err("sched_getattr %d", tid);
  return ok();
}

Err read_thread_sched(int pid, int tid, ThreadAttrRec *th) {
  SchedAttr a;
  TRY(get_sched(tid, &a));
  th->policy = a.policy;
  th->sched_flags = a.flags & kSchedFlagsKept;
  th->nice = a.nice;
  th->rt_priority = a.priority;
  th->dl_runtime = a.runtime;
  th->dl_deadline = a.deadline;
  th->dl_period = a.period;
  th->util_min = a.util_min;
  th->util_max = a.util_max;
  long n = syscall(SYS_sched_getaffinity, tid, kAffinityBytes, th->affinity);
  if (n < 0) return sys_err("sched_getaffinity of thread %d of process %d", tid, pid);
  th->affinity_len = (uint32_t)n;
  return ok();
}

// PTRACE_GETSIGINFO at the freeze's PTRACE_EVENT_STOP: the stop signal if the
// process is in a group stop, SIGTRAP if not (kernel/signal.c: do_jobctl_trap).
Err read_stop_state(int pid, ProcAttrRec *p) {
  siginfo_t si;
  if (ptrace((int)PTRACE_GETSIGINFO, pid, nullptr, &si) < 0) return sys_err("PTRACE_GETSIGINFO %d", pid);
  p->stopped = si.si_signo != SIGTRAP;
  p->stop_signal = p->stopped ? (uint32_t)si.si_signo : 0;
  return ok();
}

// The thread of the parent that cloned this process: /proc/PPID/task/TID/children.
bool cloned_by_parent_main(int pid, int ppid) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", ppid, ppid);
  if (read_text(path, buf, sizeof buf)) return false;
  for (char *s = buf; *s;) {
    char *end;
    long c = strtol(s, &end, 10);
    if (end == s) break;
    if (c == pid) return true;
    s = end;
  }
  return false;
}

bool in_set(const SetImage &set, int pid) {
  for (auto &e : set.tree)
    if (e.pid == pid) return true;
  return false;
}

// Restored children are cloned by their parent's main thread, and a process
// whose parent is outside the set becomes rstrt's child: the parent-death
// signal would then fire at another death than the one it waits for.
Err check_pdeathsig(const ThreadAttrRec &th, const ProcAttrs &a) {
  if (!th.pdeathsig) return ok();
  int pid = a.threads[0].tid;
  if (!a.parent_in_set)
    return errf("process %d thread %d: parent-death signal %u, and its parent is not checkpointed with it", pid,
                th.tid, th.pdeathsig);
  if (!a.by_parent_main)
    return errf("process %d thread %d: parent-death signal %u, tied to a thread of its parent other than the "
                "main one", pid, th.tid, th.pdeathsig);
  return ok();
}

Err inject(Remote &t, long nr, int64_t *r, const char *what, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
           uint64_t a3 = 0) {
  TRY(t.call(nr, r, a0, a1, a2, a3));
  if (*r < 0) return errf("%s in thread %d: %s", what, t.tid(), strerror((int)-*r));
  return ok();
}

Err put(ImageWriter &w, Rec type, size_t len) {
  if (!len) return errf("%s record does not fit", rec_name((uint32_t)type));
  return w.record(type, rec_buf, len);
}

}  // namespace

// ---- checkpoint ---------------------------------------------------------------

Err dump_attrs(Tracee &main, const TreeEntry &te, const SetImage &set, ProcAttrs *out) {
  for (int tid : te.tids) {
    ThreadAttrRec &th = out->threads.push(ThreadAttrRec());
    th.tid = tid;
    TRY(read_thread_status(te.pid, tid, &th));
    TRY(read_thread_sched(te.pid, tid, &th));
  }
  TRY(read_stop_state(main.tid(), &out->proc));
  char path[64], adj[16];
  snprintf(path, sizeof path, "/proc/%d/oom_score_adj", te.pid);
  TRY(read_text(path, adj, sizeof adj));
  out->proc.oom_score_adj = atoi(adj);
  TRY(dump_timer_list(te.pid, te, &out->timers));
  // for the parent-death signal check, once it is known (injected)
  out->parent_in_set = in_set(set, te.ppid);
  out->by_parent_main = cloned_by_parent_main(te.pid, te.ppid);
  return ok();
}

Err dump_attrs_injected(Remote &t, size_t index, ProcAttrs *a) {
  ThreadAttrRec &th = a->threads[index];
  int64_t r;
  TRY(inject(t, SYS_prctl, &r, "PR_GET_SECUREBITS", PR_GET_SECUREBITS));
  th.securebits = (uint32_t)r;
  TRY(inject(t, SYS_prctl, &r, "PR_GET_PDEATHSIG", PR_GET_PDEATHSIG, t.at(0)));
  int32_t sig = 0;
  TRY(t.get(0, &sig, sizeof sig));
  th.pdeathsig = (uint32_t)sig;
  TRY(check_pdeathsig(th, *a));
  TRY(inject(t, SYS_prctl, &r, "PR_GET_TIMERSLACK", PR_GET_TIMERSLACK));
  th.timerslack_ns = (uint64_t)r;
  if (index != 0) return ok();
  ProcAttrRec &p = a->proc;
  TRY(inject(t, SYS_prctl, &r, "PR_GET_DUMPABLE", PR_GET_DUMPABLE));
  if (r > 1) return errf("process %d: dumpable mode %lld (suid_dumpable) cannot be restored", t.tid(), (long long)r);
  p.dumpable = (uint8_t)r;
  TRY(inject(t, SYS_prctl, &r, "PR_GET_CHILD_SUBREAPER", PR_GET_CHILD_SUBREAPER, t.at(0)));
  TRY(t.get(0, &sig, sizeof sig));
  p.subreaper = sig != 0;
  for (int which = 0; which < 3; which++) {
    TRY(inject(t, SYS_getitimer, &r, "getitimer", which, t.at(0)));
    int64_t tv[4];  // struct itimerval: interval {sec, usec}, value {sec, usec}
    TRY(t.get(0, tv, sizeof tv));
    p.itimer_interval[which] = (uint64_t)tv[0] * 1000000 + (uint64_t)tv[1];
    p.itimer_value[which] = (uint64_t)tv[2] * 1000000 + (uint64_t)tv[3];
  }
  return dump_timers_injected(t, a);
}

Err write_attrs(ImageWriter &w, const ProcAttrs &a) {
  TRY(put(w, Rec::ProcAttr, encode_proc_attr(a.proc, rec_buf, sizeof rec_buf)));
  for (auto &th : a.threads) TRY(put(w, Rec::ThreadAttr, encode_thread_attr(th, rec_buf, sizeof rec_buf)));
  for (auto &t : a.timers) TRY(put(w, Rec::Timer, encode_timer(t, rec_buf, sizeof rec_buf)));
  for (auto &l : a.locks) TRY(put(w, Rec::Lock, encode_lock(l, rec_buf, sizeof rec_buf)));
  return ok();
}

// ---- image ----------------------------------------------------------------------

Err check_attrs_set(const SetImage &set) {
  for (size_t k = 0; k < set.tree.size(); k++)
    if (!set.tree[k].zombie()) TRY(check_attrs_image(set.procs[k], set.tree[k]));
  return ok();
}

Err check_attrs_image(const ProcImage &img, const TreeEntry &te) {
  const ProcAttrs &a = img.attrs;
  if (!a.have_proc) return bad_image("process %d has no PROC_ATTR record", te.pid);
  if (a.threads.size() != te.tids.size()) return bad_image("process %d: THREAD_ATTR count differs from TREE", te.pid);
  for (size_t i = 0; i < te.tids.size(); i++)
    if (a.threads[i].tid != te.tids[i]) return bad_image("process %d: THREAD_ATTR %d not in TREE order", te.pid, a.threads[i].tid);
  TRY(check_locks_image(img, te.pid));
  return check_timers_image(img, te);
}

namespace {
bool id_ok(uint32_t id, const Vec<uint32_t> &allowed) {
  for (uint32_t a : allowed)
    if (a == id) return true;
  return false;
}

// Field n (0-based) of a colon-separated line, NUL-terminated in place.
char *colon_field(char *line, int n) {
  for (; n > 0 && line; n--) {
    line = strchr(line, ':');
    if (line) line++;
  }
  if (!line) return nullptr;
  line[strcspn(line, ":")] = 0;
  return line;
}

bool has_member(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *s = list; *s;) {
    size_t k = strcspn(s, ",");
    if (k == n && !strncmp(s, name, n)) return true;
    s += k + (s[k] == ',');
  }
  return false;
}

// The groups the local databases give uid: its passwd(5) primary group and
// every group(5) that lists its name (what getgrouplist(3) reads, without
// libc's stdio and nscd: the binary stays small).
Err groups_of_user(uint32_t uid, Vec<uint32_t> *out) {
  char name[256] = "";
  Fd pw(open("/etc/passwd", O_RDONLY | O_CLOEXEC));
  if (pw.ok()) {
    LineReader lr(pw.get());
    while (char *line = lr.next()) {
      char *u = colon_field(line, 2);
      if (!u || strtoul(u, nullptr, 10) != uid) continue;
      char *g = colon_field(u + strlen(u) + 1, 0);
      if (g) out->push((uint32_t)strtoul(g, nullptr, 10));
      line[strcspn(line, ":")] = 0;
      snprintf(name, sizeof name, "%s", line);
      break;
    }
  }
  if (!name[0]) return ok();
  Fd gr(open("/etc/group", O_RDONLY | O_CLOEXEC));
  if (!gr.ok()) return ok();
  LineReader lr(gr.get());
  while (char *line = lr.next()) {
    char *gid = colon_field(line, 2);
    if (!gid) continue;
    char *members = gid + strlen(gid) + 1;
    members[strcspn(members, "\n")] = 0;
    if (has_member(members, name)) out->push((uint32_t)strtoul(gid, nullptr, 10));
  }
  return ok();
}
}  // namespace

// Root restoring the image of a user other than root: every uid must be that
// user's (no set-user-ID state), no capabilities, and every gid and group one
// the group database gives that user (as getgrouplist(3) would). Anything else
// would hand out what a forged image asks for.
Err check_attr_rights(const ProcImage &img) {
  const ProcessRec &p = img.proc;
  if (geteuid() != 0 || p.uid == 0) return ok();  // the kernel checks a non-root restorer's every change
  Vec<uint32_t> groups;
  TRY(groups_of_user(p.uid, &groups));
  // A user the local databases do not know: only the image's real gid (not
  // gid 0), and no supplementary groups.
  bool known = !groups.empty();
  if (!known && p.gid != 0) groups.push(p.gid);
  for (auto &th : img.attrs.threads) {
    for (uint32_t u : th.uid)
      if (u != p.uid)
        return errk(ErrKind::NotPermitted, "process %d thread %d: uid %u besides real uid %u (set-user-ID): restoring it would grant "
                    "more than the image's user has", p.pid, th.tid, u, p.uid);
    if (th.cap_inh | th.cap_prm | th.cap_eff | th.cap_amb)
      return errk(ErrKind::NotPermitted, "process %d thread %d: capabilities of a process of uid %u would be granted by this restore",
                  p.pid, th.tid, p.uid);
    for (uint32_t gid : th.gid)
      if (!id_ok(gid, groups))
        return errk(ErrKind::NotPermitted, "process %d thread %d: gid %u is not a group of uid %u here", p.pid, th.tid, gid, p.uid);
    for (uint32_t gid : th.groups)
      if (!known || !id_ok(gid, groups))
        return errk(ErrKind::NotPermitted, "process %d thread %d: supplementary group %u is not a group of uid %u here", p.pid, th.tid,
                    gid, p.uid);
  }
  return ok();
}

// ---- restore ------------------------------------------------------------------

namespace {
const ThreadAttrRec *attr_of(const ProcImage &img, int tid) {
  for (auto &th : img.attrs.threads)
    if (th.tid == tid) return &th;
  return nullptr;
}

struct Creds {  // rstrt's own, which every restored thread starts with
  uint32_t uid[4], gid[4];
  Vec<uint32_t> groups;
  uint64_t inh, prm, eff, bnd;
  uint32_t securebits;
  bool nnp;
};
// rstrt's own credentials, beside which a thread's are set (read per thread:
// restore keeps no state outside its objects).
Err my_creds(Creds *out) {
  Creds &mine = *out;
  ThreadAttrRec th;
  TRY(read_thread_status(getpid(), (int)syscall(SYS_gettid), &th));
  memcpy(mine.uid, th.uid, sizeof mine.uid);
  memcpy(mine.gid, th.gid, sizeof mine.gid);
  for (uint32_t g : th.groups) mine.groups.push(g);
  mine.inh = th.cap_inh; mine.prm = th.cap_prm; mine.eff = th.cap_eff; mine.bnd = th.cap_bnd;
  mine.securebits = (uint32_t)prctl(PR_GET_SECUREBITS);
  mine.nnp = th.no_new_privs;
  return ok();
}

bool same_groups(const Vec<uint32_t> &a, const Vec<uint32_t> &b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (a[i] != b[i]) return false;
  return true;
}

Err capset(Remote &t, uint64_t inh, uint64_t prm, uint64_t eff) {
  // struct __user_cap_header_struct, then two __user_cap_data_struct (v3: 64 bits)
  uint32_t buf[2 + 6] = {(uint32_t)kCapV3, 0, (uint32_t)eff, (uint32_t)prm, (uint32_t)inh,
                         (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32)};
  TRY(t.put(0, buf, sizeof buf));
  int64_t r;
  return inject(t, SYS_capset, &r, "capset", t.at(0), t.at(8));
}

int last_cap() {
  char buf[16];
  if (read_text("/proc/sys/kernel/cap_last_cap", buf, sizeof buf)) return 40;
  return atoi(buf);
}

// Order (capabilities(7), kernel/sys.c, security/commoncap.c): groups and gids
// while privileged; the bounding set (needs CAP_SETPCAP); uids under
// SECBIT_NO_SETUID_FIXUP so the capabilities survive the change; then the
// capability sets with CAP_SETPCAP kept, the ambient set (needs permitted and
// inheritable), the securebits (need CAP_SETPCAP), and the exact sets last.
Err restore_creds_of(Remote &t, const ThreadAttrRec &th, const Creds &mine) {
  int64_t r;
  if (th.cap_bnd & ~mine.bnd)
    return errf("thread %d: its capability bounding set 0x%llx is wider than rstrt's 0x%llx", th.tid,
                (unsigned long long)th.cap_bnd, (unsigned long long)mine.bnd);
  if (!same_groups(th.groups, mine.groups)) {
    if (th.groups.size() * 4 > t.gadget().scratch_len) return errf("thread %d: %zu groups do not fit", th.tid, th.groups.size());
    if (!th.groups.empty()) TRY(t.put(0, th.groups.begin(), th.groups.size() * 4));
    TRY(inject(t, SYS_setgroups, &r, "setgroups", th.groups.size(), t.at(0)));
  }
  if (memcmp(th.gid, mine.gid, sizeof th.gid)) {
    TRY(inject(t, SYS_setresgid, &r, "setresgid", th.gid[0], th.gid[1], th.gid[2]));
    TRY(t.call(SYS_setfsgid, &r, th.gid[3]));  // returns the previous fsgid
  }
  bool caps_differ = th.cap_inh != mine.inh || th.cap_prm != mine.prm || th.cap_eff != mine.eff || th.cap_amb;
  if (th.cap_bnd != mine.bnd)
    for (int c = 0; c <= last_cap() && c < 64; c++)
      if ((mine.bnd >> c & 1) && !(th.cap_bnd >> c & 1)) TRY(inject(t, SYS_prctl, &r, "PR_CAPBSET_DROP", PR_CAPBSET_DROP, c));
  uint32_t secbits = mine.securebits;
  if (memcmp(th.uid, mine.uid, sizeof th.uid)) {
    if (mine.eff >> kCapSetpcap & 1) {
      secbits |= kSecbitNoSetuidFixup;
      TRY(inject(t, SYS_prctl, &r, "PR_SET_SECUREBITS", PR_SET_SECUREBITS, secbits));
      caps_differ = true;
    }
    TRY(inject(t, SYS_setresuid, &r, "setresuid", th.uid[0], th.uid[1], th.uid[2]));
    TRY(t.call(SYS_setfsuid, &r, th.uid[3]));
  }
  if (!caps_differ && secbits == th.securebits) return ok();
  uint64_t setpcap = mine.eff & (1ull << kCapSetpcap);
  TRY(capset(t, th.cap_inh, th.cap_prm | setpcap, th.cap_eff | setpcap));
  TRY(inject(t, SYS_prctl, &r, "PR_CAP_AMBIENT_CLEAR_ALL", PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL));
  for (int c = 0; c < 64; c++)
    if (th.cap_amb >> c & 1) TRY(inject(t, SYS_prctl, &r, "PR_CAP_AMBIENT_RAISE", PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c));
  if (secbits != th.securebits) TRY(inject(t, SYS_prctl, &r, "PR_SET_SECUREBITS", PR_SET_SECUREBITS, th.securebits));
  return capset(t, th.cap_inh, th.cap_prm, th.cap_eff);
}

// The masks match; kernels with another CONFIG_NR_CPUS report other lengths,
// the bytes beyond the shorter one must then be zero.
bool same_affinity(const ThreadAttrRec &th) {
  uint8_t cur[kAffinityBytes] = {};
  long n = syscall(SYS_sched_getaffinity, th.tid, kAffinityBytes, cur);
  if (n <= 0) return false;
  for (uint32_t i = 0; i < kAffinityBytes; i++)
    if ((i < th.affinity_len ? th.affinity[i] : 0) != (i < (uint32_t)n ? cur[i] : 0)) return false;
  return true;
}

// After the credentials: the kernel judges a nice value below 0 or a realtime
// policy by the restored process's own rights and RLIMIT_NICE/RLIMIT_RTPRIO.
Err restore_sched_of(Remote &t, const ThreadAttrRec &th) {
  SchedAttr now;
  TRY(get_sched(th.tid, &now));
  SchedAttr want = {sizeof(SchedAttr), th.policy, th.sched_flags, th.nice, th.rt_priority,
                    th.dl_runtime, th.dl_deadline, th.dl_period, th.util_min, th.util_max};
  bool clamp = th.util_min != now.util_min || th.util_max != now.util_max;
  if (clamp) want.flags |= kSchedFlagUtilClamp;
  bool differs = clamp || now.policy != want.policy || (now.flags & kSchedFlagsKept) != th.sched_flags ||
                 now.nice != want.nice || now.priority != want.priority || now.runtime != want.runtime ||
                 now.deadline != want.deadline || now.period != want.period;
  int64_t r;
  if (differs) {
    TRY(t.put(0, &want, sizeof want));
    TRY(t.call(SYS_sched_setattr, &r, 0, t.at(0), 0));
    if (r < 0)
      return errf("thread %d: cannot restore scheduling policy %u, nice %d, priority %u: %s", th.tid, th.policy,
                  th.nice, th.rt_priority, strerror((int)-r));
  }
  // sched_setattr sets the nice value of SCHED_NORMAL and SCHED_BATCH only
  // (kernel/sched/core.c: __setscheduler_params); SCHED_IDLE keeps one too.
  TRY(get_sched(th.tid, &now));
  if (now.nice != th.nice) {
    TRY(t.call(SYS_setpriority, &r, PRIO_PROCESS, 0, (uint64_t)(int64_t)th.nice));
    if (r < 0) return errf("thread %d: cannot restore nice %d: %s", th.tid, th.nice, strerror((int)-r));
  }
  if (same_affinity(th)) return ok();
  TRY(t.put(0, th.affinity, th.affinity_len));
  TRY(t.call(SYS_sched_setaffinity, &r, 0, th.affinity_len, t.at(0)));
  if (r < 0) return errf("thread %d: cannot restore its CPU affinity: %s", th.tid, strerror((int)-r));
  if (!same_affinity(th))
    return errf("thread %d: CPU affinity cannot be restored here (CPUs missing or outside the cpuset)", th.tid);
  return ok();
}
}  // namespace

Err restore_thread_attrs(Remote &t, const ProcImage &img, int tid) {
  const ThreadAttrRec *th = attr_of(img, tid);
  if (!th) return errf("internal: no attributes for thread %d", tid);
  Creds mine;
  TRY(my_creds(&mine));
  TRY(restore_creds_of(t, *th, mine));
  int64_t r;
  if (th->no_new_privs && !mine.nnp) TRY(inject(t, SYS_prctl, &r, "PR_SET_NO_NEW_PRIVS", PR_SET_NO_NEW_PRIVS, 1));
  if (!th->no_new_privs && mine.nnp) return errf("thread %d had no_new_privs off; rstrt runs with it on", tid);
  // after the credentials: changing them clears it (kernel/cred.c: commit_creds)
  if (th->pdeathsig) TRY(inject(t, SYS_prctl, &r, "PR_SET_PDEATHSIG", PR_SET_PDEATHSIG, th->pdeathsig));
  TRY(inject(t, SYS_prctl, &r, "PR_SET_TIMERSLACK", PR_SET_TIMERSLACK, th->timerslack_ns));
  TRY(t.put(0, th->comm, sizeof th->comm));
  TRY(inject(t, SYS_prctl, &r, "PR_SET_NAME", PR_SET_NAME, t.at(0)));
  TRY(restore_sched_of(t, *th));
  // Taken as the thread resumes (Tracee::resume_with): it comes back in the group stop.
  if (img.attrs.proc.stopped && syscall(SYS_tgkill, img.proc.pid, tid, SIGSTOP) < 0) return sys_err("tgkill %d", tid);
  return ok();
}

namespace {
// Lowering it below what rstrt's child inherited needs CAP_SYS_RESOURCE
// (fs/proc/base.c: __set_oom_adj).
Err restore_oom_score_adj(int pid, int32_t adj) {
  char path[64], now[16];
  snprintf(path, sizeof path, "/proc/%d/oom_score_adj", pid);
  TRY(read_text(path, now, sizeof now));
  if (atoi(now) == adj) return ok();
  Fd fd(open(path, O_WRONLY | O_CLOEXEC));
  char v[16];
  int n = snprintf(v, sizeof v, "%d", adj);
  if (!fd.ok() || write(fd.get(), v, (size_t)n) != n)
    return sys_err("process %d: cannot restore oom_score_adj %d", pid, adj);
  return ok();
}
}  // namespace

Err restore_main_attrs(Remote &main, const ProcImage &img) {
  const ProcAttrRec &p = img.attrs.proc;
  TRY(restore_timers(main, img));
  int64_t r;
  for (int which = 0; which < 3; which++) {
    if (!p.itimer_value[which]) continue;
    int64_t tv[4] = {(int64_t)(p.itimer_interval[which] / 1000000), (int64_t)(p.itimer_interval[which] % 1000000),
                     (int64_t)(p.itimer_value[which] / 1000000), (int64_t)(p.itimer_value[which] % 1000000)};
    TRY(main.put(0, tv, sizeof tv));
    TRY(inject(main, SYS_setitimer, &r, "setitimer", which, main.at(0), 0));
  }
  TRY(restore_thread_attrs(main, img, img.proc.pid));
  // after every thread's credentials: changing them resets it (commit_creds)
  TRY(inject(main, SYS_prctl, &r, "PR_SET_DUMPABLE", PR_SET_DUMPABLE, p.dumpable));
  if (p.subreaper) TRY(inject(main, SYS_prctl, &r, "PR_SET_CHILD_SUBREAPER", PR_SET_CHILD_SUBREAPER, 1));
  return restore_oom_score_adj(img.proc.pid, p.oom_score_adj);
}

// POSIX locks (locks.cpp), taken by the process itself once nothing of the
// restore is left to close.
Err restore_posix_locks(Remote &rc, const ProcImage &img) {
  for (auto &l : img.attrs.locks) {
    if (l.kind != LockRec::kPosix) continue;
    struct flock fl = lock_range(l);
    TRY(rc.put(0, &fl, sizeof fl));
    int64_t r;
    TRY(rc.call(SYS_fcntl, &r, (uint64_t)l.fd, F_SETLK, rc.at(0)));
    if (r < 0) return lock_failed(img.proc.pid, l, (int)-r);
  }
  return ok();
}
