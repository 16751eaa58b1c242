// The address space: mappings from /proc/PID/smaps, page contents chosen with
// /proc/PID/pagemap (Documentation/admin-guide/mm/pagemap.rst), and at restore
// the rebuild of the layout by syscalls injected into the new process.
//
// What is saved per mapping:
//   private anonymous (heap, stack, ...)  pages present or swapped, except all-zero pages
//   private file-backed                   pages that differ from the file (anonymous copies)
//   shared anonymous                      the data ranges of its shmem object
//   shared file-backed, vDSO, vvar        nothing (by reference / by the kernel)
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "codec.h"
#include "crc32c.h"
#include "lz4.h"
#include "process.h"
#include "procfs.h"
#include "remote.h"
#include "pagecopy.h"
#include "tree.h"

namespace {
constexpr uint64_t kPmPresent = 1ull << 63, kPmSwapped = 1ull << 62, kPmFilePage = 1ull << 61;

uint64_t page_size() { return (uint64_t)sysconf(_SC_PAGESIZE); }
bool separate_anon(const VmaRec &v);

// The gadget page: the syscall instruction at its start, scratch after it,
// and beyond the page a free gigabyte (kept free by pick_gadget_address) that
// the vDSO may be moved through when its old and new places overlap.
constexpr uint64_t kGadgetInsnArea = 256, kParkOffset = 1ull << 30;


// ---- dump: mappings ---------------------------------------------------------

// Through /proc/PID/map_files, which needs CAP_CHECKPOINT_RESTORE (or
// CAP_SYS_ADMIN): without it (a user checkpointing their own process) the file
// is looked up by its path, which must still lead to the mapped inode.
Err file_identity(int pid, const MapsLine &m, VmaRec *v) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)v->start,
           (unsigned long long)v->end);
  struct stat st;
  bool by_map_files = stat(path, &st) == 0;
  if (!by_map_files && errno != EPERM) return sys_err("mapping %s", v->name.c());
  if (!by_map_files && (stat(v->name.c(), &st) < 0 || st.st_ino != m.inode))
    return errf("mapping %s: the path no longer leads to the mapped file", v->name.c());
  v->dev = st.st_dev;
  v->ino = st.st_ino;
  v->size = st.st_size;
  v->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  return ok();
}

// Kind of mapping from its maps line; false for mappings that are not saved ([vsyscall]).
Err classify(int pid, const MapsLine &m, VmaRec *v, bool *keep) {
  *keep = true;
  const char *p = m.path;
  v->shared = m.shared;
  if (strcmp(p, "[vsyscall]") == 0) { *keep = false; return ok(); }
  if (strcmp(p, "[vdso]") == 0) { v->kind = VmaKind::Vdso; return ok(); }
  if (starts_with(p, "[vvar")) { v->kind = VmaKind::Vvar; return ok(); }
  if (m.shared && (starts_with(p, "/dev/zero") || starts_with(p, "/SYSV") || p[0] == 0)) {
    v->kind = VmaKind::SharedAnon;  // its shmem object's identity tells who shares it
    v->dev = makedev(m.dev_major, m.dev_minor);
    v->ino = m.inode;
    // The object's size: mappings may show only parts of it (mremap).
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)m.start,
             (unsigned long long)m.end);
    struct stat st;
    v->size = stat(path, &st) == 0 ? (uint64_t)st.st_size : m.offset + (m.end - m.start);
    return ok();
  }
  if (p[0] != '/' || m.inode == 0) { v->kind = VmaKind::Anon; return ok(); }
  v->kind = VmaKind::File;
  return file_identity(pid, m, v);
}

Err begin_vma(int pid, char *line, Vec<VmaRec> *out, bool *keep) {
  MapsLine m;
  if (!parse_maps_line(line, &m)) return errf("cannot parse smaps line: %s", line);
  VmaRec v;
  v.start = m.start;
  v.end = m.end;
  v.pgoff = m.offset;
  v.prot = (m.r ? PROT_READ : 0) | (m.w ? PROT_WRITE : 0) | (m.x ? PROT_EXEC : 0);
  v.name = Str(m.path);
  TRY(classify(pid, m, &v, keep));
  if (*keep) out->push(std::move(v));
  return ok();
}

// ---- dump: pages ------------------------------------------------------------

bool page_wanted(const VmaRec &v, uint64_t pm) {
  if (!(pm & (kPmPresent | kPmSwapped))) return false;
  if (v.kind == VmaKind::Anon) return true;
  return v.kind == VmaKind::File && !v.shared && !(pm & kPmFilePage);  // a private copy of a file page
}

bool all_zero(const uint8_t *p, size_t n) {
  const uint64_t *w = reinterpret_cast<const uint64_t *>(p);
  for (size_t i = 0; i < n / 8; i++)
    if (w[i]) return false;
  return true;
}

// At most this many pages per run (kMaxPagesBytes of the smallest page size).
constexpr uint64_t kMaxRunPages = kMaxPagesBytes / 4096;

// What the helper says about a request: its outcome and, for a read, which
// pages are all zero and the CRC32C of each (the dump's checksums are then
// computed on the CPU that read the data, while it is in its cache).
struct MoverReply {
  Err err;
  uint64_t zero_mask;  // bit i: page i is all zero
  uint32_t crc[kMaxRunPages];
};

// A helper process that moves page data between slots of a shared buffer and
// the target's memory (through the caller's ProcMem, whose /proc/PID/mem fd it
// inherits), while this process does the image I/O: the two copies of every
// page run on two CPUs at once. Requests are done in order, one reply each. It only gets accesses the mapping's
// protection allows without FOLL_FORCE (the kernel may force only for the
// tracer: CONFIG_PROC_MEM_FORCE_PTRACE); it dies with this process
// (PR_SET_PDEATHSIG) and is reaped before the caller returns, so its PID is
// free again before rstrt creates the threads.
class Mover {
 public:
  static constexpr int kSlots = 3;
  Mover(const ProcMem &mem, uint64_t slot_bytes) : mem_(mem), slot_bytes_(slot_bytes) {}
  Mover(const Mover &) = delete;
  ~Mover() { stop(); }
  // Start the helper (false: it could not be, the caller copies by itself).
  bool start() {
    if (pid_ > 0) return true;
    void *a = mmap(nullptr, kSlots * slot_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) return false;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) { munmap(a, kSlots * slot_bytes_); return false; }
    area_ = static_cast<uint8_t *>(a);
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
      close(sv[0]);
      serve(sv[1], parent);
    }
    close(sv[1]);
    if (pid < 0) { close(sv[0]); munmap(a, kSlots * slot_bytes_); area_ = nullptr; return false; }
    sock_ = sv[0];
    pid_ = pid;
    return true;
  }
  bool running() const { return pid_ > 0; }
  uint8_t *slot(int k) const { return area_ + k * slot_bytes_; }
  Err submit(bool write, uint64_t addr, uint64_t len, int k) {
    Req q = {write, (uint32_t)k, addr, len};
    if (send(sock_, &q, sizeof q, MSG_NOSIGNAL) != (ssize_t)sizeof q) return sys_err("page copy helper");
    return ok();
  }
  // The outcome of the oldest request not yet waited for.
  Err wait(MoverReply *out = nullptr) {
    MoverReply rep;
    MoverReply &e = out ? *out : rep;
    for (;;) {
      ssize_t r = recv(sock_, &e, sizeof e, 0);
      if (r == (ssize_t)sizeof e) return e.err;
      if (r < 0 && errno == EINTR && !abort_requested) continue;
      if (r < 0 && errno == EINTR) return check_abort();
      return r < 0 ? sys_err("page copy helper") : errf("page copy helper: died");
    }
  }
  void stop() {
    if (pid_ <= 0) return;
    close(sock_);  // end of requests: it exits
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
    munmap(area_, kSlots * slot_bytes_);
    pid_ = -1;
  }

 private:
  struct Req {
    uint32_t write, slot;
    uint64_t addr, len;
  };
  [[noreturn]] void serve(int s, pid_t parent) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, nullptr);  // the caller's handlers are not for it
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    Req q;
    MoverReply rep;
    while (recv(s, &q, sizeof q, 0) == (ssize_t)sizeof q) {
      rep.err = q.slot < kSlots && q.len <= slot_bytes_ ? do_request(q, &rep) : errf("internal: bad page copy request");
      if (send(s, &rep, sizeof rep, MSG_NOSIGNAL) != (ssize_t)sizeof rep) break;
    }
    _exit(0);
  }
  Err do_request(const Req &q, MoverReply *rep) {
    uint8_t *p = slot(q.slot);
    if (q.write) return mem_.write(q.addr, p, q.len);
    TRY(mem_.read(q.addr, p, q.len));
    const uint64_t ps = page_size(), n = q.len / ps;
    rep->zero_mask = 0;
    for (uint64_t i = 0; i < n && i < kMaxRunPages; i++) {
      rep->zero_mask |= (uint64_t)all_zero(p + i * ps, ps) << i;
      rep->crc[i] = crc32c(0, p + i * ps, ps);  // zero pages of file mappings are kept
    }
    return ok();
  }
  const ProcMem &mem_;
  uint64_t slot_bytes_;
  uint8_t *area_ = nullptr;
  int sock_ = -1;
  pid_t pid_ = -1;
};

