// Restore: rebuild, then hand over (DESIGN.md). rstrt reads the metadata of the
// process, clones it with its original PID (clone3 set_tid), and the child sets
// up what it can itself (files, cwd, session, signal handlers, limits) while it
// still runs rstrt's code. It then maps a one-page gadget holding a syscall
// instruction and stops. rstrt drives the rest through injected syscalls at the
// gadget: unmap rstrt's image, move the vDSO, map the saved layout, stream the
// pages in through /proc/PID/mem, set the mm fields, re-register rseq, re-queue
// pending signals, and unmap the gadget last. Then the saved registers and mask
// are loaded and the process resumes where it was frozen. Any failure kills the
// half-built process: nothing is left behind.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
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

// Everything the child needs, computed by the parent before the clone.
struct ChildPlan {
  const ProcImage *img;
  int go_fd, err_fd, tty_fd;
  int first_slot, exe_slot, high_fd;
  uint64_t gadget;
  uint64_t page;
};

// ---- reading ----------------------------------------------------------------

Err read_record(ImageReader &rd, uint32_t len) {
  if (len > sizeof rec_buf) return rd.bad("record too large (%u bytes)", len);
  return rd.payload(rec_buf, len);
}

Err check_header(const ImageHeader &h) {
  if (h.arch != arch::kImageArch)
    return errf("bad image: it is for %s, this is %s", arch_name(h.arch), arch::kName);
  if (h.big_endian != arch::kBigEndian) return errf("bad image: byte order differs from this machine's");
  if (h.page_size != (uint32_t)sysconf(_SC_PAGESIZE))
    return errf("bad image: page size %u, this machine's is %ld", h.page_size, sysconf(_SC_PAGESIZE));
  if (h.nr_processes != 1) return errf("bad image: %u processes; this rstrt restores one", h.nr_processes);
  return ok();
}

Err read_header(ImageReader &rd) {
  TRY(rd.preamble());
  uint32_t type, len;
  TRY(rd.next(&type, &len));
  if (type != (uint32_t)Rec::Header) return rd.bad("expected HEADER first");
  TRY(read_record(rd, len));
  ImageHeader h;
  if (!decode_header(rec_buf, len, &h)) return rd.bad("malformed");
  TRY(check_header(h));
  TRY(rd.next(&type, &len));
  if (type != (uint32_t)Rec::Tree) return rd.bad("expected TREE after HEADER");
  return read_record(rd, len);  // one process: its identity is repeated in PROCESS
}

// Decode one metadata record into img; `seen` enforces the order of FORMAT.md.
Err take_record(ImageReader &rd, uint32_t type, uint32_t len, ProcImage *img, uint32_t *last) {
  if (type < *last) return rd.bad("out of order (after %s)", rec_name(*last));
  *last = type;
  TRY(read_record(rd, len));
  bool good = false;
  switch ((Rec)type) {
    case Rec::File: { FileRec f; good = decode_file(rec_buf, len, &f); if (good) img->files.push(std::move(f)); break; }
    case Rec::Rlimits: good = decode_rlimits(rec_buf, len, &img->rlimits); break;
    case Rec::Sigacts: good = decode_sigacts(rec_buf, len, &img->sigacts); break;
    case Rec::Mm: good = decode_mm(rec_buf, len, &img->mm); break;
    case Rec::Thread: { ThreadRec t; good = decode_thread(rec_buf, len, &t); if (good) img->threads.push(std::move(t)); break; }
    case Rec::Siginfo: { SiginfoRec s; good = decode_siginfo(rec_buf, len, &s); if (good) img->pending.push(s); break; }
    case Rec::Vma: { VmaRec v; good = decode_vma(rec_buf, len, &v); if (good) img->vmas.push(std::move(v)); break; }
    default: return rd.bad("unexpected in a process");
  }
  return good ? ok() : rd.bad("malformed");
}

Err check_vmas(ImageReader &rd, const Vec<VmaRec> &vmas, uint64_t page) {
  for (size_t i = 0; i < vmas.size(); i++) {
    const VmaRec &v = vmas[i];
    if (v.start % page || v.end % page || v.end > (1ull << 56))
      return errf("bad image: mapping 0x%llx-0x%llx is not page-aligned user memory", (unsigned long long)v.start, (unsigned long long)v.end);
    if (i && v.start < vmas[i - 1].end) return errf("bad image: mappings overlap at 0x%llx", (unsigned long long)v.start);
  }
  return ok();
}

