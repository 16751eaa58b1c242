// Process identity and environment: pid/ppid/pgid/sid, command line, cwd, exe,
// umask, resource limits, and the mm fields restored with PR_SET_MM_MAP.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "process.h"
#include "remote.h"
#include "procfs.h"

namespace {
constexpr uint64_t kPfKthread = 0x00200000;  // include/linux/sched.h
char text_buf[16384];

Err read_proc(int pid, const char *name, char *buf, size_t cap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
  return read_text(path, buf, cap);
}

Err read_link_str(int pid, const char *name, Str *out) {
  char path[64], target[4096];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
  TRY(read_link(path, target, sizeof target));
  *out = Str(target);
  return ok();
}

const char *rlimit_name(int i) {
  static const char *const names[kNrRlimits] = {"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
                                                "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE",
                                                "RTPRIO", "RTTIME"};
  return i >= 0 && i < kNrRlimits ? names[i] : "?";
}

// prlimit(2) of a process whose uids are not all the caller's needs
// CAP_SYS_RESOURCE; /proc/PID/limits shows the same to root. One line per limit
// in RLIMIT_* order after a header, soft limit at column 26, hard at 47
// (fs/proc/base.c: proc_pid_limits, "%-25s %-20s %-20s %-10s").
Err limits_from_proc(int pid, RlimitsRec *out) {
  TRY(read_proc(pid, "limits", text_buf, sizeof text_buf));
  const char *line = strchr(text_buf, '\n');
  for (int i = 0; i < kNrRlimits; i++) {
    if (!line || strlen(line + 1) < 47) return errf("cannot parse /proc/%d/limits", pid);
    line++;
    const char *cols[2] = {line + 26, line + 47};
    uint64_t *dst[2] = {&out->cur[i], &out->max[i]};
    for (int c = 0; c < 2; c++)
      *dst[c] = strncmp(cols[c], "unlimited", 9) == 0 ? RLIM_INFINITY : strtoull(cols[c], nullptr, 10);
    line = strchr(line, '\n');
  }
  return ok();
}

// mm fields from /proc/PID/stat (proc(5): fields 26-28 and 45-51).
Err stat_mm_fields(const char *stat, MmRec *mm) {
  struct { int field; uint64_t *dst; } fields[] = {
      {26, &mm->start_code}, {27, &mm->end_code}, {28, &mm->start_stack}, {45, &mm->start_data},
      {46, &mm->end_data},   {47, &mm->start_brk}, {48, &mm->arg_start},  {49, &mm->arg_end},
      {50, &mm->env_start},  {51, &mm->env_end}};
  for (auto &f : fields)
    if (!stat_field(stat, f.field, f.dst)) return errf("/proc stat: field %d missing", f.field);
  return ok();
}
}  // namespace

Err ProcMem::open(int pid, bool write) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", pid);
  fd_.reset(::open(path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC));
  if (!fd_.ok()) return sys_err("%s", path);
  return ok();
}

Err ProcMem::read(uint64_t addr, void *buf, size_t n) const {
  ssize_t r = pread(fd_.get(), buf, n, (off_t)addr);
  if (r != (ssize_t)n) return r < 0 ? sys_err("reading target memory at 0x%llx", (unsigned long long)addr)
                                    : errf("short read of target memory at 0x%llx", (unsigned long long)addr);
  return ok();
}

Err ProcMem::write(uint64_t addr, const void *buf, size_t n) const {
  ssize_t r = pwrite(fd_.get(), buf, n, (off_t)addr);
  if (r != (ssize_t)n) return r < 0 ? sys_err("writing target memory at 0x%llx", (unsigned long long)addr)
                                    : errf("short write of target memory at 0x%llx", (unsigned long long)addr);
  return ok();
}

