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
// At checkpoint the instruction is found in the target's vDSO and the scratch
// area is a page mapped for the occasion; at restore both are in the gadget
// page (memory.cpp: gadget_at), which also reserves a free range beyond it.
struct Gadget {
  uint64_t insn = 0;     // address of a syscall instruction
  uint64_t scratch = 0;  // writable scratch area (0 if none)
  uint64_t scratch_len = 0;
  uint64_t park = 0;     // restore: a free range the vDSO may be moved through
};
class Remote;

// process.cpp: identity, cwd, umask, rlimits, mm fields
Err check_target(int pid);
Err dump_process(int pid, ProcImage *img);
Err dump_brk(Remote &rc, MmRec *mm);
// Who an image's processes may be: root (any), or its file's owner (only
// that user's processes); a stream counts as the caller's, an authenticated
// migration as root's (docs/ROBUSTNESS.md, "trust model").
struct ImageTrust {
  uint32_t uid = 0;
  bool from_file = false;
  Vec<uint32_t> groups;  // the user's groups (/etc/passwd, /etc/group), uid != 0
};
Err image_trust(int fd, bool trusted_stream, ImageTrust *t);
Err check_restore_rights(const ProcImage &img, const ImageTrust &t);
// A user's groups: the primary one, then those /etc/group lists them in.
Err user_groups(uint32_t uid, Vec<uint32_t> *out);
// fsuid, fsgid and groups of the calling process (opens happen as that user).
Err adopt_fs_creds(uint32_t uid, uint32_t gid, const Vec<uint32_t> &groups);
Err restore_identity_child(const ProcImage &img);
Err restore_rlimits_child(const RlimitsRec &r);
Err restore_mm(Remote &rc, const MmRec &mm, int exe_fd);

// files.cpp: fd tables and open file descriptions (each kind in src/fd/)
struct DescIndex {  // for each FdescRec of the set, one (pid, fd) that refers to it (for kcmp)
  Vec<int> rep_pid, rep_fd;  // rep_fd -1: a file seen only mapped (a memfd), known by its inode
  Vec<uint32_t> sorted;      // the descriptions with an fd, by (dev, ino, kcmp order)
  uint64_t ghost_limit = 0;  // the most data a deleted file may hold (chkpt --ghost-limit)
  Vec<int> *repaired = nullptr;  // the Dumper's list of sockets in TCP repair mode
  bool tcp_close = false;        // chkpt --tcp-close
};
// `locks`: the file locks its fds show (procattr.h LockRec).
Err dump_files(int pid, SetImage &set, DescIndex &idx, Vec<FileRec> *out, Vec<LockRec> *locks);
// Descriptions for files that are mapped but no longer open (memfds).
Err dump_mapped_files(int pid, const Vec<VmaRec> &vmas, SetImage &set, DescIndex &idx);
// After the whole set is collected: kinds' fix-ups, and the refusal of any
// channel whose other end, or SIGIO owner, is outside the set.
// `external`: fds besides 0-2 that may be external (chkpt --external).
Err finish_fdescs(SetImage &set, const Vec<int> &external);
int highest_fd(const Vec<FileRec> &files);
// The description a file mapping is made from, or -1 (it is opened by path).
int desc_of_mapping(const SetImage &set, const VmaRec &v);
// rstrt, before forking the tree: open every description once at fds >= above.
// `staged`: per description, an fd its kind made while the image was read
// (FdKind::stage), or -1; each is taken (set to -1) when used.
Err open_fdescs(const SetImage &set, int tty_fd, int above, const Vec<InheritFd> &inherit, bool tcp_close,
                Vec<int> *staged, Vec<int> *fds);
// rstrt, once every process exists: SIGIO owners.
Err restore_owners(const SetImage &set, const Vec<int> &fds);
// New process k: dup each of its fds from the descriptions (fds below them closed).
Err restore_files_child(const SetImage &set, size_t k, const Vec<int> &desc_fds);

// signals.cpp: dispositions, pending signals
Err dump_sigacts(Remote &rc, SigactsRec *out);
Err restore_sigacts_child(const SigactsRec &r);
Err restore_pending(Remote &rc, int pid, const Vec<SiginfoRec> &pending);