// Metadata of the one process, up to its first PAGES (or PROC_END) record,
// whose header is left in type/len.
Err read_process(ImageReader &rd, ProcImage *img, uint32_t *type, uint32_t *len) {
  TRY(rd.next(type, len));
  if (*type != (uint32_t)Rec::Process) return rd.bad("expected PROCESS");
  TRY(read_record(rd, *len));
  if (!decode_process(rec_buf, *len, &img->proc)) return rd.bad("malformed");
  uint32_t last = (uint32_t)Rec::Process;
  for (;;) {
    TRY(rd.next(type, len));
    if (*type == (uint32_t)Rec::Pages || *type == (uint32_t)Rec::ProcEnd) break;
    TRY(take_record(rd, *type, *len, img, &last));
  }
  if (img->threads.size() != 1 || img->threads[0].tid != img->proc.pid)
    return errf("bad image: expected one thread with the process's ID");
  return check_vmas(rd, img->vmas, (uint64_t)sysconf(_SC_PAGESIZE));
}

Err read_trailer(ImageReader &rd, uint32_t type, uint32_t len) {
  if (type != (uint32_t)Rec::ProcEnd || len != 0) return rd.bad("expected PROC_END");
  TRY(rd.finish());
  TRY(rd.next(&type, &len));
  if (type != (uint32_t)Rec::End) return rd.bad("expected END");
  uint64_t records_before = rd.records();
  TRY(read_record(rd, len));
  Dec d(rec_buf, len);
  uint64_t count = d.u64();
  d.u32();
  if (d.bad() || count != records_before + 1) return rd.bad("record count %llu does not match", (unsigned long long)count);
  return ok();
}

// ---- the child ----------------------------------------------------------------

int first_tty() {
  for (int fd = 0; fd <= 2; fd++)
    if (isatty(fd)) return fd;
  return -1;
}

Err move_high(int *fd, int high) {
  if (*fd < 0) return ok();
  int n = fcntl(*fd, F_DUPFD_CLOEXEC, high);
  if (n < 0) return sys_err("fcntl F_DUPFD");
  *fd = n;
  return ok();
}

// Close every fd but the plan's own (which sit at or above high_fd).
Err close_others(const ChildPlan &p) {
  if (syscall(SYS_close_range, 0, p.high_fd - 1, 0) < 0) return sys_err("close_range");
  int keep_max = p.err_fd > p.tty_fd ? p.err_fd : p.tty_fd;
  for (int fd = p.high_fd; fd < keep_max; fd++)
    if (fd != p.err_fd && fd != p.tty_fd) close(fd);
  if (syscall(SYS_close_range, keep_max + 1, ~0u, 0) < 0) return sys_err("close_range");
  return ok();
}

Err map_gadget(const ChildPlan &p) {
  void *g = mmap((void *)p.gadget, p.page, PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (g != (void *)p.gadget) return sys_err("mapping the restorer page");
  memcpy(g, arch::kSyscallInsn, sizeof arch::kSyscallInsn);
  return ok();
}

Err child_setup(ChildPlan p) {
  char go;
  if (read(p.go_fd, &go, 1) != 1) return errf("restore aborted");
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  struct rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);
  TRY(move_high(&p.err_fd, p.high_fd));
  TRY(move_high(&p.tty_fd, p.high_fd));
  TRY(close_others(p));
  const ProcImage &img = *p.img;
  TRY(restore_files_child(img.files, p.tty_fd));
  TRY(open_vma_files_child(img.vmas, p.first_slot));
  int exe = open(img.proc.exe.c(), O_RDONLY | O_CLOEXEC);
  if (exe < 0) return sys_err("cannot open the program %s", img.proc.exe.c());
  if (dup3(exe, p.exe_slot, O_CLOEXEC) < 0) return sys_err("dup3");
  close(exe);
  if (p.tty_fd >= 0) close(p.tty_fd);
  TRY(restore_identity_child(img));
  TRY(restore_sigacts_child(img.sigacts));
  TRY(restore_altstack_child(img.threads[0]));
  TRY(map_gadget(p));
  return restore_rlimits_child(img.rlimits);
}

