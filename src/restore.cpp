// Restore: rebuild, then hand over (DESIGN.md, docs/DESIGN-NOTES.md).
// rstrt reads the metadata of every process, opens every shared file
// description once, and clones the tree top down with the original PIDs
// (clone3 set_tid): each new process, still running rstrt's code, clones its own
// children, then sets up what it can itself (fds, mapped files, cwd, session and
// group, signal handlers, limits), maps a one-page gadget holding a syscall
// instruction and stops. rstrt then rebuilds each process through syscalls
// injected at its gadget (layout, vDSO, pages streamed from the image), checks the
// END record, recreates threads, and resumes every thread with its saved
// registers. Any failure kills every process it created: nothing is left behind.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec.h"
#include "dump.h"
#include "model.h"
#include "process.h"
#include "ptrace.h"

namespace {
uint8_t rec_buf[1 << 20];

struct CloneArgs {  // struct clone_args (include/uapi/linux/sched.h), CLONE_ARGS_SIZE_VER2
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

// Everything the new processes need, computed by rstrt before the first clone;
// every process starts as a copy of rstrt and finds it here.
struct Plan {
  const SetImage *set = nullptr;
  Vec<int> desc_fds;            // one fd per FdescRec, all >= fd_floor
  Vec<int> go_r, go_w;          // per process: rstrt says "go" once it traces it
  Vec<uint64_t> gadget;         // per process
  Vec<int> first_slot, exe_slot;
  int err_w = -1, report_w = -1, report_r = -1, err_r = -1;
  int fd_floor = 0;             // every target fd and slot is below; plan fds above
  uint64_t page = 0;
  bool allow_changed_files = false;  // rstrt --allow-changed-files
};
Plan plan;

// ---- reading ----------------------------------------------------------------

Err read_record(ImageReader &rd, uint32_t len) {
  if (len > sizeof rec_buf) return rd.bad("record too large (%u bytes)", len);
  return rd.payload(rec_buf, len);
}

Err check_header(const ImageHeader &h) {
  if (h.arch != arch::kImageArch) return errf("bad image: it is for %s, this is %s", arch_name(h.arch), arch::kName);
  if (h.big_endian != arch::kBigEndian) return errf("bad image: byte order differs from this machine's");
  if (h.page_size != (uint32_t)sysconf(_SC_PAGESIZE))
    return errf("bad image: page size %u, this machine's is %ld", h.page_size, sysconf(_SC_PAGESIZE));
  return ok();
}

Err expect(ImageReader &rd, Rec want, uint32_t *type, uint32_t *len) {
  TRY(rd.next(type, len));
  if (*type != (uint32_t)want) return rd.bad("expected %s", rec_name((uint32_t)want));
  return read_record(rd, *len);
}

Err read_head(ImageReader &rd, SetImage *set, uint32_t *type, uint32_t *len) {
  TRY(rd.preamble());
  TRY(expect(rd, Rec::Header, type, len));
  ImageHeader h;
  if (!decode_header(rec_buf, *len, &h)) return rd.bad("malformed");
  TRY(check_header(h));
  TRY(expect(rd, Rec::Tree, type, len));
  if (!decode_tree(rec_buf, *len, &set->tree) || set->tree.size() != h.nr_processes) return rd.bad("malformed");
  for (;;) {
    TRY(rd.next(type, len));
    if (*type != (uint32_t)Rec::Fdesc) return ok();
    TRY(read_record(rd, *len));
    FdescRec f;
    if (!decode_fdesc(rec_buf, *len, &f) || f.id != set->fdescs.size()) return rd.bad("malformed");
    set->fdescs.push(std::move(f));
  }
}

// A mapping is page-aligned user memory above the one before it (smaps order);
// checked as its record is read, so the error names the record.
Err check_vma(ImageReader &rd, const VmaRec &v, const Vec<VmaRec> &before) {
  const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  if (v.start % page || v.end % page || v.end > (1ull << 56))
    return rd.bad("mapping 0x%llx-0x%llx is not page-aligned user memory", (unsigned long long)v.start,
                  (unsigned long long)v.end);
  if (!before.empty() && v.start < before[before.size() - 1].end)
    return rd.bad("mapping at 0x%llx overlaps the one before", (unsigned long long)v.start);
  return ok();
}

// Decode one metadata record into img; `last` enforces the order of FORMAT.md.
Err take_record(ImageReader &rd, uint32_t type, uint32_t len, ProcImage *img, uint32_t *last) {
  if (type < *last || (type > (uint32_t)Rec::Vma && !is_attr_record(type))) return rd.bad("out of order (after %s)", rec_name(*last));
  *last = type;
  TRY(read_record(rd, len));
  bool good = false;
  switch ((Rec)type) {
    case Rec::File: { FileRec f; good = decode_file(rec_buf, len, &f); if (good) img->files.push(f); break; }
    case Rec::Rlimits: good = decode_rlimits(rec_buf, len, &img->rlimits); break;
    case Rec::Sigacts: good = decode_sigacts(rec_buf, len, &img->sigacts); break;
    case Rec::Mm: good = decode_mm(rec_buf, len, &img->mm); break;
    case Rec::Thread: { ThreadRec t; good = decode_thread(rec_buf, len, &t); if (good) img->threads.push(std::move(t)); break; }
    case Rec::Siginfo: { SiginfoRec s; good = decode_siginfo(rec_buf, len, &s); if (good) img->pending.push(s); break; }
    case Rec::Vma: {
      VmaRec v;
      good = decode_vma(rec_buf, len, &v);
      if (good) TRY(check_vma(rd, v, img->vmas));
      if (good) img->vmas.push(std::move(v));
      break;
    }
    default:
      if (!is_attr_record(type)) return rd.bad("unexpected in a process");
      good = decode_attr_record(type, rec_buf, len, &img->attrs);
  }
  return good ? ok() : rd.bad("malformed");
}

Err check_process(const ProcImage &img, const TreeEntry &te, const SetImage &set, uint64_t page) {
  if (img.proc.pid != te.pid) return errf("bad image: PROCESS %d out of TREE order", img.proc.pid);
  if (img.threads.size() != te.tids.size()) return errf("bad image: process %d: thread count differs from TREE", te.pid);
  for (size_t i = 0; i < te.tids.size(); i++)
    if (img.threads[i].tid != te.tids[i]) return errf("bad image: process %d: thread %d not in TREE", te.pid, img.threads[i].tid);
  for (auto &f : img.files)
    if (f.desc >= set.fdescs.size()) return errf("bad image: process %d fd %d: no such description", te.pid, f.fd);
  return ok();  // mappings: check_vma, as they are read; attributes: check_attrs_set
}

// One process's metadata; its PROCESS header is in type/len, and the header
// of the record after its metadata is left there.
Err read_one_process(ImageReader &rd, ProcImage *img, uint32_t *type, uint32_t *len) {
  if (*type != (uint32_t)Rec::Process) return rd.bad("expected PROCESS");
  TRY(read_record(rd, *len));
  if (!decode_process(rec_buf, *len, &img->proc)) return rd.bad("malformed");
  uint32_t last = (uint32_t)Rec::Process;
  for (;;) {
    TRY(rd.next(type, len));
    if (*type <= (uint32_t)Rec::Process || (*type > (uint32_t)Rec::Vma && !is_attr_record(*type))) return ok();
    TRY(take_record(rd, *type, *len, img, &last));
  }
}

Err read_processes(ImageReader &rd, SetImage *set, uint32_t *type, uint32_t *len) {
  const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  for (size_t i = 0; i < set->tree.size(); i++) {
    set->procs.push(ProcImage());
    set->procs.back().proc.pid = set->tree[i].pid;
    if (set->tree[i].zombie()) continue;  // a zombie has no metadata
    TRY(read_one_process(rd, &set->procs.back(), type, len));
    TRY(check_process(set->procs.back(), set->tree[i], *set, page));
  }
  return ok();
}

Err read_end(ImageReader &rd, uint32_t type, uint32_t len, size_t nprocs) {
  if (type != (uint32_t)Rec::End) return rd.bad("expected END");
  uint64_t records_before = rd.records();
  TRY(read_record(rd, len));
  Dec d(rec_buf, len);
  uint64_t count = d.u64();
  uint32_t procs = d.u32();
  if (d.bad() || count != records_before + 1 || procs != nprocs)
    return rd.bad("record count %llu does not match", (unsigned long long)count);
  return ok();
}

// One process's page records and its PROC_END; leaves the next header in type/len.
Err read_page_group(ImageReader &rd, const ProcMem *mem, const Vec<VmaRec> &vmas, uint32_t *type, uint32_t *len) {
  TRY(restore_pages(rd, mem, vmas, type, len));
  if (*type != (uint32_t)Rec::ProcEnd || *len != 0) return rd.bad("expected PROC_END");
  TRY(rd.finish());
  return rd.next(type, len);
}

// ---- the new processes (rstrt's code, before they stop) ---------------------

int first_tty() {
  for (int fd = 0; fd <= 2; fd++)
    if (isatty(fd)) return fd;
  return -1;
}

int index_of(int pid) {
  for (size_t i = 0; i < plan.set->tree.size(); i++)
    if (plan.set->tree[i].pid == pid) return (int)i;
  return -1;
}

Err clone_with_pid(int pid, int *out) {
  CloneArgs a = {};
  uint64_t tid = (uint64_t)pid;
  a.exit_signal = SIGCHLD;
  a.set_tid = (uint64_t)&tid;
  a.set_tid_size = 1;
  long r = syscall(SYS_clone3, &a, sizeof a);
  if (r < 0) {
    if (errno == EEXIST) return errf("PID %d is in use; cannot restore the process with its PID", pid);
    if (errno == EPERM) return errf("restoring PID %d needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN", pid);
    return sys_err("clone3 with PID %d", pid);
  }
  *out = (int)r;
  return ok();
}

[[noreturn]] void child_main(size_t k);

// A process group that is a process of the set is joined (or made, by its
// leader) right after the clone, by the parent: the group exists by then, as
// groups are made in TREE order. Groups outside the set are inherited.
Err join_group(const TreeEntry &c) {
  if (c.sid == c.pid || index_of(c.pgid) < 0) return ok();  // session leaders: setsid() makes the group
  if (setpgid(c.pid, c.pgid) < 0) return sys_err("process %d cannot join process group %d", c.pid, c.pgid);
  return ok();
}

// A zombie comes back as a child that exits at once as it had: with its exit
// code, or killed by its signal (default action, no core dump).
[[noreturn]] void become_zombie(int status) {
  if (WIFSIGNALED(status)) {
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    int sig = WTERMSIG(status);
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, nullptr);
    syscall(SYS_kill, getpid(), sig);
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

// The parent leaves it unreaped (WNOWAIT), and takes back the SIGCHLD its death
// just queued: at the checkpoint that signal had come and gone already (or is
// in the image's pending signals).
Err make_zombie(const TreeEntry &c) {
  int pid;
  TRY(clone_with_pid(c.pid, &pid));
  if (pid == 0) become_zombie(c.wait_status);
  siginfo_t si;
  if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0) return sys_err("waiting for zombie %d", pid);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  struct timespec now = {0, 0};
  while (sigtimedwait(&chld, nullptr, &now) == SIGCHLD) {}
  return ok();
}

Err spawn(size_t k) {
  const TreeEntry &c = plan.set->tree[k];
  if (c.zombie()) return make_zombie(c);
  int pid;
  TRY(clone_with_pid(c.pid, &pid));
  if (pid == 0) child_main(k);
  TRY(join_group(c));
  int32_t msg = pid;
  return write_full(plan.report_w, &msg, sizeof msg);
}

Err spawn_children(int parent) {
  for (size_t k = 0; k < plan.set->tree.size(); k++)
    if (plan.set->tree[k].ppid == parent) TRY(spawn(k));
  return ok();
}

Err map_gadget(size_t k) {
  void *g = mmap((void *)plan.gadget[k], plan.page, PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (g != (void *)plan.gadget[k]) return sys_err("mapping the restorer page");
  memcpy(g, arch::kSyscallInsn, sizeof arch::kSyscallInsn);
  return ok();
}

// Close every fd from fd_floor up but err_w.
Err close_plan_fds() {
  if (plan.err_w > plan.fd_floor && syscall(SYS_close_range, plan.fd_floor, plan.err_w - 1, 0) < 0)
    return sys_err("close_range");
  if (syscall(SYS_close_range, plan.err_w + 1, ~0u, 0) < 0) return sys_err("close_range");
  return ok();
}

Err setup_self(size_t k) {
  const ProcImage &img = plan.set->procs[k];
  if (syscall(SYS_close_range, 0, plan.fd_floor - 1, 0) < 0) return sys_err("close_range");
  TRY(restore_files_child(img.files, plan.desc_fds));
  TRY(open_vma_files_child(img.vmas, plan.first_slot[k], *plan.set, plan.desc_fds, plan.allow_changed_files));
  int exe = open(img.proc.exe.c(), O_RDONLY | O_CLOEXEC);
  if (exe < 0) return sys_err("cannot open the program %s", img.proc.exe.c());
  TRY(place_fd(exe, plan.exe_slot[k], FD_CLOEXEC));
  TRY(close_plan_fds());
  TRY(restore_identity_child(img));
  TRY(restore_sigacts_child(img.sigacts));
  TRY(map_gadget(k));
  return restore_rlimits_child(img.rlimits);
}

Err child_run(size_t k) {
  char go;
  if (read(plan.go_r[k], &go, 1) != 1) return errf("restore aborted");
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  const TreeEntry &me = plan.set->tree[k];
  if (me.sid == me.pid && setsid() < 0) return sys_err("setsid");
  if (me.sid != me.pid && me.pgid == me.pid && setpgid(0, 0) < 0) return sys_err("setpgid");
  TRY(spawn_children(me.pid));
  return setup_self(k);
}

[[noreturn]] void child_main(size_t k) {
  Err e = child_run(k);
  if (e) {
    (void)write_full(plan.err_w, e.msg, strlen(e.msg));
    int32_t fail = -1;
    (void)write_full(plan.report_w, &fail, sizeof fail);
    _exit(127);
  }
  // kill(getpid()) rather than raise(): after a raw clone3, libc's idea of the
  // current thread is still the parent's.
  syscall(SYS_kill, getpid(), SIGSTOP);
  _exit(127);  // only if rstrt went away
}

// ---- rstrt: planning ------------------------------------------------------------

Err pipe_above(int floor, int *r, int *w) {
  int p[2];
  if (pipe2(p, 0) < 0) return sys_err("pipe");
  *r = fcntl(p[0], F_DUPFD, floor);
  *w = fcntl(p[1], F_DUPFD, floor);
  close(p[0]);
  close(p[1]);
  return *r < 0 || *w < 0 ? sys_err("fcntl") : ok();
}

Err make_plan(const SetImage &set) {
  plan.set = &set;
  plan.page = (uint64_t)sysconf(_SC_PAGESIZE);
  int top = 2;
  for (auto &img : set.procs) {
    int slot = highest_fd(img.files) + 1;
    plan.first_slot.push(slot);
    plan.exe_slot.push(slot + count_vma_files(img.vmas));
    top = plan.exe_slot.back() > top ? plan.exe_slot.back() : top;
    plan.gadget.push(0);
    TRY(pick_gadget_address(img.vmas, plan.page, &plan.gadget.back()));
  }
  plan.fd_floor = top + 1;
  struct rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);
  TRY(open_fdescs(set, first_tty(), plan.fd_floor, &plan.desc_fds));
  TRY(pipe_above(plan.fd_floor, &plan.err_r, &plan.err_w));
  TRY(pipe_above(plan.fd_floor, &plan.report_r, &plan.report_w));
  for (size_t k = 0; k < set.tree.size(); k++) {
    plan.go_r.push(-1);
    plan.go_w.push(-1);
    TRY(pipe_above(plan.fd_floor, &plan.go_r[k], &plan.go_w[k]));
  }
  return ok();
}

// rstrt keeps no end of anything the processes share (a pipe end left open
// here would keep their readers from seeing end of file).
void drop_plan_fds() {
  for (int &fd : plan.desc_fds) { close(fd); fd = -1; }
  for (int &fd : plan.go_r) { close(fd); fd = -1; }
  close(plan.err_w);
  close(plan.report_w);
}

// ---- rstrt: creating and tracing the tree ---------------------------------------

struct Live {
  Vec<int> created;  // pids, to kill if anything fails
};

Err child_error() {
  char msg[240];
  long n = read(plan.err_r, msg, sizeof msg - 1);
  if (n > 0) { msg[n] = 0; return errf("%s", msg); }
  return errf("a restored process failed to start");
}

Err start_one(int pid, Live *live) {
  live->created.push(pid);
  int k = index_of(pid);
  if (k < 0) return errf("internal: unexpected process %d", pid);
  Tracee t(pid);
  TRY(t.seize_child());
  if (write(plan.go_w[k], "g", 1) != 1) return sys_err("starting process %d", pid);
  return ok();
}

// Clone the roots (processes whose parent is not in the set); every process
// reports the children it clones. Each is traced before it may go on.
Err create_tree(Live *live) {
  for (size_t k = 0; k < plan.set->tree.size(); k++) {
    if (parent_in_set(plan.set->tree, k) >= 0) continue;
    int pid;
    TRY(clone_with_pid(plan.set->tree[k].pid, &pid));
    if (pid == 0) child_main(k);
    TRY(start_one(pid, live));
  }
  drop_plan_fds();
  size_t living = 0;
  for (auto &e : plan.set->tree) living += !e.zombie();
  while (live->created.size() < living) {
    int32_t pid;
    if (read_full(plan.report_r, &pid, sizeof pid) != sizeof pid || pid < 0) return child_error();
    TRY(start_one(pid, live));
  }
  for (int pid : live->created) {
    Tracee t(pid);
    if (t.wait_self_stop()) return child_error();
  }
  return ok();
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

bool made_here(const Live &live, int pid) {
  for (int p : live.created)
    if (p == pid) return true;
  return false;
}

// Kill and reap everything this restore made, and nothing else: a caller such
// as restartd has children of its own.
void kill_all(const Live &live) {
  for (int pid : live.created) kill(pid, SIGKILL);
  for (int pid : live.created) reap_made(pid);
  for (size_t k = 0; k < plan.set->tree.size(); k++) {  // zombies whose parent was made here
    int p = parent_in_set(plan.set->tree, k);
    if (plan.set->tree[k].zombie() && p >= 0 && made_here(live, plan.set->tree[p].pid)) reap_made(plan.set->tree[k].pid);
  }
}

// ---- rstrt: rebuilding ------------------------------------------------------------

Gadget gadget_of(size_t k) { return Gadget{plan.gadget[k], plan.gadget[k] + 256, plan.page - 256}; }

Err rebuild_memory(size_t k, ImageReader &rd, uint32_t *type, uint32_t *len) {
  const ProcImage &img = plan.set->procs[k];
  Tracee t(img.proc.pid);
  TRY(check_thread_regsets(t, img.threads[0]));
  Gadget g = gadget_of(k);
  ProcMem mem;
  TRY(mem.open(img.proc.pid, true));
  TRY(t.inject_begin(g.insn));
  TRY(restore_layout(t, img.proc.pid, mem, g, img.vmas, plan.first_slot[k], *plan.set, k));
  return read_page_group(rd, &mem, img.vmas, type, len);
}

Err resume_thread(Tracee &t, const ProcMem &mem, const Gadget &g, const ThreadRec &th, const ProcImage &img) {
  TRY(restore_thread_self(t, mem, g, th));
  TRY(restore_thread_attrs(t, mem, g, img, th.tid));
  TRY(restore_thread_regs(t, th));
  TRY(t.resume_with(th.regs, th.sigmask));
  return t.detach();
}

// mm fields, threads, pending signals; the gadget goes last, then the main
// thread resumes with its saved registers.
Err hand_over(size_t k) {
  const ProcImage &img = plan.set->procs[k];
  int pid = img.proc.pid;
  Tracee main(pid);
  Gadget g = gadget_of(k);
  ProcMem mem;
  TRY(mem.open(pid, true));
  TRY(main.inject_begin(g.insn));
  TRY(restore_mm(main, mem, g, img.mm, plan.exe_slot[k]));
  int64_t r;
  TRY(main.syscall(SYS_close, &r, plan.exe_slot[k]));
  TRY(main.syscall(SYS_close, &r, plan.err_w));  // its error pipe: no fd of rstrt's stays behind
  TRY(main.trace_clones());
  for (size_t i = 1; i < img.threads.size(); i++) {
    TRY(create_thread(main, mem, g, img.threads[i].tid));
    Tracee t(img.threads[i].tid);
    TRY(t.inject_begin(g.insn));
    TRY(resume_thread(t, mem, g, img.threads[i], img));
  }
  TRY(restore_pending(main, mem, g, pid, img.pending));
  TRY(restore_thread_self(main, mem, g, img.threads[0]));
  TRY(restore_main_attrs(main, mem, g, img));
  TRY(main.syscall(SYS_munmap, &r, g.insn, plan.page));
  TRY(restore_thread_regs(main, img.threads[0]));
  TRY(main.resume_with(img.threads[0].regs, img.threads[0].sigmask));
  return main.detach();
}

Err rebuild_all(ImageReader &rd, uint32_t type, uint32_t len) {
  const Vec<TreeEntry> &tree = plan.set->tree;
  for (size_t k = 0; k < tree.size(); k++)
    if (!tree[k].zombie()) TRY(rebuild_memory(k, rd, &type, &len));
  TRY(read_end(rd, type, len, tree.size()));  // nothing runs before the image is known good
  for (size_t k = 0; k < tree.size(); k++)
    if (!tree[k].zombie()) TRY(hand_over(k));
  return ok();
}
}  // namespace

Err check_image(int fd) {
  ImageReader rd(fd);
  SetImage set;
  uint32_t type, len;
  TRY(read_head(rd, &set, &type, &len));
  TRY(read_processes(rd, &set, &type, &len));
  for (size_t k = 0; k < set.procs.size(); k++)
    if (!set.tree[k].zombie()) TRY(read_page_group(rd, nullptr, set.procs[k].vmas, &type, &len));
  TRY(check_attrs_set(set));
  return read_end(rd, type, len, set.procs.size());
}

Err restore_image(int fd, const RestoreOptions &opt, Vec<int> *roots) {
  ImageReader rd(fd);
  SetImage set;
  uint32_t type, len;
  TRY(read_head(rd, &set, &type, &len));
  TRY(read_processes(rd, &set, &type, &len));
  TRY(rd.verify_ahead());  // its type ended the metadata: known good before anything is created
  TRY(check_attrs_set(set));
  for (size_t k = 0; k < set.procs.size(); k++)
    if (!set.tree[k].zombie()) TRY(check_restore_rights(set.procs[k]));
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) return sys_err("PR_SET_CHILD_SUBREAPER");
  plan.allow_changed_files = opt.allow_changed_files;
  TRY(make_plan(set));
  Live live;
  Err e = create_tree(&live);
  if (!e) e = rebuild_all(rd, type, len);
  if (e) {
    kill_all(live);
    return e;
  }
  for (size_t k = 0; k < set.tree.size(); k++)
    if (parent_in_set(set.tree, k) < 0) roots->push(set.tree[k].pid);
  return ok();
}
