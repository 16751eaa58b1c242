// Restore: rebuild, then hand over (docs/DESIGN-NOTES.md).
// rstrt reads the metadata of every process (imgread.cpp), opens every shared
// file description once, and clones the roots of the tree with their PIDs
// (tree.cpp). Each new process, still running rstrt's code, makes the memory
// its children will inherit and stops; rstrt streams the pages of that memory
// into it (its page group lists them first); then it clones its own children,
// who so share those pages copy-on-write, sets up what it can itself (fds,
// mapped files, cwd, signal handlers, limits), maps a one-page gadget holding a
// syscall instruction and stops again. rstrt then rebuilds its layout through
// syscalls injected at its gadget (mappings, vDSO, the premapped memory moved
// into place) and streams the rest of its pages; the children follow in TREE
// order. It checks the END record, recreates threads, and resumes every thread
// with its saved registers. Any failure kills every process it created:
// nothing is left behind.
//
// Everything the new processes need is computed by rstrt before the first
// clone, in the Restorer object; every process starts as a copy of rstrt (its
// stack and heap included) and finds it there.
#include "restore.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "imgread.h"
#include "net.h"
#include "process.h"
#include "ptrace.h"
#include "remote.h"
#include "tree.h"

namespace {
int first_tty() {
  for (int fd = 0; fd <= 2; fd++)
    if (isatty(fd)) return fd;
  return -1;
}

Err pipe_above(int floor, int *r, int *w) {
  int p[2];
  if (pipe2(p, 0) < 0) return sys_err("pipe");
  *r = fcntl(p[0], F_DUPFD, floor);
  *w = fcntl(p[1], F_DUPFD, floor);
  close(p[0]);
  close(p[1]);
  return *r < 0 || *w < 0 ? sys_err("fcntl") : ok();
}

// Reap one process this restore made once it is ours: rstrt is a child
// subreaper, so the orphans of the dying tree come back to it. Bounded wait.
void reap_made(int pid) {
  char path[32];
  snprintf(path, sizeof path, "/proc/%d", pid);
  for (int i = 0; i < 2000; i++) {
    pid_t r = waitpid(pid, nullptr, __WALL | WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD && access(path, F_OK) != 0)) return;
    usleep(1000);
  }
}

// Whose rights a process's files are opened with, and a way back to rstrt's own.
struct FsCreds {
  uint32_t uid = 0, gid = 0;
  Vec<uint32_t> groups;
};

Err current_fs_creds(FsCreds *c) {
  c->uid = (uint32_t)setfsuid((uid_t)-1);
  c->gid = (uint32_t)setfsgid((gid_t)-1);
  gid_t g[256];
  int n = getgroups(256, g);
  if (n < 0) return sys_err("getgroups");
  for (int i = 0; i < n; i++) c->groups.push((uint32_t)g[i]);
  return ok();
}

class Restorer : public SetReader {
 public:
  // dry: plan only, up to the first side effect outside rstrt (plan_image).
  Restorer(const RestoreOptions &opt, const ImageTrust &trust, bool dry = false) : opt_(opt), trust_(trust), dry_(dry) {}
  ~Restorer() {
    for (int fd : staged_)
      if (fd >= 0) close(fd);
  }
  Err fdesc(ImageReader &rd, const uint8_t *p, uint32_t n) override;
  Err fdesc_data(ImageReader &rd, uint64_t offset, const uint8_t *p, uint32_t n) override;
  Err metadata_done(ImageReader &rd) override;
  Err pages(ImageReader &rd, size_t k, uint32_t *type, uint32_t *len) override;
  Err end(ImageReader &rd) override;
  // Kill and reap everything this restore made, and nothing else: a caller
  // such as restartd has children of its own.
  void kill_all();
  void roots(Vec<int> *out) const;

 private:
  // ---- planning (rstrt, before the first clone)
  Err plan_creds();
  Err plan_layout();
  Err open_shared();
  Err make_plan();
  void drop_plan_fds();
  // ---- the new processes (rstrt's code, before they stop)
  [[noreturn]] void child_main(size_t k);
  Err child_run(size_t k);
  Err spawn(size_t k);
  Err spawn_children(int parent);
  Err setup_self(size_t k);
  Err map_gadget(size_t k);
  Err close_plan_fds();
  // ---- rstrt: creating and tracing the tree
  Err child_error();
  Err start_one(int pid);
  Err create_roots();
  Err check_cttys() const;
  Err read_report(int parent, int32_t *pid);
  Err start_children(size_t k);
  bool made_here(int pid) const;
  class ForkAt;
  Err fork_and_layout(size_t k, Remote &rc);
  // ---- rstrt: rebuilding
  Err resume_thread(Remote &rc, const ThreadRec &th, const ProcImage &img);
  Err hand_over(size_t k);

