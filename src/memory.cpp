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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "codec.h"
#include "process.h"
#include "procfs.h"

namespace {
constexpr uint64_t kPmPresent = 1ull << 63, kPmSwapped = 1ull << 62, kPmFilePage = 1ull << 61;

uint64_t page_size() { return (uint64_t)sysconf(_SC_PAGESIZE); }

bool starts_with(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

// ---- dump: mappings ---------------------------------------------------------

Err file_identity(int pid, VmaRec *v) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)v->start,
           (unsigned long long)v->end);
  struct stat st;
  if (stat(path, &st) < 0) return sys_err("mapping %s", v->name.c());
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
  bool deleted = strstr(p, " (deleted)") != nullptr;
  if (m.shared && (starts_with(p, "/dev/zero") || starts_with(p, "/SYSV") || p[0] == 0)) {
    v->kind = VmaKind::SharedAnon;
    return ok();
  }
  if (p[0] != '/' || m.inode == 0) { v->kind = VmaKind::Anon; return ok(); }
  if (deleted) return errf("mapping of %s at 0x%llx: the file was deleted: not supported yet", p, (unsigned long long)m.start);
  v->kind = VmaKind::File;
  return file_identity(pid, v);
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

// Page-at-a-time writer of PAGES records: consecutive pages are gathered into one
// record of at most kMaxPagesBytes, so the dumper's memory stays bounded.
class PageRun {
 public:
  PageRun(ImageWriter &w, uint8_t *buf) : w_(w), buf_(buf) {}
  uint8_t *slot(uint64_t addr, uint64_t ps) {
    if (n_ && (addr != start_ + n_ * ps || (n_ + 1) * ps > kMaxPagesBytes)) flushed_ = flush(ps);
    if (!n_) start_ = addr;
    return buf_ + n_ * ps;
  }
  void commit() { n_++; }
  Err flush(uint64_t ps) {
    if (!n_) return ok();
    uint8_t hdr[16];
    Enc e(hdr, sizeof hdr);
    e.u64(start_);
    e.u32((uint32_t)n_);
    e.u32(0);
    Err err = w_.record2(Rec::Pages, hdr, sizeof hdr, buf_, n_ * ps);
    n_ = 0;
    return err;
  }
  Err pending_error() const { return flushed_; }

 private:
  ImageWriter &w_;
  uint8_t *buf_;
  uint64_t start_ = 0, n_ = 0;
  Err flushed_ = ok();
};

// Read target memory: process_vm_readv for readable mappings, /proc/PID/mem
// (which, like ptrace, also reads protected pages) otherwise.
Err read_target(int pid, const ProcMem &mem, const VmaRec &v, uint64_t addr, void *buf, size_t n) {
  if (v.prot & PROT_READ) {
    struct iovec local = {buf, n}, remote = {(void *)addr, n};
    if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)n) return ok();
  }
  return mem.read(addr, buf, n);
}

// Copy the run [addr, addr + n pages) of wanted pages into the image: one read
// for the run, then page by page into PAGES records, dropping all-zero anonymous
// pages (they come back as fresh zero pages).
Err dump_run(int pid, const ProcMem &mem, VmaRec &v, uint64_t addr, uint64_t n, PageRun &run, uint8_t *tmp) {
  const uint64_t ps = page_size();
  TRY(read_target(pid, mem, v, addr, tmp, n * ps));
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t *src = tmp + i * ps;
    if (v.kind == VmaKind::Anon && all_zero(src, ps)) continue;
    uint8_t *dst = run.slot(addr + i * ps, ps);
    TRY(run.pending_error());
    memcpy(dst, src, ps);
    run.commit();
    v.saved_bytes += ps;
  }
  return ok();
}

Err dump_vma_pages(int pid, const ProcMem &mem, int pagemap, VmaRec &v, PageRun &run, uint8_t *tmp) {
  const uint64_t ps = page_size(), max_run = kMaxPagesBytes / ps ? kMaxPagesBytes / ps : 1;
  uint64_t pm[512];
  for (uint64_t a = v.start; a < v.end;) {
    uint64_t n = (v.end - a) / ps < 512 ? (v.end - a) / ps : 512;
    if (pread(pagemap, pm, n * 8, (off_t)(a / ps * 8)) != (ssize_t)(n * 8)) return sys_err("reading pagemap");
    for (uint64_t i = 0; i < n;) {
      if (!page_wanted(v, pm[i])) { i++; continue; }
      uint64_t j = i + 1;
      while (j < n && j - i < max_run && page_wanted(v, pm[j])) j++;
      TRY(dump_run(pid, mem, v, a + i * ps, j - i, run, tmp));
      i = j;
    }
    a += n * ps;
  }
  return ok();
}