// Writer of PAGES records out of one buffer of kMaxPagesBytes: page data is
// read straight into it (reserve), and consecutive pages already there become
// one record (add); an all-zero page or a gap ends the record (flush). The data
// is never copied in the dumper's memory, which stays bounded.
class PageRun {
 public:
  // zbuf: with --compress, cap bytes for a frame, then the compressor's
  // table (kLz4TableEntries), else null.
  PageRun(ImageWriter &w, uint8_t *buf, uint64_t cap, const Crc32cShift &page_shift, uint8_t *zbuf)
      : w_(w), buf_(buf), cap_(cap), page_shift_(page_shift), zbuf_(zbuf) {}
  // Where the data of `pages` pages at addr goes: after the pending record if
  // they continue it and fit, else at the start (the pending record is written
  // first; see pending_error).
  uint8_t *reserve(uint64_t addr, uint64_t pages, uint64_t ps) {
    if (!n_) return buf_;
    uint8_t *end = data_ + n_ * ps;
    if (addr == start_ + n_ * ps && end + pages * ps <= buf_ + cap_) return end;
    flushed_ = flush(ps);
    return buf_;
  }
  // The page at addr, whose data is at p, joins the pending record if it
  // follows it in the address space and in memory, and there is room; else it
  // starts the next one.
  // page_crc: crc32c(0, page) if known (the record's checksum is then joined
  // from its pages' instead of computed over the data again), else null.
  Err add(uint64_t addr, uint8_t *p, uint64_t ps, const uint32_t *page_crc = nullptr) {
    if (n_ && (addr != start_ + n_ * ps || p != data_ + n_ * ps || (n_ + 1) * ps > cap_)) TRY(flush(ps));
    if (!n_) {
      start_ = addr;
      data_ = p;
      crc_known_ = page_crc != nullptr;
      data_crc_ = page_crc ? *page_crc : 0;
    } else if (crc_known_ && page_crc) {
      data_crc_ = page_shift_(data_crc_) ^ *page_crc;  // crc(A || B), |B| = ps: crc32c.h
    } else {
      crc_known_ = false;
    }
    n_++;
    return ok();
  }
  Err flush(uint64_t ps) {
    if (!n_) return ok();
    uint8_t hdr[kPagesHeadLen];
    encode_pages_head(PagesHead{start_, (uint32_t)n_, 0}, hdr);
    Err err = ok();
    // --compress: one LZ4 frame, if it saves at least 1/32 (else the data
    // is as good as incompressible and stays plain, for a faster restore)
    const uint64_t bytes = n_ * ps;
    size_t z = zbuf_ ? lz4_frame(data_, bytes, zbuf_, bytes - bytes / 32, ztable()) : 0;
    if (z) {
      err = w_.record2(Rec::PagesLz4, hdr, sizeof hdr, zbuf_, z);
    } else if (crc_known_) {  // crc(head || data) = shift^n(crc(head)) ^ crc(data), one shift per page
      uint32_t crc = ImageWriter::head_crc(Rec::Pages, hdr, sizeof hdr, n_ * ps);
      for (uint64_t i = 0; i < n_; i++) crc = page_shift_(crc);
      err = w_.record2_crc(Rec::Pages, hdr, sizeof hdr, data_, n_ * ps, crc ^ data_crc_);
    } else {
      err = w_.record2(Rec::Pages, hdr, sizeof hdr, data_, n_ * ps);
    }
    n_ = 0;
    return err;
  }
  Err pending_error() const { return flushed_; }

 private:
  ImageWriter &w_;
  uint8_t *buf_;
  uint64_t cap_;
  const Crc32cShift &page_shift_;
  uint8_t *zbuf_;
  uint32_t *ztable() { return reinterpret_cast<uint32_t *>(zbuf_ + cap_); }
  uint8_t *data_ = nullptr;
  uint64_t start_ = 0, n_ = 0;
  bool crc_known_ = false;
  uint32_t data_crc_ = 0;
  Err flushed_ = ok();
};

// Target memory is read through /proc/PID/mem, not process_vm_readv: the latter
// pins the pages (FOLL_PIN), and since the GUP copy-on-write fixes (Linux 5.17,
// mm/gup.c gup_must_unshare) pinning a shared anonymous page unshares it, so a
// checkpoint would silently copy every page a process still shares with its
// parent or children. /proc/PID/mem reads with plain GUP and keeps sharing as it
// is (it also reads protected pages, as ptrace does).
// The run [addr, addr + n pages) of wanted pages, read to data, into PAGES
// records: all-zero anonymous pages are left out (they come back as fresh zero
// pages), splitting the record there. rep: what the helper found when it read
// them (which are zero, their checksums).
Err keep_pages(VmaRec &v, uint64_t addr, uint64_t n, uint8_t *data, PageRun &run, const MoverReply *rep = nullptr) {
  const uint64_t ps = page_size();
  for (uint64_t i = 0; i < n; i++) {
    uint8_t *src = data + i * ps;
    bool zero = rep ? rep->zero_mask >> i & 1 : all_zero(src, ps);
    if (v.kind == VmaKind::Anon && zero && !v.inherited) {  // inherited: the parent's page may not be zero
      TRY(run.flush(ps));
      continue;
    }
    TRY(run.add(addr + i * ps, src, ps, rep ? &rep->crc[i] : nullptr));
    v.saved_bytes += ps;
  }
  return ok();
}

// The same with one read straight into the record buffer.
Err dump_run(const ProcMem &mem, VmaRec &v, uint64_t addr, uint64_t n, PageRun &run) {
  const uint64_t ps = page_size();
  uint8_t *dst = run.reserve(addr, n, ps);
  TRY(run.pending_error());
  TRY(mem.read(addr, dst, n * ps));
  return keep_pages(v, addr, n, dst, run);
}

// The helper is a fork: it pays for itself only once a process has this much
// page data (small processes never start it).
constexpr uint64_t kHelperAfterBytes = 8u << 20;