  const RestoreOptions &opt_;
  const ImageTrust &trust_;
  bool dry_;
  Vec<FsCreds> creds_;         // per process: its file rights
  FsCreds own_;                // rstrt's, to go back to after opening files with the processes' rights
  int shared_creds_ = -1;      // the process whose rights open the shared descriptions (-1: rstrt's)
  Vec<int> staged_;            // per FdescRec: made at its FDESC to take its FDESC_DATA (a memfd), or -1
  Vec<int> desc_fds_;          // one fd per FdescRec, all >= fd_floor_
  Vec<int> go_r_, go_w_;       // per process: rstrt says "go" once it traces it
  Vec<uint64_t> gadget_;       // per process
  Vec<int> first_slot_, exe_slot_;
  int err_w_ = -1, report_w_ = -1, report_r_ = -1, err_r_ = -1;
  int fd_floor_ = 0;           // every target fd and slot is below; plan fds above
  uint64_t page_ = 0;
  Vec<int> created_;           // pids, to kill if anything fails
};

// ---- reading ---------------------------------------------------------------------

// A description whose contents follow it is made at once, and they go
// straight into it: rstrt holds no more of them than one record.
Err Restorer::fdesc(ImageReader &rd, const uint8_t *p, uint32_t n) {
  TRY(SetReader::fdesc(rd, p, n));
  const FdescRec &f = set.fdescs.back();
  const FdKind *kind = fd_kind(f.kind);
  uint64_t size;
  staged_.push(-1);
  if (dry_ || !kind->streams || !kind->streams(f, &size)) return ok();
  return kind->stage(f, &staged_.back());
}

Err Restorer::fdesc_data(ImageReader &rd, uint64_t offset, const uint8_t *p, uint32_t n) {
  TRY(SetReader::fdesc_data(rd, offset, p, n));
  if (dry_) return ok();
  int fd = staged_.back();
  for (uint32_t done = 0; done < n;) {
    ssize_t w = pwrite(fd, p + done, n - done, (off_t)(offset + done));
    if (w <= 0) return sys_err("writing the contents of %s", set.fdescs.back().path.c());
    done += (uint32_t)w;
  }
  return ok();
}

// ---- planning -------------------------------------------------------------------

// Every file is opened with the rights of the user whose process it belongs
// to, so the kernel decides what an image may open (an image is untrusted).
// Each new process takes its own while it opens its files and enters its
// working directory; rstrt opens the shared descriptions with the set's user's
// rights when the set has one user (a set of several users is root's image:
// opened with rstrt's rights). Both go back to rstrt's own rights right after:
// /proc/PID/mem and map_files need them.
Err Restorer::plan_creds() {
  TRY(current_fs_creds(&own_));
  bool one_user = true;
  for (size_t k = 0; k < set.procs.size(); k++) {
    FsCreds c;
    const ProcessRec &p = set.procs[k].proc;
    c.uid = p.uid;
    c.gid = p.gid;
    if (!set.tree[k].zombie() && c.uid != 0) {
      if (c.uid == trust_.uid) for (uint32_t g : trust_.groups) c.groups.push(g);
      else TRY(user_groups(c.uid, &c.groups));
    }
    if (!set.tree[k].zombie() && !creds_.empty() && (creds_[0].uid != c.uid || creds_[0].gid != c.gid)) one_user = false;
    creds_.push(std::move(c));
  }
  size_t first = 0;
  while (first < set.tree.size() && set.tree[first].zombie()) first++;
  if (one_user && first < set.tree.size()) shared_creds_ = (int)first;
  return ok();
}

// The shared descriptions, opened with the set's user's rights.
Err Restorer::open_shared() {
  if (shared_creds_ < 0) return open_fdescs(set, first_tty(), fd_floor_, opt_.inherit, opt_.tcp_close, &staged_, &desc_fds_);
  const FsCreds &c = creds_[shared_creds_];
  TRY(adopt_fs_creds(c.uid, c.gid, c.groups));
  Err e = open_fdescs(set, first_tty(), fd_floor_, opt_.inherit, opt_.tcp_close, &staged_, &desc_fds_);
  Err back = adopt_fs_creds(own_.uid, own_.gid, own_.groups);
  return e ? e : back;
}