// Shared anonymous memory lives in a shmem file: walk its data ranges
// (SEEK_DATA/SEEK_HOLE, so swapped-out pages count too) through map_files.
Err dump_shared_anon(int pid, VmaRec &v, PageRun &run) {
  const uint64_t ps = page_size();
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)v.start,
           (unsigned long long)v.end);
  Fd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return sys_err("shared memory at 0x%llx", (unsigned long long)v.start);
  uint64_t len = v.end - v.start, base = v.pgoff;
  for (off_t off = (off_t)base; (uint64_t)off < base + len;) {
    off_t data = lseek(fd.get(), off, SEEK_DATA);
    if (data < 0 || (uint64_t)data >= base + len) break;
    off_t hole = lseek(fd.get(), data, SEEK_HOLE);
    if (hole < 0 || (uint64_t)hole > base + len) hole = (off_t)(base + len);
    for (off_t o = data & ~(off_t)(ps - 1); o < hole; o += ps) {
      uint8_t *dst = run.slot(v.start + (o - base), ps);
      TRY(run.pending_error());
      if (pread(fd.get(), dst, ps, o) != (ssize_t)ps) return sys_err("reading shared memory");
      run.commit();
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
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/maps", pid);
  Fd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return sys_err("%s", path);
  LineReader lr(fd.get());
  while (char *line = lr.next()) {
    MapsLine m;
    if (!parse_maps_line(line, &m)) return errf("cannot parse %s", path);
    bool special = strcmp(m.path, "[vdso]") == 0 || starts_with(m.path, "[vvar");
    if (strcmp(m.path, "[vsyscall]") == 0) continue;
    out->push(Range{m.start, m.end, special, Str(m.path)});
  }
  return lr.error() ? errf("reading %s", path) : ok();
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

Err inject_mremap(Tracee &t, uint64_t from, uint64_t len, uint64_t to) {
  int64_t r;
  TRY(t.syscall(SYS_mremap, &r, from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to));
  if (r != (int64_t)to) return errf("moving the vDSO to 0x%llx: %s", (unsigned long long)to, strerror((int)-r));
  return ok();
}

// Move the live vdso/vvar block to where the image had it. If the two places
// overlap, go through a free spot first (mremap refuses overlapping moves).
Err move_special(Tracee &t, const Vec<Range> &live, const Vec<uint64_t> &dest, const Gadget &g) {
  uint64_t lo = UINT64_MAX, hi = 0, dlo = UINT64_MAX;
  size_t k = 0;
  for (auto &r : live) {
    if (!r.special) continue;
    lo = r.start < lo ? r.start : lo;
    hi = r.end > hi ? r.end : hi;
    dlo = dest[k] < dlo ? dest[k] : dlo;
    k++;
  }
  const uint64_t temp = g.insn + (1ull << 30);  // pick_gadget_address leaves this free
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

bool same_file(const VmaRec &a, const VmaRec &b) {
  return a.kind == VmaKind::File && b.kind == VmaKind::File && a.shared == b.shared && strcmp(a.name.c(), b.name.c()) == 0;
}
// VM_ACCOUNT must come out as it was, or neighbouring mappings merge where they
// did not (mm/vma.c only merges equal vm_flags): a private mapping that was ever
// writable keeps it after mprotect (e.g. a library's RELRO segment), so such a
// read-only mapping is created writable first; a writable one without it was
// mapped MAP_NORESERVE.
Err map_one(Tracee &t, const VmaRec &v, int fd) {
  int flags = MAP_FIXED | (v.shared ? MAP_SHARED : MAP_PRIVATE);
  if (v.kind != VmaKind::File) flags |= MAP_ANONYMOUS;
  if (v.vmflags & kVmGrowsDown) flags |= MAP_GROWSDOWN;
  uint32_t prot = v.prot;
  if (!v.shared && (v.vmflags & kVmAccount)) prot |= PROT_WRITE;
  if (!v.shared && (v.prot & PROT_WRITE) && !(v.vmflags & kVmAccount)) flags |= MAP_NORESERVE;
  int64_t r;
  TRY(t.syscall(SYS_mmap, &r, v.start, v.end - v.start, prot, flags, v.kind == VmaKind::File ? fd : -1,
                v.kind == VmaKind::File ? v.pgoff : 0));
  if (r != (int64_t)v.start)
    return errf("cannot map %s at 0x%llx: %s", v.name.empty() ? "anonymous memory" : v.name.c(),
                (unsigned long long)v.start, r < 0 ? strerror((int)-r) : "placed elsewhere");
  if (prot == v.prot) return ok();
  TRY(t.syscall(SYS_mprotect, &r, v.start, v.end - v.start, v.prot));
  if (r < 0) return errf("mprotect at 0x%llx: %s", (unsigned long long)v.start, strerror((int)-r));
  return ok();
}

// madvise flags that shape later behaviour (fork, core dumps, THP).
Err advise_one(Tracee &t, const VmaRec &v) {
  static const struct { uint32_t flag; int advice; } table[] = {
      {kVmDontCopy, MADV_DONTFORK}, {kVmDontDump, MADV_DONTDUMP}, {kVmWipeOnFork, 18 /* MADV_WIPEONFORK */},
      {kVmHugePage, MADV_HUGEPAGE}, {kVmNoHugePage, MADV_NOHUGEPAGE}};
  for (auto &a : table) {
    if (!(v.vmflags & a.flag)) continue;
    int64_t r;
    TRY(t.syscall(SYS_madvise, &r, v.start, v.end - v.start, a.advice));
    if (r < 0) return errf("madvise(%d) at 0x%llx: %s", a.advice, (unsigned long long)v.start, strerror((int)-r));
  }
  return ok();
}

const VmaRec *vma_of(const Vec<VmaRec> &vmas, uint64_t a, uint64_t len) {
  for (auto &v : vmas)
    if (a >= v.start && len <= v.end - a) return &v;
  return nullptr;
}
}  // namespace

Err dump_vmas(int pid, Vec<VmaRec> *out) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/smaps", pid);
  Fd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return sys_err("%s", path);
  LineReader lr(fd.get());
  bool keep = false;
  while (char *line = lr.next()) {
    if (is_maps_header(line)) {
      TRY(begin_vma(pid, line, out, &keep));
    } else if (keep && starts_with(line, "VmFlags:")) {
      VmaRec &v = out->back();
      v.vmflags = parse_vmflags(line + 8);
      if ((v.vmflags & kVmIo) && v.kind != VmaKind::Vvar && v.kind != VmaKind::Vdso) return errf("mapping %s at 0x%llx is device memory: not supported", v.name.c(), (unsigned long long)v.start);
    }
  }
  if (lr.error()) return errf("reading %s", path);
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

Err dump_pages(int pid, const ProcMem &mem, Vec<VmaRec> &vmas, ImageWriter &w) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/pagemap", pid);
  Fd pagemap(open(path, O_RDONLY | O_CLOEXEC));
  if (!pagemap.ok()) return sys_err("%s", path);
  const size_t cap = kMaxPagesBytes > page_size() ? kMaxPagesBytes : page_size();
  uint8_t *buf = static_cast<uint8_t *>(malloc(cap)), *tmp = static_cast<uint8_t *>(malloc(cap));
  if (!buf || !tmp) { free(buf); free(tmp); return errf("out of memory"); }
  PageRun run(w, buf);
  Err e = ok();
  for (auto &v : vmas) {
    if (v.kind == VmaKind::SharedAnon) e = dump_shared_anon(pid, v, run);
    else if (v.kind == VmaKind::Anon || (v.kind == VmaKind::File && !v.shared))
      e = dump_vma_pages(pid, mem, pagemap.get(), v, run, tmp);
    if (!e) e = run.flush(page_size());  // records never span two mappings
    if (e) break;
  }
  free(buf);
  return e;
}

// Each distinct mapped file gets one fd slot; mappings of the same file share it.
void assign_file_slots(const Vec<VmaRec> &vmas, Vec<int> *slots, int *count) {
  *count = 0;
  for (size_t i = 0; i < vmas.size(); i++) {
    int slot = -1;
    if (vmas[i].kind == VmaKind::File) {
      for (size_t j = 0; j < i && slot < 0; j++)
        if (same_file(vmas[j], vmas[i])) slot = (*slots)[j];
      if (slot < 0) slot = (*count)++;
    }
    slots->push(slot);
  }
}

int count_vma_files(const Vec<VmaRec> &vmas) {
  Vec<int> slots;
  int n;
  assign_file_slots(vmas, &slots, &n);
  return n;
}

// A changed file under a private mapping would mix old saved pages with new file
// pages; refuse it, naming the file.
Err open_vma_files_child(const Vec<VmaRec> &vmas, int first_slot) {
  Vec<int> slots;
  int nfiles;
  assign_file_slots(vmas, &slots, &nfiles);
  for (size_t i = 0; i < vmas.size(); i++) {
    const VmaRec &v = vmas[i];
    int slot = slots[i];
    if (slot < 0 || fcntl(first_slot + slot, F_GETFD) >= 0) continue;  // not a file, or opened already
    bool rw = v.shared && (v.vmflags & kVmMayWrite);
    Fd fd(open(v.name.c(), (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC));
    if (!fd.ok()) return sys_err("cannot open mapped file %s", v.name.c());
    struct stat st;
    if (fstat(fd.get(), &st) < 0) return sys_err("%s", v.name.c());
    int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if (!v.shared && ((uint64_t)st.st_size != v.size || mtime != v.mtime_ns))
      return errf("mapped file %s changed since the checkpoint (size or modification time)", v.name.c());
    if (fcntl(fd.get(), F_DUPFD_CLOEXEC, first_slot + slot) != first_slot + slot)
      return sys_err("placing mapped file %s at fd %d", v.name.c(), first_slot + slot);
  }
  return ok();
}

// A free spot for the gadget page, outside every mapping of the image and of
// rstrt itself (the child starts as a copy of rstrt), with room above it for a
// temporary vDSO move.
Err pick_gadget_address(const Vec<VmaRec> &vmas, uint64_t len, uint64_t *addr) {
  Vec<Range> self;
  TRY(read_child_maps(getpid(), &self));
  const uint64_t need = len + (1ull << 30) + (16ull << 20);
  for (uint64_t cand = 1ull << 32; cand < (1ull << 46); cand += 1ull << 32) {
    bool clash = false;
    for (auto &v : vmas) clash |= overlaps(cand, cand + need, v.start, v.end);
    for (auto &r : self) clash |= overlaps(cand, cand + need, r.start, r.end);
    if (!clash) { *addr = cand; return ok(); }
  }
  return errf("no free address range for the restorer");
}

// In the stopped child, by injected syscalls running at the gadget: unmap
// everything of rstrt's, move the vDSO, map every saved mapping, close the files.
Err restore_layout(Tracee &t, int pid, const Gadget &g, const Vec<VmaRec> &vmas, int first_slot) {
  Vec<Range> live;
  TRY(read_child_maps(pid, &live));
  Vec<uint64_t> dest;
  TRY(match_special(live, vmas, &dest));
  for (auto &r : live) {
    if (r.special || overlaps(r.start, r.end, g.insn, g.insn + 1)) continue;
    int64_t res;
    TRY(t.syscall(SYS_munmap, &res, r.start, r.end - r.start));
    if (res < 0) return errf("munmap 0x%llx: %s", (unsigned long long)r.start, strerror((int)-res));
  }
  TRY(move_special(t, live, dest, g));
  Vec<int> slots;
  int nfiles;
  assign_file_slots(vmas, &slots, &nfiles);
  for (size_t i = 0; i < vmas.size(); i++) {
    const VmaRec &v = vmas[i];
    if (v.kind == VmaKind::Vdso || v.kind == VmaKind::Vvar) continue;
    int slot = slots[i];
    TRY(map_one(t, v, slot < 0 ? -1 : first_slot + slot));
    TRY(advise_one(t, v));
  }
  for (int s = 0; s < nfiles; s++) {
    int64_t r;
    TRY(t.syscall(SYS_close, &r, first_slot + s));
  }
  return ok();
}

Err restore_pages(ImageReader &rd, const ProcMem &mem, const Vec<VmaRec> &vmas, uint32_t *type, uint32_t *len) {
  const uint64_t ps = page_size();
  uint8_t *buf = static_cast<uint8_t *>(malloc(kMaxPagesBytes > ps ? kMaxPagesBytes : ps));
  if (!buf) return errf("out of memory");
  Err e = ok();
  while (!e && *type == (uint32_t)Rec::Pages) {
    uint8_t hdr[16];
    if (*len < sizeof hdr) { e = rd.bad("too short"); break; }
    if ((e = rd.chunk(hdr, sizeof hdr))) break;
    Dec d(hdr, sizeof hdr);
    uint64_t addr = d.u64(), n = d.u32();
    uint64_t bytes = n * ps;
    if (n == 0 || addr % ps || bytes > kMaxPagesBytes || bytes != *len - sizeof hdr) { e = rd.bad("bad page run"); break; }
    const VmaRec *v = vma_of(vmas, addr, bytes);
    if (!v || v->kind == VmaKind::Vdso || v->kind == VmaKind::Vvar || (v->shared && v->kind == VmaKind::File)) {
      e = rd.bad("pages at 0x%llx lie outside any restorable mapping", (unsigned long long)addr);
      break;
    }
    if ((e = rd.chunk(buf, (uint32_t)bytes)) || (e = rd.finish())) break;
    if ((e = mem.write(addr, buf, bytes))) break;
    e = rd.next(type, len);
  }
  free(buf);
  return e;
}