// Whether this run of `bytes` in v goes through the helper: only where it may
// access without force (prot), once `*seen` (bytes so far) passed the threshold.
bool use_helper(Mover &m, const VmaRec &v, int prot, uint64_t bytes, uint64_t *seen) {
  if (!kPageCopyHelper || !(v.prot & prot)) return false;
  if (m.running()) return true;
  *seen += bytes;
  return *seen >= kHelperAfterBytes && m.start();
}

// The dump's page reads: through the Mover, up to kSlots runs ahead of the
// records being written, or one by one into the record buffer (small or
// unreadable mappings, or no helper).
class ReadAhead {
 public:
  ReadAhead(const ProcMem &mem, PageRun &run, uint64_t cap) : mem_(mem), run_(run), mover_(mem, cap) {}
  Err queue(VmaRec &v, uint64_t addr, uint64_t n) {
    if (!use_helper(mover_, v, PROT_READ, n * page_size(), &seen_)) {
      TRY(drain());
      return dump_run(mem_, v, addr, n, run_);
    }
    if (inflight_ == Mover::kSlots) TRY(complete());
    int k = (first_ + inflight_) % Mover::kSlots;
    q_[k] = Queued{&v, addr, n};
    TRY(mover_.submit(false, addr, n * page_size(), k));
    inflight_++;
    return ok();
  }
  Err drain() {
    while (inflight_) TRY(complete());
    return ok();
  }

 private:
  struct Queued {
    VmaRec *v;
    uint64_t addr, n;
  };
  // The oldest read: into records, which are written before its slot is reused.
  Err complete() {
    int k = first_;
    first_ = (first_ + 1) % Mover::kSlots;
    inflight_--;
    MoverReply rep;
    TRY(mover_.wait(&rep));
    TRY(keep_pages(*q_[k].v, q_[k].addr, q_[k].n, mover_.slot(k), run_, &rep));
    return run_.flush(page_size());
  }
  const ProcMem &mem_;
  PageRun &run_;
  Mover mover_;
  Queued q_[Mover::kSlots];
  int first_ = 0, inflight_ = 0;
  uint64_t seen_ = 0;
};

// Runs of pages still shared copy-on-write with the parent, as PAGES_FROM
// records: the parent's copy is in the image already.
class FromRun {
 public:
  FromRun(ImageWriter &w, int parent) : w_(w), parent_(parent) {}
  Err add(uint64_t addr, uint64_t ps) {
    if (n_ && addr != start_ + n_ * ps) TRY(flush());
    if (!n_) start_ = addr;
    n_++;
    return ok();
  }
  Err flush() {
    if (!n_) return ok();
    uint8_t hdr[kPagesHeadLen];
    encode_pages_head(PagesHead{start_, (uint32_t)n_, (uint32_t)parent_}, hdr);
    n_ = 0;
    return w_.record(Rec::PagesFrom, hdr, sizeof hdr);
  }

 private:
  ImageWriter &w_;
  int parent_;
  uint64_t start_ = 0, n_ = 0;
};

// Same physical page in parent and child: still shared since fork (pagemap
// bits 0-54 hold the frame number; visible to CAP_SYS_ADMIN).
bool shared_with_parent(uint64_t pm, uint64_t parent_pm) {
  const uint64_t pfn = (1ull << 55) - 1;
  return (pm & kPmPresent) && (parent_pm & kPmPresent) && (pm & pfn) && (pm & pfn) == (parent_pm & pfn);
}

struct PageScan {
  int pid, pagemap, parent_pagemap;  // parent_pagemap < 0: no parent in the set
  ReadAhead &pages;
  FromRun &from;
};

Err dump_vma_pages(PageScan &sc, VmaRec &v) {
  const uint64_t ps = page_size(), max_run = kMaxPagesBytes / ps ? kMaxPagesBytes / ps : 1;
  uint64_t pm[512], ppm[512];
  for (uint64_t a = v.start; a < v.end;) {
    TRY(check_abort());
    uint64_t n = (v.end - a) / ps < 512 ? (v.end - a) / ps : 512;
    if (pread(sc.pagemap, pm, n * 8, (off_t)(a / ps * 8)) != (ssize_t)(n * 8)) return sys_err("reading pagemap");
    memset(ppm, 0, sizeof ppm);
    if (sc.parent_pagemap >= 0) (void)pread(sc.parent_pagemap, ppm, n * 8, (off_t)(a / ps * 8));
    for (uint64_t i = 0; i < n;) {
      if (!page_wanted(v, pm[i])) { i++; continue; }
      if (shared_with_parent(pm[i], ppm[i])) { TRY(sc.from.add(a + i * ps, ps)); i++; continue; }
      uint64_t j = i + 1;
      while (j < n && j - i < max_run && page_wanted(v, pm[j]) && !shared_with_parent(pm[j], ppm[j])) j++;
      TRY(sc.pages.queue(v, a + i * ps, j - i));
      i = j;
    }
    a += n * ps;
  }
  TRY(sc.pages.drain());
  return sc.from.flush();
}

// Whether child mapping c may come back as the parent's p inherited at fork
// (FORMAT.md, "Inherited mappings"): private anonymous memory of the same
// range, protection and accounting, made apart (separate_anon: not the heap,
// which brk grows in place, nor a stack). Both sides use this one test.
bool can_inherit(const VmaRec &c, const VmaRec &p) {
  return c.kind == VmaKind::Anon && p.kind == VmaKind::Anon && !c.shared && !p.shared && separate_anon(c) &&
         separate_anon(p) && c.start == p.start && c.end == p.end && c.prot == p.prot &&
         (c.vmflags & kVmAccount) == (p.vmflags & kVmAccount);
}

// c is inherited if it still shares a page with p (same frame) and has a page
// (its own, or the shared one) wherever p has one: at restore the child starts
// with the parent's pages, and only its own are written over them.
Err inherits(int pagemap, int parent_pagemap, const VmaRec &c, bool *out) {
  const uint64_t ps = page_size();
  uint64_t pm[512], ppm[512];
  bool shares = false;
  for (uint64_t a = c.start; a < c.end;) {
    uint64_t n = (c.end - a) / ps < 512 ? (c.end - a) / ps : 512;
    if (pread(pagemap, pm, n * 8, (off_t)(a / ps * 8)) != (ssize_t)(n * 8) ||
        pread(parent_pagemap, ppm, n * 8, (off_t)(a / ps * 8)) != (ssize_t)(n * 8))
      return sys_err("reading pagemap");
    for (uint64_t i = 0; i < n; i++) {
      if (page_wanted(c, ppm[i]) && !page_wanted(c, pm[i])) { *out = false; return ok(); }
      shares |= shared_with_parent(pm[i], ppm[i]);
    }
    a += n * ps;
  }
  *out = shares;
  return ok();
}

// Shared anonymous memory lives in a shmem file: walk its data ranges
// (SEEK_DATA/SEEK_HOLE, so swapped-out pages count too) through map_files.
// The object's offsets [lo, hi), which v maps, as pages of v.
Err dump_shared_anon(int pid, VmaRec &v, PageRun &run, uint64_t lo, uint64_t hi) {
  const uint64_t ps = page_size();
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)v.start,
           (unsigned long long)v.end);
  Fd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return sys_err("shared memory at 0x%llx", (unsigned long long)v.start);
  const uint64_t base = v.pgoff;
  for (off_t off = (off_t)lo; (uint64_t)off < hi;) {
    off_t data = lseek(fd.get(), off, SEEK_DATA);
    if (data < 0 || (uint64_t)data >= hi) break;
    off_t hole = lseek(fd.get(), data, SEEK_HOLE);
    if (hole < 0 || (uint64_t)hole > hi) hole = (off_t)hi;
    for (off_t o = data & ~(off_t)(ps - 1); o < hole; o += ps) {
      uint64_t addr = v.start + (o - base);
      uint8_t *dst = run.reserve(addr, 1, ps);
      TRY(run.pending_error());
      if (pread(fd.get(), dst, ps, o) != (ssize_t)ps) return sys_err("reading shared memory");
      TRY(run.add(addr, dst, ps));
      v.saved_bytes += ps;
    }
    off = hole;
  }
  return ok();
}