// Where everything goes, before anything is opened: fd slots, gadget pages.
Err Restorer::plan_layout() {
  page_ = (uint64_t)sysconf(_SC_PAGESIZE);
  int top = 2;
  for (size_t k = 0; k < set.procs.size(); k++) {
    const ProcImage &img = set.procs[k];
    int slot = highest_fd(img.files) + 1;
    first_slot_.push(slot);
    exe_slot_.push(slot + count_vma_files(img.vmas));
    top = exe_slot_.back() > top ? exe_slot_.back() : top;
    gadget_.push(0);
    if (!set.tree[k].zombie()) TRY(pick_gadget_address(img.vmas, page_, &gadget_.back()));
  }
  for (auto &f : set.fdescs) {  // numbers a description's own step uses for a while (epoll targets)
    const FdKind *kind = fd_kind(f.kind);
    int n = kind && kind->highest_fd ? kind->highest_fd(f) : -1;
    top = n > top ? n : top;
  }
  fd_floor_ = top + 1;
  return plan_premaps(set, gadget_, page_);
}

Err Restorer::make_plan() {
  TRY(plan_layout());
  struct rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);
  TRY(open_shared());
  TRY(pipe_above(fd_floor_, &err_r_, &err_w_));
  // Read once a process is known to have failed: what it wrote is there, and
  // processes still waiting for their pages hold the pipe open.
  fcntl(err_r_, F_SETFL, O_NONBLOCK);
  TRY(pipe_above(fd_floor_, &report_r_, &report_w_));
  for (size_t k = 0; k < set.tree.size(); k++) {
    go_r_.push(-1);
    go_w_.push(-1);
    TRY(pipe_above(fd_floor_, &go_r_[k], &go_w_[k]));
  }
  return ok();
}

// rstrt keeps no end of anything the processes share (a pipe end left open
// here would keep their readers from seeing end of file).
void Restorer::drop_plan_fds() {
  for (int &fd : desc_fds_) { close(fd); fd = -1; }
  for (int &fd : go_r_) { close(fd); fd = -1; }
  close(err_w_);
  close(report_w_);
  err_w_ = report_w_ = -1;
}

// ---- the new processes (rstrt's code, before they stop) ---------------------

Err Restorer::spawn(size_t k) {
  const TreeEntry &c = set.tree[k];
  if (c.zombie()) return make_zombie(c);
  int pid;
  TRY(clone_with_pid(c.pid, &pid));
  if (pid == 0) child_main(k);
  TRY(join_group(set.tree, c));
  int32_t msg = pid;
  return write_full(report_w_, &msg, sizeof msg);
}

Err Restorer::spawn_children(int parent) {
  for (size_t k = 0; k < set.tree.size(); k++)
    if (set.tree[k].ppid == parent) TRY(spawn(k));
  return ok();
}

