// Per-kernel-object dump and restore entry points. Dump functions read a frozen
// target; *_child functions run inside the freshly cloned process before it
// stops for the parent (it still runs rstrt's code then); the others run in
// rstrt and act on the stopped child through ptrace.
#pragma once
#include "base.h"
#include "image.h"
#include "model.h"
#include "ptrace.h"

// Remote memory of a process through /proc/PID/mem (reads and writes even
// protected pages, as ptrace does: FOLL_FORCE).
class ProcMem {
 public:
  Err open(int pid, bool write);
  Err read(uint64_t addr, void *buf, size_t n) const;
  Err write(uint64_t addr, const void *buf, size_t n) const;

 private:
  Fd fd_;
};

// Where injected syscalls run and scratch data lives in a stopped target.
struct Gadget {
  uint64_t insn = 0;     // address of a syscall instruction
  uint64_t scratch = 0;  // writable scratch area (0 if none)
  uint64_t scratch_len = 0;
};

// process.cpp: identity, cwd, umask, rlimits, mm fields
Err check_target(int pid);
Err dump_process(int pid, ProcImage *img);
Err dump_brk(Tracee &t, const Gadget &g, MmRec *mm);
Err check_restore_rights(const ProcImage &img);
Err restore_identity_child(const ProcImage &img);
Err restore_rlimits_child(const RlimitsRec &r);
Err restore_mm(Tracee &t, const ProcMem &mem, const Gadget &g, const MmRec &mm, int exe_fd);

// files.cpp: fd tables and open file descriptions
struct DescIndex {  // for each FdescRec of the set, one (pid, fd) that refers to it (for kcmp)
  Vec<int> rep_pid, rep_fd;
};
Err dump_files(int pid, SetImage &set, DescIndex &idx, Vec<FileRec> *out);
int highest_fd(const Vec<FileRec> &files);
// rstrt, before forking the tree: open every description once at fds >= above.
Err open_fdescs(const SetImage &set, int tty_fd, int above, Vec<int> *fds);
// The new process: dup each of its fds from the descriptions (fds below them closed).
Err restore_files_child(const Vec<FileRec> &files, const Vec<int> &desc_fds);
// pipes.cpp
Err dump_pipe(int pid, int fd, FdescRec *f);
void dedupe_pipe_data(SetImage &set);
Err open_pipes(const SetImage &set, int above, Vec<int> *fds);
// memfd.cpp
bool is_memfd_name(const char *path);
Err dump_memfd(const char *proc_path, FdescRec *f);
Err dump_mapped_memfds(int pid, const Vec<VmaRec> &vmas, SetImage &set, DescIndex &idx);
Err open_memfd(const FdescRec &f, int *out);
int memfd_desc_of(const SetImage &set, const VmaRec &v);
// unix.cpp
Err dump_unix_socket(int pid, int fd, FdescRec *f);
Err open_unix_sockets(const SetImage &set, int above, Vec<int> *fds);
// tree.cpp: a pipe or socket end held by a process outside the set is refused.
Err check_external_channels(const SetImage &set);

// signals.cpp: dispositions, pending signals
Err dump_sigacts(Tracee &t, const ProcMem &mem, const Gadget &g, SigactsRec *out);
Err dump_pending(Tracee &t, Vec<SiginfoRec> *out);
Err restore_sigacts_child(const SigactsRec &r);
Err restore_pending(Tracee &t, const ProcMem &mem, const Gadget &g, int pid, const Vec<SiginfoRec> &pending);

// threads.cpp: registers, altstack, rseq
Err dump_thread(Tracee &t, const ProcMem &mem, const Gadget &g, ThreadRec *out);
Err dump_thread_injected(Tracee &t, const ProcMem &mem, const Gadget &g, ThreadRec *out);
Err restore_thread_self(Tracee &t, const ProcMem &mem, const Gadget &g, const ThreadRec &th);
Err create_thread(Tracee &main, const ProcMem &mem, const Gadget &g, int tid);
Err restore_rseq(Tracee &t, const ThreadRec &th);
Err check_thread_regsets(Tracee &t, const ThreadRec &th);
Err restore_thread_regs(Tracee &t, const ThreadRec &th);

// memory.cpp: mappings and page contents
Err dump_vmas(int pid, Vec<VmaRec> *out);
Err find_syscall_insn(const ProcMem &mem, const Vec<VmaRec> &vmas, uint64_t *addr);
// Pages of one process. `parent` (0: none in the set) is an earlier process whose
// pages this one may still share copy-on-write: those are written as PAGES_FROM.
// `dumped_shm` lists shmem objects (inode) whose pages an earlier process wrote.
Err dump_pages(int pid, int parent, const ProcMem &mem, Vec<VmaRec> &vmas, Vec<uint64_t> &dumped_shm, ImageWriter &w);
// VMA files are opened by the child at fds first_slot + i (i: index among distinct files).
int count_vma_files(const Vec<VmaRec> &vmas);
// A private mapping's file must be unchanged (size, mtime, inode) unless allow_changed.
// Mapped memfds come from their restored descriptions (desc_fds), not by path.
Err open_vma_files_child(const Vec<VmaRec> &vmas, int first_slot, const SetImage &set, const Vec<int> &desc_fds,
                         bool allow_changed);
Err pick_gadget_address(const Vec<VmaRec> &vmas, uint64_t len, uint64_t *addr);
// `earlier` are the processes restored before this one (shared memory owners).
Err restore_layout(Tracee &t, int pid, const ProcMem &mem, const Gadget &g, const Vec<VmaRec> &vmas, int first_slot,
                   const SetImage &set, size_t self);
// Reads PAGES/PAGES_FROM records (the current one, whose header `type`/`len` was
// just read) until another record type comes; leaves that one's header in type/len.
// mem == nullptr only checks the records.
Err restore_pages(ImageReader &r, const ProcMem *mem, const Vec<VmaRec> &vmas, uint32_t *type, uint32_t *len);