// ---- restore ----------------------------------------------------------------

struct Range {
  uint64_t start, end;
  bool special;  // vdso/vvar: moved, not unmapped
  Str name;
};

Err read_child_maps(int pid, Vec<Range> *out) {
  Fd fd;
  TRY(open_proc(pid, "maps", &fd));
  LineReader lr(fd.get());
  while (char *line = lr.next()) {
    MapsLine m;
    if (!parse_maps_line(line, &m)) return errf("cannot parse /proc/%d/maps", pid);
    bool special = strcmp(m.path, "[vdso]") == 0 || starts_with(m.path, "[vvar");
    if (strcmp(m.path, "[vsyscall]") == 0) continue;
    out->push(Range{m.start, m.end, special, Str(m.path)});
  }
  return lr.error() ? errf("reading /proc/%d/maps", pid) : ok();
}

bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1) { return a0 < b1 && b0 < a1; }

// The image's vdso/vvar block and the live one must match in names and sizes:
// the kernel's special mappings are moved, never rebuilt (same kernel only).
Err match_special(const Vec<Range> &live, const Vec<VmaRec> &vmas, Vec<uint64_t> *dest) {
  size_t k = 0;
  for (auto &r : live) {
    if (!r.special) continue;
    while (k < vmas.size() && vmas[k].kind != VmaKind::Vdso && vmas[k].kind != VmaKind::Vvar) k++;
    if (k == vmas.size() || strcmp(vmas[k].name.c(), r.name.c()) != 0 ||
        vmas[k].end - vmas[k].start != r.end - r.start)
      return errf("the vDSO of this kernel differs from the image's (%s): restoring on another kernel is not supported yet",
                  r.name.c());
    dest->push(vmas[k].start);
    k++;
  }
  while (k < vmas.size() && vmas[k].kind != VmaKind::Vdso && vmas[k].kind != VmaKind::Vvar) k++;
  if (k != vmas.size()) return errf("the image has a vDSO mapping this kernel lacks (%s)", vmas[k].name.c());
  return ok();
}

Err inject_mremap(Remote &t, uint64_t from, uint64_t len, uint64_t to) {
  int64_t r;
  TRY(t.call(SYS_mremap, &r, from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to));
  if (r != (int64_t)to) return errf("moving memory to 0x%llx: %s", (unsigned long long)to, strerror((int)-r));
  return ok();
}

// Move the live vdso/vvar block to where the image had it. If the two places
// overlap, go through a free spot first (mremap refuses overlapping moves).
Err move_special(Remote &t, const Vec<Range> &live, const Vec<uint64_t> &dest) {
  uint64_t lo = UINT64_MAX, hi = 0, dlo = UINT64_MAX;
  size_t k = 0;
  for (auto &r : live) {
    if (!r.special) continue;
    lo = r.start < lo ? r.start : lo;
    hi = r.end > hi ? r.end : hi;
    dlo = dest[k] < dlo ? dest[k] : dlo;
    k++;
  }
  const uint64_t temp = t.gadget().park;
  const bool via_temp = k && overlaps(lo, hi, dlo, dlo + (hi - lo));
  k = 0;
  for (auto &r : live) {
    if (!r.special) continue;
    uint64_t from = r.start, len = r.end - r.start;
    if (via_temp) {
      TRY(inject_mremap(t, from, len, temp + (r.start - lo)));
      from = temp + (r.start - lo);
    }
    TRY(inject_mremap(t, from, len, dest[k++]));
  }
  return ok();
}

// VM_ACCOUNT must come out as it was, or neighbouring mappings merge where they
// did not (mm/vma.c only merges equal vm_flags): a private mapping that was ever
// writable keeps it after mprotect (e.g. a library's RELRO segment), so such a
// read-only mapping is created writable first; a writable one without it was
// mapped MAP_NORESERVE.
// Two neighbouring private anonymous mappings the kernel kept apart (one was
// moved with mremap, so their page offsets do not follow on) would merge
// into one if simply mapped side by side again (mm/vma.c merges equal flags
// and consecutive offsets). Made elsewhere and moved into place, each keeps
// an offset of its own, as apart as they were. Not the heap (brk grows it in
// place) nor a stack (it grows down in place).
bool separate_anon(const VmaRec &v) {
  return v.kind == VmaKind::Anon && !v.shared && !(v.vmflags & (kVmGrowsDown | kVmDroppable)) && !(v.name == "[heap]");
}

Err map_apart(Remote &t, const VmaRec &v, uint32_t prot, int flags, int64_t *out) {
  const uint64_t len = v.end - v.start;
  int64_t tmp;
  // A page past the park, so that its first page is no huge page's start:
  // the byte written below then costs a page, not a THP (enabled=always).
  TRY(t.call(SYS_mmap, &tmp, t.gadget().park + page_size(), len, prot, flags, (uint64_t)-1, 0));
  if (tmp < 0) { *out = tmp; return ok(); }
  if ((uint64_t)tmp < v.end && v.start < (uint64_t)tmp + len) {  // it landed on its own place: keep it there
    *out = (uint64_t)tmp == v.start ? tmp : -EEXIST;
    return ok();
  }
  // A mapping never faulted in takes the offset of where it is moved to
  // (mm/vma.c copy_vma): one page written first (through /proc/PID/mem,
  // whatever the protection) gives it an anon_vma and keeps its own.
  const uint8_t zero = 0;
  TRY(t.mem().write((uint64_t)tmp, &zero, 1));
  return t.call(SYS_mremap, out, (uint64_t)tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, v.start);
}

// The protection and flags v is made with (then mprotect()ed to v.prot).
void creation_args(const VmaRec &v, uint32_t *prot_out, int *flags_out) {
  int flags = MAP_FIXED | (v.shared ? MAP_SHARED : MAP_PRIVATE);
  if (v.kind != VmaKind::File) flags |= MAP_ANONYMOUS;
  if (v.vmflags & kVmGrowsDown) flags |= MAP_GROWSDOWN;
  uint32_t prot = v.prot;
  if (!v.shared && (v.vmflags & kVmAccount)) prot |= PROT_WRITE;
  if (!v.shared && (v.prot & PROT_WRITE) && !(v.vmflags & kVmAccount)) flags |= MAP_NORESERVE;
  if (v.vmflags & kVmDroppable) flags = (flags & ~(MAP_PRIVATE | MAP_SHARED)) | 0x08;  // MAP_DROPPABLE (a type of its own)
  *prot_out = prot;
  *flags_out = flags;
}

Err map_one(Remote &t, const VmaRec &v, int fd) {
  uint32_t prot;
  int flags;
  creation_args(v, &prot, &flags);
  int64_t r;
  if (separate_anon(v)) TRY(map_apart(t, v, prot, flags & ~MAP_FIXED, &r));
  else TRY(t.call(SYS_mmap, &r, v.start, v.end - v.start, prot, flags, v.kind == VmaKind::File ? fd : -1,
                  v.kind == VmaKind::File ? v.pgoff : 0));
  if (r != (int64_t)v.start)
    return errf("cannot map %s at 0x%llx: %s", v.name.empty() ? "anonymous memory" : v.name.c(),
                (unsigned long long)v.start, r < 0 ? strerror((int)-r) : "placed elsewhere");
  if (prot == v.prot) return ok();
  TRY(t.call(SYS_mprotect, &r, v.start, v.end - v.start, v.prot));
  if (r < 0) return errf("mprotect at 0x%llx: %s", (unsigned long long)v.start, strerror((int)-r));
  return ok();
}