Err Restorer::map_gadget(size_t k) {
  void *g = mmap((void *)gadget_[k], page_, PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (g != (void *)gadget_[k]) return sys_err("mapping the restorer page");
  memcpy(g, arch::kSyscallInsn, sizeof arch::kSyscallInsn);
  return ok();
}

// Close every fd from fd_floor up but err_w (closed just before the stop).
Err Restorer::close_plan_fds() {
  if (err_w_ > fd_floor_ && syscall(SYS_close_range, fd_floor_, err_w_ - 1, 0) < 0) return sys_err("close_range");
  if (syscall(SYS_close_range, err_w_ + 1, ~0u, 0) < 0) return sys_err("close_range");
  return ok();
}

Err Restorer::setup_self(size_t k) {
  const ProcImage &img = set.procs[k];
  if (syscall(SYS_close_range, 0, fd_floor_ - 1, 0) < 0) return sys_err("close_range");
  TRY(restore_files_child(set, k, desc_fds_));
  TRY(adopt_fs_creds(creds_[k].uid, creds_[k].gid, creds_[k].groups));
  TRY(open_vma_files_child(img.vmas, first_slot_[k], set, desc_fds_, opt_.allow_changed_files));
  int exe = open(img.proc.exe.c(), O_RDONLY | O_CLOEXEC);
  if (exe < 0) return sys_err("cannot open the program %s", img.proc.exe.c());
  TRY(place_fd(exe, exe_slot_[k], FD_CLOEXEC));
  TRY(close_plan_fds());
  TRY(restore_identity_child(img));
  TRY(adopt_fs_creds(own_.uid, own_.gid, own_.groups));
  TRY(restore_sigacts_child(img.sigacts));
  TRY(map_gadget(k));
  return restore_rlimits_child(img.rlimits);
}

Err Restorer::child_run(size_t k) {
  char go;
  if (read(go_r_[k], &go, 1) != 1) return errf("restore aborted");
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  const TreeEntry &me = set.tree[k];
  if (me.sid == me.pid && setsid() < 0) return sys_err("setsid");
  if (me.sid == me.pid) TRY(restore_ctty_child(set, k, desc_fds_));  // before its children fork
  // rstrt --ctty: rstrt's terminal (checked free, or handed over by rstrt)
  if (opt_.ctty == RestoreOptions::Ctty::Take && ctty_outside_set(set, k) && ioctl(first_tty(), TIOCSCTTY, 0) < 0)
    return sys_err("rstrt --ctty: making rstrt's terminal the controlling terminal of process %d", me.pid);
  if (me.sid != me.pid && me.pgid == me.pid && setpgid(0, 0) < 0) return sys_err("setpgid");
  // The memory its children inherit is made here and filled by rstrt while
  // it is stopped (pages()); then the children are forked from it.
  TRY(premap_self(set.procs[k].vmas));
  syscall(SYS_kill, getpid(), SIGSTOP);
  TRY(spawn_children(me.pid));
  return setup_self(k);
}

// The restored process must hold exactly the fds it had: the error pipe, the
// last fd of rstrt's, goes just before the stop.
[[noreturn]] void Restorer::child_main(size_t k) {
  Err e = child_run(k);
  if (e) {
    send_err(err_w_, e);
    int32_t fail = -1;
    (void)write_full(report_w_, &fail, sizeof fail);
    _exit(127);
  }
  close(err_w_);
  // kill(getpid()) rather than raise(): after a raw clone3, libc's idea of the
  // current thread is still the parent's.
  syscall(SYS_kill, getpid(), SIGSTOP);
  _exit(127);  // only if rstrt went away
}

// ---- rstrt: creating and tracing the tree ---------------------------------------

Err Restorer::child_error() {
  Err e;
  if (recv_err(err_r_, &e)) return e;
  return errf("a restored process failed to start");
}

Err Restorer::start_one(int pid) {
  created_.push(pid);
  int k = index_in_tree(set.tree, pid);
  if (k < 0) return errf("internal: unexpected process %d", pid);
  Tracee t(pid);
  TRY(t.seize_child());
  if (write(go_w_[k], "g", 1) != 1) return sys_err("starting process %d", pid);
  return ok();
}

// Clone the roots (processes whose parent is not in the set). The others are
// cloned by their parents once those have their inherited memory (pages()).
Err Restorer::create_roots() {
  for (size_t k = 0; k < set.tree.size(); k++) {
    if (parent_in_set(set.tree, k) >= 0) continue;
    int pid;
    TRY(clone_with_pid(set.tree[k].pid, &pid));
    if (pid == 0) child_main(k);
    TRY(start_one(pid));
  }
  close(report_w_);  // only the processes' copies remain
  close(err_w_);
  report_w_ = err_w_ = -1;
  return ok();
}

// The next PID that `parent` (the one process cloning now) reports; a
// failure of any process is a negative one. Polled, so that a parent killed
// before it could say anything is noticed.
Err Restorer::read_report(int parent, int32_t *pid) {
  for (;;) {
    struct pollfd p = {report_r_, POLLIN, 0};
    int r = poll(&p, 1, 100);
    if (r > 0) return read_full(report_r_, pid, sizeof *pid) == sizeof *pid && *pid >= 0 ? ok() : child_error();
    if (r < 0 && errno != EINTR) return sys_err("poll");
    siginfo_t si = {};
    if (waitid(P_PID, (id_t)parent, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 && si.si_pid == parent)
      return child_error();
  }
}

// Trace each living child of process k as k reports it, and let it start.
Err Restorer::start_children(size_t k) {
  const int pid = set.tree[k].pid;
  size_t n = 0;
  for (auto &e : set.tree) n += e.ppid == pid && !e.zombie();
  for (; n; n--) {
    int32_t child;
    TRY(read_report(pid, &child));
    TRY(start_one(child));
  }
  return ok();
}

bool Restorer::made_here(int pid) const {
  for (int p : created_)
    if (p == pid) return true;
  return false;
}

void Restorer::kill_all() {
  for (int &fd : go_w_) {  // processes cloned but not started yet give up
    close(fd);
    fd = -1;
  }
  for (int pid : created_) kill(pid, SIGKILL);
  for (int pid : created_) reap_made(pid);
  for (size_t k = 0; k < set.tree.size(); k++) {  // zombies whose parent was made here
    int p = parent_in_set(set.tree, k);
    if (set.tree[k].zombie() && p >= 0 && made_here(set.tree[p].pid)) reap_made(set.tree[k].pid);
  }
}

void Restorer::roots(Vec<int> *out) const {
  for (size_t k = 0; k < set.tree.size(); k++)
    if (parent_in_set(set.tree, k) < 0) out->push(set.tree[k].pid);
}

// ---- rstrt: the visitor's steps ----------------------------------------------------

// A session leader's controlling terminal outside the set is the one thing
// of a terminal a restore cannot give back by itself: rstrt is told.
Err Restorer::check_cttys() const {
  if (opt_.ctty != RestoreOptions::Ctty::Refuse) return ok();
  for (size_t k = 0; k < set.procs.size(); k++)
    if (!set.tree[k].zombie() && ctty_outside_set(set, k))
      return errf("process %d led a session whose controlling terminal (device %u:%u) is outside the image: "
                  "rstrt --ctty gives it rstrt's terminal, --no-ctty none", set.tree[k].pid,
                  (unsigned)major((dev_t)set.procs[k].proc.tty_nr), (unsigned)minor((dev_t)set.procs[k].proc.tty_nr));
  return ok();
}

// The image's metadata is complete and checked: nothing outside rstrt has
// been touched yet. Now the processes are made.
Err Restorer::metadata_done(ImageReader &rd) {
  TRY(SetReader::metadata_done(rd));
  TRY(map_set_paths(opt_.map_paths, &set));
  for (size_t k = 0; k < set.procs.size(); k++)
    if (!set.tree[k].zombie()) TRY(check_restore_rights(set.procs[k], trust_));
  TRY(check_cttys());
  TRY(plan_creds());
  if (dry_) return plan_layout();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) return sys_err("PR_SET_CHILD_SUBREAPER");
  TRY(make_plan());
  return create_roots();
}

// Where restore_pages has written process k's premapped memory.
class Restorer::ForkAt : public ForkPoint {
 public:
  ForkAt(Restorer &r, size_t k, Remote &rc) : r_(r), k_(k), rc_(rc) {}
  Err reached() override { return r_.fork_and_layout(k_, rc_); }

 private:
  Restorer &r_;
  size_t k_;
  Remote &rc_;
};

// Process k has stopped with its premapped memory made (child_run): its pages
// stream in, those of premapped mappings first, then it forks its children
// (fork_and_layout) and the rest come.
Err Restorer::pages(ImageReader &rd, size_t k, uint32_t *type, uint32_t *len) {
  if (dry_) return SetReader::pages(rd, k, type, len);
  const ProcImage &img = set.procs[k];
  Tracee t(img.proc.pid);
  if (t.wait_self_stop()) return child_error();
  ProcMem mem;
  TRY(mem.open(img.proc.pid, true));
  Remote rc(t, mem, gadget_at(gadget_[k], page_));
  ForkAt at(*this, k, rc);
  Vec<int> sources;
  sources_before(k, &sources);
  return restore_pages(rd, &mem, img.vmas, sources, parent_pid(k), &at, type, len);
}

// k forks its children, which inherit its premapped memory, sets itself up
// and stops; then its layout is made by injected calls.
Err Restorer::fork_and_layout(size_t k, Remote &rc) {
  const ProcImage &img = set.procs[k];
  Tracee &t = rc.thread();
  TRY(t.cont());
  TRY(start_children(k));
  if (t.wait_self_stop()) return child_error();
  TRY(check_thread_regsets(t, img.threads[0]));
  TRY(rc.begin());
  return restore_layout(rc, img.proc.pid, img.vmas, first_slot_[k], set, k);
}

Err Restorer::resume_thread(Remote &rc, const ThreadRec &th, const ProcImage &img) {
  TRY(restore_thread_self(rc, th));
  TRY(restore_thread_attrs(rc, img, th.tid));
  TRY(restore_thread_regs(rc.thread(), th));
  TRY(rc.thread().resume_with(th.regs, th.sigmask));
  return rc.thread().detach();
}

// mm fields, threads, pending signals; the gadget goes last, then the main
// thread resumes with its saved registers.
Err Restorer::hand_over(size_t k) {
  const ProcImage &img = set.procs[k];
  int pid = img.proc.pid;
  Tracee main(pid);
  ProcMem mem;
  TRY(mem.open(pid, true));
  const Gadget g = gadget_at(gadget_[k], page_);
  Remote rc(main, mem, g);
  TRY(rc.begin());
  TRY(restore_mm(rc, img.mm, exe_slot_[k]));
  int64_t r;
  TRY(rc.call(SYS_close, &r, exe_slot_[k]));
  TRY(restore_posix_locks(rc, img));  // no fd of the restore's left to close, which would drop them
  TRY(main.trace_clones());
  for (size_t i = 1; i < img.threads.size(); i++) {
    TRY(create_thread(rc, img.threads[i].tid));
    Tracee t(img.threads[i].tid);
    Remote trc(t, mem, g);
    TRY(trc.begin());
    TRY(resume_thread(trc, img.threads[i], img));
  }
  TRY(restore_pending(rc, pid, img.pending));
  TRY(restore_thread_self(rc, img.threads[0]));
  TRY(restore_main_attrs(rc, img));  // after all threads exist, before the gadget goes
  TRY(rc.call(SYS_munmap, &r, g.insn, page_));
  TRY(restore_thread_regs(main, img.threads[0]));
  TRY(main.resume_with(img.threads[0].regs, img.threads[0].sigmask));
  return main.detach(opt_.stop ? SIGSTOP : 0);  // rstrt --stop: pending before it runs
}

// END is read and checked: nothing runs before the image is known good.
// A shell job (its own process group in a session outside the set, now
// rstrt's) gets rstrt's terminal first, as a shell's `fg` gives it
// (tcsetpgrp(3): from the foreground, so no SIGTTOU).
Err Restorer::end(ImageReader &rd) {
  if (dry_) return ok();
  TRY(restore_owners(set, desc_fds_));  // every process exists now
  drop_plan_fds();
  const TreeEntry &root = set.tree[0];
  if (opt_.shell_tty >= 0 && root.pgid == root.pid && root.sid != root.pid && tcsetpgrp(opt_.shell_tty, root.pid) < 0)
    return sys_err("--shell-job: giving the terminal to process group %d", root.pid);
  for (size_t k = 0; k < set.tree.size(); k++)
    if (!set.tree[k].zombie()) TRY(hand_over(k));
  return ok();
}
}  // namespace

