// What a checkpoint holds, in memory: the records of docs/FORMAT.md as structs,
// and their encoders and decoders (records.cpp). Each kernel object's file
// dumps and restores its part: process.cpp, files.cpp and src/fd/ (fds and open
// file descriptions, fdesc.h), signals.cpp, threads.cpp, memory.cpp, tree.cpp.
#pragma once
#include <stdint.h>

#include "arch_api.h"
#include "base.h"
#include "fdesc.h"
#include "procattr.h"

struct ProcessRec {  // Rec::Process
  int32_t pid = 0, ppid = 0, pgid = 0, sid = 0;
  uint32_t umask = 0;
  uint32_t uid = 0, gid = 0;
  uint32_t nr_threads = 1;
  uint64_t tty_nr = 0;  // controlling terminal device number, 0 if none
  Str comm, cwd, exe;
  Str cmdline;  // NUL-separated arguments as in /proc/PID/cmdline
};

// One process of the checkpointed set, as listed in the TREE record. TREE order
// puts every process after its parent, so restore can clone top down.
struct TreeEntry {
  int32_t pid = 0, ppid = 0, pgid = 0, sid = 0;
  Vec<int32_t> tids;        // tids[0] == pid; none for a zombie
  int32_t wait_status = 0;  // a zombie's status, as waitpid(2) will report it
  Str comm;                 // a zombie's name (format 2.1; empty in older images)
  bool zombie() const { return tids.empty(); }
};

struct FileRec {  // Rec::File: one fd of one process
  int32_t fd = -1;
  uint32_t fd_flags = 0;  // FD_CLOEXEC
  uint32_t desc = 0;      // FdescRec::id
};

constexpr int kNrRlimits = 16;  // RLIM_NLIMITS (include/uapi/asm-generic/resource.h)
struct RlimitsRec {
  uint64_t cur[kNrRlimits] = {}, max[kNrRlimits] = {};
};

// Signal dispositions in the image's fixed form (ImageSigaction, src/arch_api.h);
// the kernel's struct sigaction is arch::KSigaction.
constexpr int kNrSignals = 64;
struct SigactsRec {
  ImageSigaction act[kNrSignals];  // act[i] is signal i+1
};

// Fields of struct prctl_mm_map (include/uapi/linux/prctl.h) plus the auxv.
struct MmRec {
  uint64_t start_code = 0, end_code = 0, start_data = 0, end_data = 0;
  uint64_t start_brk = 0, brk = 0, start_stack = 0;
  uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
  uint32_t auxv_len = 0;
  uint8_t auxv[1024] = {};
};

struct RegsetBlob {
  uint32_t nt = 0;
  uint32_t len = 0;
  uint8_t *data = nullptr;  // malloc'd
};

struct ThreadRec {  // Rec::Thread
  int32_t tid = 0;
  uint64_t sigmask = 0;
  uint64_t altstack_sp = 0, altstack_size = 0;
  uint32_t altstack_flags = 0;
  uint64_t rseq_ptr = 0;
  uint32_t rseq_len = 0, rseq_sig = 0;
  uint64_t tid_address = 0;                // set_tid_address(2): cleared and woken at exit
  uint64_t robust_list = 0, robust_len = 0;  // set_robust_list(2)
  arch::Regs regs = {};
  RegsetBlob extra[sizeof arch::kExtraRegsets / sizeof arch::kExtraRegsets[0]];
  ThreadRec() = default;
  ThreadRec(ThreadRec &&o) noexcept { *this = std::move(o); }
  ThreadRec &operator=(ThreadRec &&o) noexcept;
  ~ThreadRec();
};

struct SiginfoRec {  // Rec::Siginfo: one queued signal, raw siginfo_t (128 bytes)
  int32_t tid = 0;   // 0: the process-wide (shared) queue
  uint8_t info[128] = {};
};
inline int siginfo_signo(const SiginfoRec &s) { return (int)(s.info[0] | s.info[1] << 8); }