// madvise(2) flags that shape later behaviour (fork, core dumps, THP, KSM,
// read-ahead), and mlock(2)/mlock2(2) (within the restored RLIMIT_MEMLOCK).
Err advise_one(Remote &t, const VmaRec &v) {
  static const struct { uint32_t flag; int advice; } table[] = {
      {kVmDontCopy, MADV_DONTFORK}, {kVmDontDump, MADV_DONTDUMP}, {kVmWipeOnFork, 18 /* MADV_WIPEONFORK */},
      {kVmHugePage, MADV_HUGEPAGE}, {kVmNoHugePage, MADV_NOHUGEPAGE}, {kVmSeqRead, MADV_SEQUENTIAL},
      {kVmRandRead, MADV_RANDOM},   {kVmMergeable, 12 /* MADV_MERGEABLE */}};
  for (auto &a : table) {
    if (!(v.vmflags & a.flag)) continue;
    int64_t r;
    TRY(t.call(SYS_madvise, &r, v.start, v.end - v.start, a.advice));
    if (r < 0) return errf("madvise(%d) at 0x%llx: %s", a.advice, (unsigned long long)v.start, strerror((int)-r));
  }
  if (v.vmflags & (kVmLocked | kVmLockOnFault)) {
    int64_t r;
    TRY(t.call(SYS_mlock2, &r, v.start, v.end - v.start, (v.vmflags & kVmLockOnFault) ? 1 /* MLOCK_ONFAULT */ : 0));
    if (r < 0) return errf("mlock at 0x%llx: %s (RLIMIT_MEMLOCK?)", (unsigned long long)v.start, strerror((int)-r));
  }
  return ok();
}

bool same_object(const VmaRec &a, const VmaRec &b) {
  return a.kind == VmaKind::SharedAnon && b.kind == VmaKind::SharedAnon && a.dev == b.dev && a.ino == b.ino;
}

// The first mapping of the same shmem object made before mapping i of process
// self (in an earlier process, or earlier in this one); *proc is its process.
const VmaRec *shm_owner(const SetImage &set, size_t self, size_t i, size_t *proc) {
  const VmaRec &v = set.procs[self].vmas[i];
  for (size_t p = 0; p <= self; p++)
    for (size_t j = 0; j < set.procs[p].vmas.size() && (p < self || j < i); j++)
      if (same_object(set.procs[p].vmas[j], v)) { *proc = p; return &set.procs[p].vmas[j]; }
  return nullptr;
}

// Shared anonymous memory already rebuilt in another process of the set: open
// its shmem object through /proc/OWNER/map_files (as the mapping's own file, so
// maps still says /dev/zero (deleted)) in the target, and map that.
Err map_shared_from(Remote &rc, const VmaRec &v, int opid, uint64_t owner_start, uint64_t owner_end) {
  char path[96];
  int n = snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", opid, (unsigned long long)owner_start,
                   (unsigned long long)owner_end);
  TRY(rc.put(0, path, (size_t)n + 1));
  int64_t fd, r;
  TRY(rc.call(SYS_openat, &fd, (uint64_t)AT_FDCWD, rc.at(0), (v.prot & PROT_WRITE) ? O_RDWR : O_RDONLY));
  if (fd < 0) return errf("opening shared memory of process %d: %s", opid, strerror((int)-fd));
  TRY(rc.call(SYS_mmap, &r, v.start, v.end - v.start, v.prot, MAP_SHARED | MAP_FIXED, (uint64_t)fd, v.pgoff));
  int64_t c;
  TRY(rc.call(SYS_close, &c, (uint64_t)fd));
  if (r != (int64_t)v.start) return errf("mapping shared memory at 0x%llx: %s", (unsigned long long)v.start, strerror((int)-r));
  return ok();
}

// The first mapping of a shmem object: a plain shared anonymous mapping when
// it maps the whole object from its start; otherwise the object is made whole
// somewhere the kernel picks (nothing is mapped there yet that the rest of
// the layout needs: that is mapped after), mapped from there, and let go.
Err make_shared_object(Remote &rc, int pid, const VmaRec &v) {
  const uint64_t len = v.end - v.start, ps = page_size();
  uint64_t size = v.size > v.pgoff + len ? v.size : v.pgoff + len;
  size = (size + ps - 1) / ps * ps;
  if (v.pgoff == 0 && size == len) return map_one(rc, v, -1);
  int64_t tmp, r;
  TRY(rc.call(SYS_mmap, &tmp, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, (uint64_t)-1, 0));
  if (tmp < 0) return errf("making shared memory of %llu bytes: %s", (unsigned long long)size, strerror((int)-tmp));
  Err e = map_shared_from(rc, v, pid, (uint64_t)tmp, (uint64_t)tmp + size);
  TRY(rc.call(SYS_munmap, &r, (uint64_t)tmp, size));
  return e;
}

// The mapping that holds all of [a, a + len) (a < v.end first: v.end - a must
// not wrap around for a range above the mapping).
const VmaRec *vma_of(const Vec<VmaRec> &vmas, uint64_t a, uint64_t len) {
  for (auto &v : vmas)
    if (a >= v.start && a < v.end && len <= v.end - a) return &v;
  return nullptr;
}
}  // namespace

Err dump_vmas(int pid, Vec<VmaRec> *out) {
  Fd fd;
  TRY(open_proc(pid, "smaps", &fd));
  LineReader lr(fd.get());
  bool keep = false;
  while (char *line = lr.next()) {
    if (is_maps_header(line)) {
      TRY(begin_vma(pid, line, out, &keep));
    } else if (keep && starts_with(line, "VmFlags:")) {
      VmaRec &v = out->back();
      v.vmflags = parse_vmflags(line + 8);
      if ((v.vmflags & kVmIo) && v.kind != VmaKind::Vvar && v.kind != VmaKind::Vdso) return errf("process %d: mapping %s at 0x%llx is device memory: not supported", pid, v.name.c(), (unsigned long long)v.start);
      if (v.vmflags & kVmUnsaved)
        return errf("process %d: mapping at 0x%llx is registered with userfaultfd, a shadow stack, MTE-tagged or sealed (VmFlags %s): not supported yet",
                    pid, (unsigned long long)v.start, line + 8);
    }
  }
  if (lr.error()) return errf("reading /proc/%d/smaps", pid);
  return ok();
}

Err find_syscall_insn(const ProcMem &mem, const Vec<VmaRec> &vmas, uint64_t *addr) {
  for (auto &v : vmas) {
    if (v.kind != VmaKind::Vdso) continue;
    uint64_t len = v.end - v.start;
    uint8_t *buf = static_cast<uint8_t *>(malloc(len));
    if (!buf) return errf("out of memory");
    Err e = mem.read(v.start, buf, len);
    const size_t n = sizeof arch::kSyscallInsn;
    for (uint64_t i = 0; !e && i + n <= len; i += arch::kSyscallInsnAlign) {
      if (memcmp(buf + i, arch::kSyscallInsn, n) == 0) { *addr = v.start + i; free(buf); return ok(); }
    }
    free(buf);
    TRY(e);
  }
  return errf("no syscall instruction found in the target's vDSO");
}

