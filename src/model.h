// What a checkpoint holds for one process, in memory. Each kernel object's file
// (process.cpp, files.cpp, signals.cpp, threads.cpp, memory.cpp) dumps, encodes,
// decodes and restores its part.
#pragma once
#include <stdint.h>

#include "arch.h"
#include "base.h"
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
  bool zombie() const { return tids.empty(); }
};

// An open file description (struct file), shared by every fd that refers to it
// in any process of the set: dup(), fork() and SCM_RIGHTS share one; kcmp(2)
// KCMP_FILE tells. rstrt recreates each once and hands it to every fd.
enum class FileKind : uint8_t {
  Regular = 1, Directory = 2, CharDev = 3, Terminal = 4,
  Pipe = 5,        // one end of a pipe or FIFO; `ino` names the pipe
  UnixSocket = 6,  // one end of a unix socketpair; `ino` is its inode, `peer` the other end's
  Eventfd = 7,     // counter in `count`
  Memfd = 8,       // contents in `data`, seals in `count`; also made for memfds that are only mapped
};
struct FdescRec {  // Rec::Fdesc
  uint32_t id = 0;
  FileKind kind = FileKind::Regular;
  uint32_t flags = 0;  // open(2) status flags from fdinfo (access mode, O_APPEND, O_NONBLOCK...)
  uint64_t pos = 0;
  uint64_t dev = 0, ino = 0, size = 0, rdev = 0;
  int64_t mtime_ns = 0;
  uint32_t mode = 0;
  uint8_t pipe_write_end = 0;  // Pipe: 1 for the write end
  uint32_t pipe_size = 0;      // Pipe: F_GETPIPE_SZ
  uint32_t sock_type = 0;      // UnixSocket: SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
  uint64_t peer = 0;           // UnixSocket: inode of the other end (0: closed)
  uint64_t count = 0;          // Eventfd: the counter; Memfd: F_GET_SEALS
  Str path;                    // absolute path, or the link text ("pipe:[123]", ...)
  // Queued data: a pipe's unread bytes (on one end only), a socket's receive queue
  // (stream: bytes; datagram/seqpacket: u32 length + bytes per message).
  Str data;
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

// struct sigaction as the rt_sigaction syscall takes it on x86_64, aarch64 and
// ppc64 (include/linux/signal_types.h: handler, flags, restorer, mask).
struct KSigaction {
  uint64_t handler = 0, flags = 0, restorer = 0, mask = 0;
};
constexpr int kNrSignals = 64;
struct SigactsRec {
  KSigaction act[kNrSignals];  // act[i] is signal i+1
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
  uint64_t saved_bytes = 0;  // filled by the dumper / info
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
bool decode_process(const uint8_t *p, size_t n, ProcessRec *r);
size_t encode_file(const FileRec &r, uint8_t *buf, size_t cap);
bool decode_file(const uint8_t *p, size_t n, FileRec *r);
size_t encode_fdesc(const FdescRec &r, uint8_t *buf, size_t cap);
bool decode_fdesc(const uint8_t *p, size_t n, FdescRec *r);
size_t encode_tree(const Vec<TreeEntry> &t, uint8_t *buf, size_t cap);
bool decode_tree(const uint8_t *p, size_t n, Vec<TreeEntry> *t);
size_t encode_rlimits(const RlimitsRec &r, uint8_t *buf, size_t cap);
bool decode_rlimits(const uint8_t *p, size_t n, RlimitsRec *r);
size_t encode_sigacts(const SigactsRec &r, uint8_t *buf, size_t cap);
bool decode_sigacts(const uint8_t *p, size_t n, SigactsRec *r);
size_t encode_siginfo(const SiginfoRec &r, uint8_t *buf, size_t cap);
bool decode_siginfo(const uint8_t *p, size_t n, SiginfoRec *r);
size_t encode_mm(const MmRec &r, uint8_t *buf, size_t cap);
bool decode_mm(const uint8_t *p, size_t n, MmRec *r);
size_t encode_thread(const ThreadRec &r, uint8_t *buf, size_t cap);
bool decode_thread(const uint8_t *p, size_t n, ThreadRec *r);
size_t encode_vma(const VmaRec &r, uint8_t *buf, size_t cap);
bool decode_vma(const uint8_t *p, size_t n, VmaRec *r);