// Refuse what cannot be checkpointed before touching the target at all.
Err check_target(int pid) {
  char stat[1024];
  if (pid <= 0) return errf("invalid PID %d", pid);
  if (read_proc(pid, "stat", stat, sizeof stat)) return errf("no such process: %d", pid);
  char state;
  uint64_t flags = 0;
  if (!stat_state(stat, &state) || !stat_field(stat, 9, &flags)) return errf("cannot parse /proc/%d/stat", pid);
  if (flags & kPfKthread) return errf("process %d is a kernel thread", pid);
  if (state == 'Z' || state == 'X') return errf("process %d is a zombie", pid);
  TRY(read_proc(pid, "status", text_buf, sizeof text_buf));
  uint64_t tgid = 0;
  if (!status_u64(text_buf, "Tgid", &tgid)) return errf("cannot parse /proc/%d/status", pid);
  if ((int)tgid != pid) return errf("%d is a thread of process %llu; give the process ID", pid, (unsigned long long)tgid);
  return ok();
}

Err dump_process(int pid, ProcImage *img) {
  ProcessRec &p = img->proc;
  p.pid = pid;
  TRY(read_proc(pid, "status", text_buf, sizeof text_buf));
  uint64_t ppid = 0, umask = 0, threads = 1;
  char ids[128];
  status_u64(text_buf, "PPid", &ppid);
  status_u64(text_buf, "Threads", &threads);
  char um[16];
  if (status_field(text_buf, "Umask", um, sizeof um)) umask = strtoul(um, nullptr, 8);
  if (status_field(text_buf, "Uid", ids, sizeof ids)) p.uid = (uint32_t)strtoul(ids, nullptr, 10);
  if (status_field(text_buf, "Gid", ids, sizeof ids)) p.gid = (uint32_t)strtoul(ids, nullptr, 10);
  p.ppid = (int32_t)ppid;
  p.umask = (uint32_t)umask;
  p.nr_threads = (uint32_t)threads;

  char stat[2048];
  TRY(read_proc(pid, "stat", stat, sizeof stat));
  uint64_t pgid = 0, sid = 0, tty = 0;
  if (!stat_field(stat, 5, &pgid) || !stat_field(stat, 6, &sid) || !stat_field(stat, 7, &tty))
    return errf("cannot parse /proc/%d/stat", pid);
  p.pgid = (int32_t)pgid;
  p.sid = (int32_t)sid;
  p.tty_nr = tty;
  TRY(stat_mm_fields(stat, &img->mm));

  char comm[64];
  TRY(read_proc(pid, "comm", comm, sizeof comm));
  comm[strcspn(comm, "\n")] = 0;
  p.comm = Str(comm);
  TRY(read_link_str(pid, "cwd", &p.cwd));
  if (ends_with(p.cwd.c(), " (deleted)"))
    return errf("process %d: its working directory %s was deleted: not supported yet", pid, p.cwd.c());
  Str root;
  TRY(read_link_str(pid, "root", &root));
  if (!(root == "/")) return errf("process %d runs in a chroot (%s): not supported yet", pid, root.c());
  TRY(read_link_str(pid, "exe", &p.exe));
  size_t n = 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  if (read_text(path, text_buf, sizeof text_buf, &n)) n = 0;  // longer than 16 KiB: keep none
  p.cmdline = Str(text_buf, n);

  snprintf(path, sizeof path, "/proc/%d/auxv", pid);
  Fd fd(open(path, O_RDONLY | O_CLOEXEC));
  long an = fd.ok() ? read_full(fd.get(), img->mm.auxv, sizeof img->mm.auxv) : -1;
  if (an <= 0 || an == (long)sizeof img->mm.auxv) return errf("cannot read %s", path);
  img->mm.auxv_len = (uint32_t)an;

  for (int i = 0; i < kNrRlimits; i++) {
    struct rlimit rl;
    if (prlimit(pid, i, nullptr, &rl) < 0 && errno == EPERM) return limits_from_proc(pid, &img->rlimits);
    if (prlimit(pid, i, nullptr, &rl) < 0) return sys_err("prlimit %d RLIMIT_%s", pid, rlimit_name(i));
    img->rlimits.cur[i] = rl.rlim_cur;
    img->rlimits.max[i] = rl.rlim_max;
  }
  return ok();
}