namespace {
// The parts of the object's offsets [a, b) that no earlier mapping saved:
// each is dumped through v, then all of [a, b) counts as saved.
Err dump_shared_unsaved(int pid, VmaRec &v, PageRun &run, Vec<ShmSaved> &saved) {
  const uint64_t a = v.pgoff, b = v.pgoff + (v.end - v.start);
  Vec<ShmSaved> mine;  // the object's saved ranges, by start
  for (auto &s : saved)
    if (s.dev == v.dev && s.ino == v.ino) mine.push(s);
  std::sort(mine.begin(), mine.end(), [](const ShmSaved &x, const ShmSaved &y) { return x.lo < y.lo; });
  uint64_t cur = a;
  for (auto &s : mine) {
    if (s.hi <= cur) continue;
    if (s.lo >= b) break;
    if (s.lo > cur) TRY(dump_shared_anon(pid, v, run, cur, s.lo));
    cur = s.hi;
  }
  if (cur < b) TRY(dump_shared_anon(pid, v, run, cur, b));
  saved.push(ShmSaved{v.dev, v.ino, a, b});
  return ok();
}
}  // namespace

namespace {
// The mappings made before the fork at restore (inherited or forked) first,
// then the others (FORMAT.md, "Inherited mappings").
Err dump_mappings(PageScan &sc, PageRun &run, Vec<VmaRec> &vmas, Vec<ShmSaved> &dumped_shm) {
  for (auto &v : vmas) {
    if (!v.premapped()) continue;
    TRY(dump_vma_pages(sc, v));
    TRY(run.flush(page_size()));
  }
  for (auto &v : vmas) {
    if (v.premapped()) continue;
    if (v.kind == VmaKind::SharedAnon) {
      TRY(dump_shared_unsaved(sc.pid, v, run, dumped_shm));
    } else if (v.kind == VmaKind::Anon || (v.kind == VmaKind::File && !v.shared)) {
      TRY(dump_vma_pages(sc, v));
    }
    TRY(run.flush(page_size()));  // records never span two mappings
  }
  return ok();
}
}  // namespace

Err dump_pages(int pid, int parent, const ProcMem &mem, Vec<VmaRec> &vmas, Vec<ShmSaved> &dumped_shm, ImageWriter &w) {
  Fd pagemap, parent_pagemap;
  TRY(open_proc(pid, "pagemap", &pagemap));
  if (parent > 0) TRY(open_proc(parent, "pagemap", &parent_pagemap));
  const size_t cap = kMaxPagesBytes > page_size() ? kMaxPagesBytes : page_size();
  uint8_t *buf = static_cast<uint8_t *>(malloc(cap));
  uint8_t *zbuf = w.compress() ? static_cast<uint8_t *>(malloc(cap + kLz4TableEntries * 4)) : nullptr;
  if (!buf || (w.compress() && !zbuf)) {
    free(buf);
    return errf("out of memory");
  }
  Err e = ok();
  {
    static const Crc32cShift page_shift(page_size());
    PageRun run(w, buf, cap, page_shift, zbuf);
    ReadAhead pages(mem, run, cap);
    FromRun from(w, parent);
    PageScan sc = {pid, pagemap.get(), parent_pagemap.get(), pages, from};
    e = dump_mappings(sc, run, vmas, dumped_shm);
  }  // the helper is reaped here
  free(buf);
  free(zbuf);
  return e;
}

namespace {
// The mapping of vmas (sorted, disjoint) that starts at start, or null.
VmaRec *vma_starting(Vec<VmaRec> &vmas, uint64_t start) {
  size_t lo = 0, hi = vmas.size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (vmas[mid].start < start) lo = mid + 1;
    else hi = mid;
  }
  return lo < vmas.size() && vmas[lo].start == start ? &vmas[lo] : nullptr;
}
}  // namespace

Err mark_inherited(int pid, int parent, Vec<VmaRec> &vmas, Vec<VmaRec> &parent_vmas) {
  Fd pagemap, parent_pagemap;
  TRY(open_proc(pid, "pagemap", &pagemap));
  TRY(open_proc(parent, "pagemap", &parent_pagemap));
  for (auto &v : vmas) {
    const VmaRec *p = vma_starting(parent_vmas, v.start);
    if (p && can_inherit(v, *p)) TRY(inherits(pagemap.get(), parent_pagemap.get(), v, &v.inherited));
  }
  return ok();
}

Err link_inherited(SetImage &set) {
  for (size_t k = 0; k < set.procs.size(); k++) {
    int p = parent_in_set(set.tree, k);
    for (auto &v : set.procs[k].vmas) {
      if (!v.inherited) continue;
      VmaRec *from = p >= 0 ? vma_starting(set.procs[p].vmas, v.start) : nullptr;
      if (!from || !can_inherit(v, *from))
        return bad_image("process %d: mapping at 0x%llx is inherited, but its parent has no such mapping",
                         set.tree[k].pid, (unsigned long long)v.start);
      from->forked = true;
    }
  }
  return ok();
}

namespace {
// A range free in every process of the set and in rstrt, away from every
// gadget and its park, with a free page on either side (no merging).
bool premap_area_free(const SetImage &set, const Vec<Range> &self, const Vec<uint64_t> &gadgets, uint64_t lo,
                      uint64_t hi) {
  for (auto &img : set.procs)
    for (auto &v : img.vmas)
      if (overlaps(lo, hi, v.start, v.end)) return false;
  for (auto &r : self)
    if (overlaps(lo, hi, r.start, r.end)) return false;
  for (uint64_t g : gadgets)
    if (g && overlaps(lo, hi, g, g + kParkOffset + (16ull << 20))) return false;
  return true;
}
}  // namespace

Err plan_premaps(SetImage &set, const Vec<uint64_t> &gadgets, uint64_t page) {
  const uint64_t slack = (2u << 20) + page;  // alignment, and a page apart
  uint64_t need = slack;
  for (auto &img : set.procs)
    for (auto &v : img.vmas)
      if (v.forked && !v.inherited) {
        if (need > arch::kUserSpaceEnd - slack || v.end - v.start > arch::kUserSpaceEnd - slack - need)
          return bad_image("its inherited mappings do not fit");
        need += v.end - v.start + slack;
      }
  if (need == slack) return ok();
  Vec<Range> self;
  TRY(read_child_maps(getpid(), &self));
  uint64_t base = 0;
  for (uint64_t cand = 1ull << 36; !base && cand < arch::kUserSpaceEnd && need <= arch::kUserSpaceEnd - cand; cand += 1ull << 32)
    if (premap_area_free(set, self, gadgets, cand, cand + need)) base = cand;
  if (!base) return bad_image("its mappings leave no free range to rebuild inherited memory in");
  uint64_t next = base + page;
  for (size_t k = 0; k < set.procs.size(); k++) {
    int p = parent_in_set(set.tree, k);
    for (auto &v : set.procs[k].vmas) {
      if (v.inherited) {
        v.premap = vma_starting(set.procs[p].vmas, v.start)->premap;  // link_inherited: it exists
      } else if (v.forked) {  // a page past a 2 MiB boundary: see premap_self
        next = ((next + (2u << 20) - 1) & ~((2ull << 20) - 1)) + page;
        v.premap = next;
        next += v.end - v.start;
      }
    }
  }
  return ok();
}

Err premap_self(const Vec<VmaRec> &vmas) {
  for (auto &v : vmas) {
    if (!v.forked || v.inherited) continue;  // inherited ones came with the fork
    uint32_t prot;
    int flags;
    creation_args(v, &prot, &flags);
    flags = (flags & ~MAP_FIXED) | MAP_FIXED_NOREPLACE;
    void *a = mmap((void *)v.premap, v.end - v.start, (int)prot, flags, -1, 0);
    if (a != (void *)v.premap) return sys_err("making inherited memory for 0x%llx", (unsigned long long)v.start);
    // Faulted in, it keeps its own page offset when moved (as map_apart);
    // one page past a 2 MiB boundary, that page is no THP (plan_premaps).
    if (prot & PROT_WRITE) *static_cast<volatile uint8_t *>(a) = 0;
  }
  return ok();
}