// threads.cpp: registers, altstack, rseq
Err dump_thread(Tracee &t, ThreadRec *out);
Err dump_thread_injected(Remote &rc, ThreadRec *out);
Err restore_thread_self(Remote &rc, const ThreadRec &th);
Err create_thread(Remote &main, int tid);
Err check_thread_regsets(Tracee &t, const ThreadRec &th);
Err restore_thread_regs(Tracee &t, const ThreadRec &th);

// memory.cpp: mappings and page contents
Err dump_vmas(int pid, Vec<VmaRec> *out);
Err find_syscall_insn(const ProcMem &mem, const Vec<VmaRec> &vmas, uint64_t *addr);
// Pages of one process. `parent` (0: none in the set) is an earlier process whose
// pages this one may still share copy-on-write: those are written as PAGES_FROM.
// `dumped_shm` lists the ranges of shmem objects whose pages are written already.
struct ShmSaved {
  uint64_t dev, ino, lo, hi;  // object offsets [lo, hi)
};
Err dump_pages(int pid, int parent, const ProcMem &mem, Vec<VmaRec> &vmas, Vec<ShmSaved> &dumped_shm, ImageWriter &w);
// VMA files are opened by the child at fds first_slot + i (i: index among distinct files).
int count_vma_files(const Vec<VmaRec> &vmas);
// (*slots)[i]: the slot of mapping i's file, -1 for a mapping of no file; *count:
// the number of distinct files. Returns the number of mapping comparisons made,
// linear in the number of mappings (src/vma_slots.cpp).
size_t assign_file_slots(const Vec<VmaRec> &vmas, Vec<int> *slots, int *count);
// A private mapping's file must be unchanged (size, mtime, inode) unless allow_changed.
// Mapped memfds come from their restored descriptions (desc_fds), not by path.
Err open_vma_files_child(const Vec<VmaRec> &vmas, int first_slot, const SetImage &set, const Vec<int> &desc_fds,
                         bool allow_changed);
// The restorer's gadget page: a free spot outside every mapping of the image
// and of rstrt, with room beyond it for a temporary vDSO move; and its layout.
Err pick_gadget_address(const Vec<VmaRec> &vmas, uint64_t page, uint64_t *addr);
Gadget gadget_at(uint64_t addr, uint64_t page);
// `earlier` are the processes restored before this one (shared memory owners).
Err restore_layout(Remote &rc, int pid, const Vec<VmaRec> &vmas, int first_slot, const SetImage &set, size_t self);
// Reads PAGES/PAGES_FROM records (the current one, whose header `type`/`len` was
// just read) until another record type comes; leaves that one's header in type/len.
// mem == nullptr only checks the records.
// PAGES_FROM may name only `sources`: processes of the image restored before;
// in an inherited mapping only `parent`. The records of premapped mappings
// (inherited or forked) come first and are written where they are premapped;
// when they are all in, fork->reached() (if fork) is called once, before the
// others, which need the layout, are read.
class ForkPoint {
 public:
  virtual Err reached() = 0;

 protected:
  ~ForkPoint() = default;
};
Err restore_pages(ImageReader &r, const ProcMem *mem, const Vec<VmaRec> &vmas, const Vec<int> &sources, int parent,
                  ForkPoint *fork, uint32_t *type, uint32_t *len);
// Inherited mappings (FORMAT.md). Dump: mark those of process pid that still
// share pages with the same mapping of its parent. Both sides: check that each
// has its parent's mapping and mark that one forked. Restore: where each
// premapped mapping is made before the fork (outside every mapping of the
// set, rstrt's and the gadgets'); and, in the new process, making its own.
Err mark_inherited(int pid, int parent, Vec<VmaRec> &vmas, Vec<VmaRec> &parent_vmas);
Err link_inherited(SetImage &set);
Err plan_premaps(SetImage &set, const Vec<uint64_t> &gadgets, uint64_t page);
Err premap_self(const Vec<VmaRec> &vmas);