Err dump_brk(Remote &rc, MmRec *mm) {
  int64_t brk;
  TRY(rc.call(SYS_brk, &brk, 0));
  mm->brk = (uint64_t)brk;
  return ok();
}

// The new processes run with rstrt's credentials. For a caller other than root
// that means a process that ran as someone else would come back as the caller,
// short of the rights it had; refuse that plainly. Root restores anyone's,
// but grants nothing that user did not have (check_attr_rights); the
// credentials themselves come back per thread (restore_thread_attrs).
namespace {
// Field n (0-based) of a colon-separated /etc line, as [s, s+len).
bool etc_field(const char *line, int n, const char **s, size_t *len) {
  for (; n > 0; n--) {
    line = strchr(line, ':');
    if (!line) return false;
    line++;
  }
  *s = line;
  *len = strcspn(line, ":\n");
  return true;
}

uint64_t etc_number(const char *line, int n) {
  const char *s;
  size_t len;
  return etc_field(line, n, &s, &len) && len ? strtoull(s, nullptr, 10) : ~0ull;
}

// Does the comma-separated member list [s, s+len) name `name`?
bool lists(const char *s, size_t len, const char *name) {
  size_t k = strlen(name);
  for (const char *end = s + len; s < end;) {
    size_t n = strcspn(s, ",\n:");
    if (n == k && !strncmp(s, name, k)) return true;
    s += n + 1;
  }
  return false;
}
}  // namespace

// /etc/passwd and /etc/group, read directly: a static binary has no NSS.
Err user_groups(uint32_t uid, Vec<uint32_t> *out) {
  Str passwd, group;
  char name[256] = "";
  if (!read_whole("/etc/passwd", &passwd)) {
    for (const char *l = passwd.c(); *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
      const char *s;
      size_t len;
      if (etc_number(l, 2) != uid || !etc_field(l, 0, &s, &len) || len >= sizeof name) continue;
      snprintf(name, sizeof name, "%.*s", (int)len, s);
      out->push((uint32_t)etc_number(l, 3));
      break;
    }
  }
  if (!name[0] || read_whole("/etc/group", &group)) return ok();
  for (const char *l = group.c(); *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
    const char *s;
    size_t len;
    if (etc_field(l, 3, &s, &len) && lists(s, len, name) && etc_number(l, 2) <= 0xffffffffull)
      out->push((uint32_t)etc_number(l, 2));
  }
  return ok();
}

Err image_trust(int fd, bool trusted_stream, ImageTrust *t) {
  struct stat st;
  if (fstat(fd, &st) < 0) return sys_err("the image");
  t->uid = trusted_stream ? 0 : S_ISREG(st.st_mode) ? st.st_uid : getuid();
  t->from_file = S_ISREG(st.st_mode);
  if (t->uid == 0) return ok();
  return user_groups(t->uid, &t->groups);
}

bool has_group(const Vec<uint32_t> &groups, uint32_t gid) {
  for (uint32_t g : groups)
    if (g == gid) return true;
  return false;
}

// A caller other than root restores only its own processes (the new processes
// run with its credentials). Root restores an image as the user it trusts
// (image_trust): any process if that is root, else only that user's own, in
// one of that user's groups: an image is data its owner could have written.
Err check_restore_rights(const ProcImage &img, const ImageTrust &t) {
  const ProcessRec &p = img.proc;
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (geteuid() != 0 && (p.uid != uid || p.gid != gid))
    return errk(ErrKind::NotPermitted, "process %d ran as uid %u gid %u; as uid %u gid %u you can restore only your own processes",
                p.pid, p.uid, p.gid, (unsigned)uid, (unsigned)gid);
  if (geteuid() == 0) TRY(check_attr_rights(img));  // grants nothing that user did not have (procattr.cpp)
  if (t.uid == 0 || (p.uid == t.uid && has_group(t.groups, p.gid))) return ok();
  return errk(ErrKind::NotPermitted, "process %d runs as uid %u gid %u, but the image %s uid %u: an image is restored only as its owner's own processes",
              p.pid, p.uid, p.gid, t.from_file ? "file belongs to" : "stream comes from", t.uid);
}