Err check_image(int fd) {
  ImageReader rd(fd);
  SetReader v;
  return walk_image(rd, v);
}

Err plan_image(int fd) {
  RestoreOptions opt;
  ImageTrust trust;
  TRY(image_trust(fd, false, &trust));
  ImageReader rd(fd);
  Restorer r(opt, trust, true);
  return walk_image(rd, r);
}

Err restore_image(int fd, const RestoreOptions &opt, Vec<int> *roots) {
  ImageTrust trust;
  TRY(image_trust(fd, opt.trusted_stream, &trust));
  ImageReader rd(fd);
  struct stat st;
  Progress progress("rstrt", fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0, Progress::kLargeJob);
  if (opt.progress) rd.set_progress(&progress);
  Restorer r(opt, trust);
  Err e = walk_image(rd, r);
  if (opt.progress) e ? progress.erase() : progress.done();
  if (e) {
    r.kill_all();
    return e;
  }
  r.roots(roots);
  return ok();
}

// A probe child takes the terminal in a session of its own, and lets it go
// again: TIOCSCTTY fails with EPERM if another session has it (tty_io.c,
// tiocsctty; without the steal argument even for root).
Err check_ctty_terminal(bool *hand_over) {
  int tty = first_tty();
  if (tty < 0) return errk(ErrKind::Usage, "--ctty: rstrt has no terminal on fd 0, 1 or 2");
  *hand_over = false;
  pid_t sid = tcgetsid(tty);
  if (sid >= 0) {  // rstrt's own controlling terminal
    if (sid != getpid())
      return errf("--ctty: rstrt's terminal is the controlling terminal of its session (led by process %d): run rstrt "
                  "as the session leader (exec rstrt ...) or on a terminal no session has", (int)sid);
    *hand_over = true;
    return ok();
  }
  pid_t pid = fork();
  if (pid < 0) return sys_err("fork");
  if (pid == 0) {
    signal(SIGHUP, SIG_IGN);  // TIOCNOTTY hangs up the foreground group: this one
    bool took = setsid() >= 0 && ioctl(tty, TIOCSCTTY, 0) == 0;
    if (took) ioctl(tty, TIOCNOTTY, 0);
    _exit(took ? 0 : 1);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return errf("--ctty: rstrt's terminal is the controlling terminal of another session");
  return ok();
}