[[noreturn]] void child_main(const ChildPlan &p) {
  Err e = child_setup(p);
  if (e) {
    (void)write_full(p.err_fd, e.msg, strlen(e.msg));
    _exit(127);
  }
  // Stop for the parent. kill(getpid()) rather than raise(): after a raw clone3
  // libc's idea of the current thread is still the parent's.
  syscall(SYS_kill, getpid(), SIGSTOP);
  _exit(127);  // only if the parent went away
}

// ---- the parent ---------------------------------------------------------------

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

// Wait for the child to stop itself, or collect its one-line complaint.
Err child_ready(Tracee &t, int err_fd) {
  Err e = t.wait_self_stop();
  if (!e) return ok();
  char msg[240];
  long n = read_full(err_fd, msg, sizeof msg - 1);
  if (n > 0) {
    msg[n] = 0;
    return errf("%s", msg);
  }
  return e;
}

Err plan_child(const ProcImage &img, ChildPlan *p) {
  p->img = &img;
  p->page = (uint64_t)sysconf(_SC_PAGESIZE);
  p->tty_fd = first_tty();
  p->first_slot = highest_fd(img.files) + 1;
  p->exe_slot = p->first_slot + count_vma_files(img.vmas);
  p->high_fd = p->exe_slot + 1;
  return pick_gadget_address(img.vmas, p->page, &p->gadget);
}

// The injected part, in the stopped child.
Err rebuild(Tracee &t, int pid, const ChildPlan &p, ImageReader &rd, uint32_t type, uint32_t len) {
  const ProcImage &img = *p.img;
  const ThreadRec &th = img.threads[0];
  TRY(check_thread_regsets(t, th));
  Gadget g = {p.gadget, p.gadget + 256, p.page - 256};
  TRY(t.inject_begin(g.insn));
  TRY(restore_layout(t, pid, g, img.vmas, p.first_slot));
  ProcMem mem;
  TRY(mem.open(pid, true));
  TRY(restore_pages(rd, mem, img.vmas, &type, &len));
  TRY(read_trailer(rd, type, len));  // the whole image is checked before anything runs
  TRY(restore_mm(t, mem, g, img.mm, p.exe_slot));
  int64_t r;
  TRY(t.syscall(SYS_close, &r, p.exe_slot));
  TRY(restore_rseq(t, th));
  TRY(restore_pending(t, mem, g, pid, img.pending));
  TRY(t.syscall(SYS_munmap, &r, g.insn, p.page));
  TRY(restore_thread_regs(t, th));
  TRY(t.resume_with(th.regs, th.sigmask));
  return t.detach();
}

Err spawn_and_rebuild(const ProcImage &img, ImageReader &rd, uint32_t type, uint32_t len, int *pid_out) {
  ChildPlan p;
  TRY(plan_child(img, &p));
  int go[2], err[2];
  if (pipe2(go, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) return sys_err("pipe");
  p.go_fd = go[0];
  p.err_fd = err[1];
  int pid = -1;
  Err e = clone_with_pid(img.proc.pid, &pid);
  if (!e && pid == 0) child_main(p);
  close(go[0]);
  close(err[1]);
  Tracee t(pid);
  if (!e) e = t.seize_child();
  if (!e && write(go[1], "g", 1) != 1) e = sys_err("starting the restored process");
  close(go[1]);
  if (!e) e = child_ready(t, err[0]);
  close(err[0]);
  if (!e) e = rebuild(t, pid, p, rd, type, len);
  if (e && pid > 0) {  // no half-restored process is left behind
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, __WALL);
  }
  *pid_out = pid;
  return e;
}
}  // namespace

Err restore_image(int fd, const RestoreOptions &opt, int *pid_out) {
  ImageReader rd(fd);
  TRY(read_header(rd));
  ProcImage img;
  uint32_t type, len;
  TRY(read_process(rd, &img, &type, &len));
  return spawn_and_rebuild(img, rd, type, len, pid_out);
}