// Open files with the restored user's rights, so the kernel checks them:
// fs ids and groups only, which leave rstrt's other privileges (set_tid,
// ptrace) as they are (setfsuid(2)).
Err adopt_fs_creds(uint32_t uid, uint32_t gid, const Vec<uint32_t> &groups) {
  if (geteuid() != 0) return ok();  // a user restores only its own processes: its rights are theirs
  if (setgroups(groups.size(), groups.size() ? groups.begin() : nullptr) < 0) return sys_err("setgroups");
  setfsgid(gid);
  setfsuid(uid);
  if ((uint32_t)setfsgid((gid_t)-1) != gid || (uint32_t)setfsuid((uid_t)-1) != uid)
    return errk(ErrKind::NotPermitted, "cannot take the file rights of uid %u gid %u", uid, gid);
  return ok();
}

// In the new process: cwd and umask. (Its session and group are made as the
// tree is cloned: restore.cpp.)
Err restore_identity_child(const ProcImage &img) {
  const ProcessRec &p = img.proc;
  if (chdir(p.cwd.c()) < 0) return sys_err("cannot enter the working directory %s", p.cwd.c());
  umask(p.umask);
  return ok();
}

// Lowering limits needs no privilege; raising a hard limit needs CAP_SYS_RESOURCE.
Err restore_rlimits_child(const RlimitsRec &r) {
  for (int i = 0; i < kNrRlimits; i++) {
    struct rlimit rl = {r.cur[i], r.max[i]};
    if (setrlimit(i, &rl) == 0) continue;
    struct rlimit now;
    getrlimit(i, &now);
    if (errno == EPERM && r.max[i] > now.rlim_max)
      return errk(ErrKind::NotPermitted, "cannot raise the hard limit RLIMIT_%s from %llu to %llu: needs CAP_SYS_RESOURCE", rlimit_name(i),
                  (unsigned long long)now.rlim_max, (unsigned long long)r.max[i]);
    return sys_err("setrlimit RLIMIT_%s", rlimit_name(i));
  }
  return ok();
}

// PR_SET_MM_MAP (kernel/sys.c: prctl_set_mm_map) sets every mm field at once and
// needs no CAP_SYS_RESOURCE; it checks the fields against the mappings, so it runs
// after the layout is rebuilt. exe_fd also repoints /proc/PID/exe at the program.
Err restore_mm(Remote &rc, const MmRec &mm, int exe_fd) {
  struct PrctlMmMap {  // include/uapi/linux/prctl.h
    uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
    uint64_t auxv;
    uint32_t auxv_size, exe_fd;
  } m = {mm.start_code, mm.end_code, mm.start_data, mm.end_data, mm.start_brk, mm.brk, mm.start_stack,
         mm.arg_start,  mm.arg_end,  mm.env_start,  mm.env_end,  0, mm.auxv_len, (uint32_t)exe_fd};
  m.auxv = rc.at(sizeof m);
  TRY(rc.put(0, &m, sizeof m));
  TRY(rc.put(sizeof m, mm.auxv, mm.auxv_len));
  int64_t r;
  TRY(rc.call(SYS_prctl, &r, PR_SET_MM, 14 /* PR_SET_MM_MAP */, rc.at(0), sizeof m));
  if (r == -EPERM) return errk(ErrKind::NotPermitted, "PR_SET_MM_MAP refused: restoring /proc/PID/exe needs CAP_CHECKPOINT_RESTORE");
  if (r < 0) return errf("PR_SET_MM_MAP: %s", strerror((int)-r));
  return ok();
}