enum class VmaKind : uint8_t { Anon = 1, File = 2, SharedAnon = 3, Vdso = 4, Vvar = 5 };
struct VmaRec {  // Rec::Vma
  uint64_t start = 0, end = 0, pgoff = 0;
  uint32_t prot = 0;     // PROT_*
  uint32_t vmflags = 0;  // VmFlag bits (procfs.h)
  VmaKind kind = VmaKind::Anon;
  bool shared = false;
  uint64_t dev = 0, ino = 0, size = 0;  // file identity when kind == File
  int64_t mtime_ns = 0;
  Str name;  // path, or "[heap]", "[stack]", "[vdso]", ...
  // Format 2.1: the parent's mapping of the same range, inherited at fork
  // and still sharing pages copy-on-write (docs/FORMAT.md, "Inherited mappings").
  bool inherited = false;
  uint64_t saved_bytes = 0;  // filled by the dumper / info
  // Not in the image, derived from it (link_inherited): a child inherits
  // this mapping; and at restore where it is made before the fork (0: not).
  bool forked = false;
  uint64_t premap = 0;
  bool premapped() const { return inherited || forked; }
};

// Everything about one process except its page contents, which stream separately.
struct ProcImage {
  ProcessRec proc;
  Vec<FileRec> files;
  RlimitsRec rlimits;
  SigactsRec sigacts;
  MmRec mm;
  Vec<ThreadRec> threads;
  Vec<SiginfoRec> pending;
  Vec<VmaRec> vmas;
  ProcAttrs attrs;  // procattr.h
};

// The checkpointed set: every process (TREE order) and the file descriptions
// they share.
struct SetImage {
  Vec<TreeEntry> tree;
  Vec<FdescRec> fdescs;
  Vec<ProcImage> procs;
};

// Record encoders/decoders (payload only; framing is image.cpp's). Each returns
// the payload length (0 if it did not fit) or decodes with bounds checks.
size_t encode_process(const ProcessRec &r, uint8_t *buf, size_t cap);
bool decode_process(const uint8_t *p, size_t n, ProcessRec *r, bool newer = false);
size_t encode_file(const FileRec &r, uint8_t *buf, size_t cap);
bool decode_file(const uint8_t *p, size_t n, FileRec *r, bool newer = false);
size_t encode_fdesc(const FdescRec &r, uint8_t *buf, size_t cap);
bool decode_fdesc(const uint8_t *p, size_t n, FdescRec *r, bool newer = false);
// The kind table's verdict on a decoded description (files.cpp).
bool fdesc_valid(const FdescRec &f);
size_t encode_tree(const Vec<TreeEntry> &t, uint8_t *buf, size_t cap);
bool decode_tree(const uint8_t *p, size_t n, Vec<TreeEntry> *t, bool newer = false);
size_t encode_rlimits(const RlimitsRec &r, uint8_t *buf, size_t cap);
bool decode_rlimits(const uint8_t *p, size_t n, RlimitsRec *r, bool newer = false);
size_t encode_sigacts(const SigactsRec &r, uint8_t *buf, size_t cap);
bool decode_sigacts(const uint8_t *p, size_t n, SigactsRec *r, bool newer = false);
size_t encode_siginfo(const SiginfoRec &r, uint8_t *buf, size_t cap);
bool decode_siginfo(const uint8_t *p, size_t n, SiginfoRec *r, bool newer = false);
size_t encode_mm(const MmRec &r, uint8_t *buf, size_t cap);
bool decode_mm(const uint8_t *p, size_t n, MmRec *r, bool newer = false);
size_t encode_thread(const ThreadRec &r, uint8_t *buf, size_t cap);
bool decode_thread(const uint8_t *p, size_t n, ThreadRec *r, bool newer = false);
size_t encode_vma(const VmaRec &r, uint8_t *buf, size_t cap);
bool decode_vma(const uint8_t *p, size_t n, VmaRec *r, bool newer = false);