// A changed file under a private mapping would mix old saved pages with new file
// pages; refuse it, naming the file.
Err open_vma_files_child(const Vec<VmaRec> &vmas, int first_slot, const SetImage &set, const Vec<int> &desc_fds,
                         bool allow_changed) {
  Vec<int> slots;
  int nfiles, next = 0;
  assign_file_slots(vmas, &slots, &nfiles);
  for (size_t i = 0; i < vmas.size(); i++) {
    const VmaRec &v = vmas[i];
    if (slots[i] != next) continue;  // not a file, or its file is open already (slots come in order)
    next++;
    int d = desc_of_mapping(set, v);
    if (d >= 0) {  // a memfd: the restored description
      if (dup2(desc_fds[d], first_slot + slots[i]) < 0) return sys_err("placing %s", v.name.c());
      continue;
    }
    if (starts_with(v.name.c(), "/memfd:")) return bad_image("mapped memfd %s has no description", v.name.c());
    bool rw = v.shared && (v.vmflags & kVmMayWrite);
    Fd fd(open(v.name.c(), (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC));
    if (!fd.ok()) return sys_err("cannot open mapped file %s", v.name.c());
    struct stat st;
    if (fstat(fd.get(), &st) < 0) return sys_err("%s", v.name.c());
    int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    const char *what = (uint64_t)st.st_size != v.size ? "size" : mtime != v.mtime_ns ? "modification time"
                       : st.st_ino != v.ino ? "inode: replaced" : nullptr;
    if (!v.shared && what && !allow_changed)
      return errf("mapped file %s changed since the checkpoint (%s); rstrt --allow-changed-files maps it anyway",
                  v.name.c(), what);
    TRY(place_fd(fd.release(), first_slot + slots[i], FD_CLOEXEC));
  }
  return ok();
}


Gadget gadget_at(uint64_t addr, uint64_t page) {
  return Gadget{addr, addr + kGadgetInsnArea, page - kGadgetInsnArea, addr + kParkOffset};
}

// A free spot for the gadget page, outside every mapping of the image and of
// rstrt itself (the child starts as a copy of rstrt), with the park beyond it.
Err pick_gadget_address(const Vec<VmaRec> &vmas, uint64_t page, uint64_t *addr) {
  Vec<Range> self;
  TRY(read_child_maps(getpid(), &self));
  const uint64_t need = kParkOffset + (16ull << 20);  // the park holds the vDSO block (a few pages)
  for (uint64_t cand = 1ull << 32; cand < (1ull << 46); cand += 1ull << 32) {
    bool clash = false;
    for (auto &v : vmas) clash |= overlaps(cand, cand + need, v.start, v.end);
    for (auto &r : self) clash |= overlaps(cand, cand + need, r.start, r.end);
    if (!clash) { *addr = cand; return ok(); }
  }
  return bad_image("its mappings leave no free range for the restorer's page");
}

namespace {
// Unmap [lo, hi) but the premapped memory of this process's mappings in it.
Err unmap_except_premaps(Remote &rc, uint64_t lo, uint64_t hi, const Vec<VmaRec> &vmas) {
  while (lo < hi) {
    const VmaRec *keep = nullptr;  // the lowest premap that ends above lo
    for (auto &v : vmas)
      if (v.premap && v.premap + (v.end - v.start) > lo && v.premap < hi && (!keep || v.premap < keep->premap)) keep = &v;
    uint64_t stop = keep && keep->premap > lo ? keep->premap : keep ? lo : hi;
    if (stop > lo) TRY(rc.must("munmap", SYS_munmap, lo, stop - lo));
    lo = keep ? keep->premap + (keep->end - keep->start) : hi;
  }
  return ok();
}

// Memory made before the fork (premap_self), with its pages: moved into place
// (mremap keeps the pages, shared copy-on-write with the relatives).
Err move_premapped(Remote &rc, const VmaRec &v) {
  TRY(inject_mremap(rc, v.premap, v.end - v.start, v.start));
  int64_t r;
  TRY(rc.call(SYS_mprotect, &r, v.start, v.end - v.start, v.prot));
  if (r < 0) return errf("mprotect at 0x%llx: %s", (unsigned long long)v.start, strerror((int)-r));
  return ok();
}
}  // namespace

// In the stopped child, by injected syscalls running at the gadget: unmap
// everything of rstrt's, move the vDSO, map every saved mapping, close the files.
Err restore_layout(Remote &rc, int pid, const Vec<VmaRec> &vmas, int first_slot, const SetImage &set, size_t self) {
  Vec<Range> live;
  TRY(read_child_maps(pid, &live));
  Vec<uint64_t> dest;
  TRY(match_special(live, vmas, &dest));
  const uint64_t insn = rc.gadget().insn;
  for (auto &r : live) {
    if (r.special || overlaps(r.start, r.end, insn, insn + 1)) continue;
    TRY(unmap_except_premaps(rc, r.start, r.end, vmas));
  }
  TRY(move_special(rc, live, dest));
  Vec<int> slots;
  int nfiles;
  assign_file_slots(vmas, &slots, &nfiles);
  for (size_t i = 0; i < vmas.size(); i++) {
    const VmaRec &v = vmas[i];
    if (v.kind == VmaKind::Vdso || v.kind == VmaKind::Vvar) continue;
    int slot = slots[i];
    size_t p = 0;
    const VmaRec *owner = v.kind == VmaKind::SharedAnon ? shm_owner(set, self, i, &p) : nullptr;
    if (owner) TRY(map_shared_from(rc, v, set.procs[p].proc.pid, owner->start, owner->end));
    else if (v.premap) TRY(move_premapped(rc, v));
    else if (v.kind == VmaKind::SharedAnon) TRY(make_shared_object(rc, pid, v));
    else TRY(map_one(rc, v, slot < 0 ? -1 : first_slot + slot));
    TRY(advise_one(rc, v));
  }
  for (int s = 0; s < nfiles; s++) {
    int64_t r;
    TRY(rc.call(SYS_close, &r, first_slot + s));
  }
  return ok();
}

namespace {
bool restorable(const Vec<VmaRec> &vmas, uint64_t addr, uint64_t bytes) {
  const VmaRec *v = vma_of(vmas, addr, bytes);
  return v && v->kind != VmaKind::Vdso && v->kind != VmaKind::Vvar && !(v->shared && v->kind == VmaKind::File);
}

Err page_run_header(ImageReader &rd, uint32_t len, uint64_t *addr, uint64_t *n, uint32_t *aux) {
  uint8_t hdr[kPagesHeadLen];
  if (len < sizeof hdr) return rd.bad("too short");
  TRY(rd.chunk(hdr, sizeof hdr));
  PagesHead h = decode_pages_head(hdr);
  *addr = h.addr;
  *n = h.count;
  *aux = h.pid;
  if (*n == 0 || *addr % page_size() || *n > (1u << 20)) return rd.bad("bad page run");
  return ok();
}

// The restore's page writes: through the Mover, up to kSlots records behind
// the one being read and checked, or one by one from the own buffer (mappings
// the helper may not write, small processes, or no helper). Either way the
// writes land in the image's order: the own buffer is used only once all
// earlier writes are done.
class WriteBehind {
 public:
  WriteBehind(const ProcMem &mem, uint8_t *buf, uint64_t cap) : mem_(mem), buf_(buf), mover_(mem, cap) {}
  // Where the next record's data of `bytes` for mapping v is read to.
  Err buffer(const VmaRec &v, uint64_t bytes, uint8_t **out) {
    if (!use_helper(mover_, v, PROT_WRITE, bytes, &seen_)) {
      TRY(drain());
      slot_ = -1;
      *out = buf_;
      return ok();
    }
    if (inflight_ == Mover::kSlots) {  // the oldest write holds slot next_
      TRY(mover_.wait());
      inflight_--;
    }
    slot_ = next_;
    *out = mover_.slot(slot_);
    return ok();
  }
  // Write what buffer() gave, once the record is checked.
  Err write(uint64_t addr, uint64_t bytes) {
    if (slot_ < 0) return mem_.write(addr, buf_, bytes);
    TRY(mover_.submit(true, addr, bytes, slot_));
    inflight_++;
    next_ = (next_ + 1) % Mover::kSlots;
    return ok();
  }
  Err drain() {
    for (; inflight_; inflight_--) TRY(mover_.wait());
    return ok();
  }
  // Drain and reap the helper (started again if needed).
  Err stop() {
    TRY(drain());
    mover_.stop();
    return ok();
  }

 private:
  const ProcMem &mem_;
  uint8_t *buf_;
  Mover mover_;
  int slot_ = -1, next_ = 0, inflight_ = 0;
  uint64_t seen_ = 0;
};

// PAGES: the data follows in the record (wb == nullptr: only check it).
Err restore_data_run(ImageReader &rd, WriteBehind *wb, const VmaRec &v, uint64_t addr, uint64_t bytes, uint32_t len,
                     uint8_t *buf) {
  if (bytes > kMaxPagesBytes || bytes != len - 16) return rd.bad("bad page run length");
  if (wb) TRY(wb->buffer(v, bytes, &buf));
  TRY(rd.chunk(buf, (uint32_t)bytes));
  TRY(rd.finish());
  return wb ? wb->write(addr, bytes) : ok();
}

// PAGES_LZ4: the same, decoded (FORMAT.md) from the frame read to zbuf.
Err restore_lz4_run(ImageReader &rd, WriteBehind *wb, const VmaRec &v, uint64_t addr, uint64_t bytes, uint32_t len,
                    uint8_t *buf, uint8_t **zbuf) {
  if (!*zbuf && !(*zbuf = static_cast<uint8_t *>(malloc(kMaxPagesBytes)))) return errf("out of memory");
  if (wb && bytes <= kMaxPagesBytes) TRY(wb->buffer(v, bytes, &buf));
  TRY(read_pages_lz4(rd, len, bytes, *zbuf, buf));
  return wb ? wb->write(addr, bytes) : ok();
}

// PAGES_FROM: copy the same pages from the earlier process (restored already)
// to `to` (the address, or where the mapping is premapped).
Err restore_from_run(ImageReader &rd, const ProcMem &mem, uint64_t addr, uint64_t to, uint64_t bytes, int src,
                     uint8_t *buf) {
  TRY(rd.finish());
  ProcMem from;
  if (src <= 0 || from.open(src, false)) return rd.bad("pages from process %d, which is not restored", src);
  for (uint64_t off = 0; off < bytes; off += kMaxPagesBytes) {
    uint64_t k = bytes - off < kMaxPagesBytes ? bytes - off : kMaxPagesBytes;
    TRY(from.read(addr + off, buf, k));
    TRY(mem.write(to + off, buf, k));
  }
  return ok();
}

bool has_pid(const Vec<int> &v, int pid) {
  for (int p : v)
    if (p == pid) return true;
  return false;
}

// One process's page group as restore_pages reads it.
struct PageGroup {
  const ProcMem *mem;  // null: only check
  WriteBehind *wb;
  const Vec<VmaRec> &vmas;
  const Vec<int> &sources;
  int parent;
  ForkPoint *fork;
  bool forked = false;
  uint8_t *zbuf = nullptr;  // PAGES_LZ4 frames, once there is one
};

// The records of the premapped mappings are in: the process may fork. The
// helper goes first, so that no PID of the set is taken while it lives.
Err reach_fork(PageGroup &g) {
  g.forked = true;
  if (g.wb) TRY(g.wb->stop());
  return g.fork ? g.fork->reached() : ok();
}

Err restore_from(ImageReader &rd, PageGroup &g, const VmaRec &v, uint64_t addr, uint64_t to, uint64_t bytes, int src,
                 uint8_t *buf) {
  if (!has_pid(g.sources, src)) return rd.bad("pages from process %d, which is not restored before this one", src);
  if (v.inherited && src != g.parent) return rd.bad("inherited pages from process %d, not the parent", src);
  if (!g.mem || v.inherited) return rd.finish();  // inherited: the fork made them
  TRY(g.wb->drain());  // in the image's order
  return restore_from_run(rd, *g.mem, addr, to, bytes, src, buf);
}

Err restore_records(ImageReader &rd, PageGroup &g, uint8_t *buf, uint32_t *type, uint32_t *len) {
  const uint64_t ps = page_size();
  while ((*type & kRecOptional) || *type == (uint32_t)Rec::Pages || *type == (uint32_t)Rec::PagesFrom ||
         *type == (uint32_t)Rec::PagesLz4) {
    if (*type & kRecOptional) {  // FORMAT.md: skipped wherever it stands
      TRY(rd.skip());
      TRY(rd.next(type, len));
      continue;
    }
    uint64_t addr = 0, n = 0;
    uint32_t aux = 0;
    TRY(page_run_header(rd, *len, &addr, &n, &aux));
    if (!restorable(g.vmas, addr, n * ps))
      return rd.bad("pages at 0x%llx lie outside any restorable mapping", (unsigned long long)addr);
    const VmaRec &v = *vma_of(g.vmas, addr, n * ps);
    if (!g.forked && !v.premapped()) TRY(reach_fork(g));
    if (g.forked && v.premapped()) return rd.bad("pages of an inherited mapping after the others");
    const uint64_t to = v.premap ? v.premap + (addr - v.start) : addr;
    if (*type == (uint32_t)Rec::Pages) TRY(restore_data_run(rd, g.wb, v, to, n * ps, *len, buf));
    else if (*type == (uint32_t)Rec::PagesLz4) TRY(restore_lz4_run(rd, g.wb, v, to, n * ps, *len, buf, &g.zbuf));
    else if (*len != 16) return rd.bad("bad length");
    else TRY(restore_from(rd, g, v, addr, to, n * ps, (int)aux, buf));
    TRY(rd.next(type, len));
  }
  if (!g.forked) TRY(reach_fork(g));
  return g.wb ? g.wb->drain() : ok();
}
}  // namespace

Err restore_pages(ImageReader &rd, const ProcMem *mem, const Vec<VmaRec> &vmas, const Vec<int> &sources, int parent,
                  ForkPoint *fork, uint32_t *type, uint32_t *len) {
  const uint64_t ps = page_size(), cap = kMaxPagesBytes > ps ? kMaxPagesBytes : ps;
  uint8_t *buf = static_cast<uint8_t *>(malloc(cap));
  if (!buf) return errf("out of memory");
  Err e = ok();
  if (mem) {
    WriteBehind wb(*mem, buf, cap);
    PageGroup g = {mem, &wb, vmas, sources, parent, fork};
    e = restore_records(rd, g, buf, type, len);
    free(g.zbuf);
  } else {
    PageGroup g = {nullptr, nullptr, vmas, sources, parent, fork};
    e = restore_records(rd, g, buf, type, len);
    free(g.zbuf);
  }  // the helper is reaped here
  free(buf);
  return e;
}
