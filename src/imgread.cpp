// The image walker and the SetImage reader (imgread.h).
#include "imgread.h"

#include <unistd.h>

#include "arch_api.h"
#include "codec.h"
#include "process.h"
#include "tree.h"

namespace {
constexpr uint32_t kFirstMeta = (uint32_t)Rec::File, kLastMeta = (uint32_t)Rec::Vma;

// FILE..VMA, then the attribute records (procattr.h: PROC_ATTR, THREAD_ATTR, TIMER).
bool is_meta(uint32_t type) { return (type >= kFirstMeta && type <= kLastMeta) || is_attr_record(type); }
uint32_t bit(Rec r) { return 1u << (uint32_t)r; }
// Records a process has exactly once (it must have these and THREAD).
constexpr uint32_t kOnce = 1u << (uint32_t)Rec::Rlimits | 1u << (uint32_t)Rec::Sigacts | 1u << (uint32_t)Rec::Mm;

// A metadata record's payload, whole, in a buffer that grows to the largest.
class RecordBuf {
 public:
  ~RecordBuf() { free(p_); }
  Err read(ImageReader &rd, uint32_t len) {
    if (len > cap_) {
      uint8_t *np = static_cast<uint8_t *>(realloc(p_, len));
      if (!np) return errf("out of memory for a %u-byte record", len);
      p_ = np;
      cap_ = len;
    }
    return rd.payload(p_, len);
  }
  const uint8_t *data() const { return p_; }

 private:
  uint8_t *p_ = nullptr;
  uint32_t cap_ = 0;
};

class Walker {
 public:
  Walker(ImageReader &rd, ImageVisitor &v) : rd_(rd), v_(v) {}

  Err run() {
    TRY(rd_.preamble());
    TRY(expect(Rec::Header));
    ImageHeader h;
    if (!decode_header(buf_.data(), len_, &h, newer_minor(rd_))) return rd_.bad("malformed");
    TRY(v_.header(rd_, h));
    TRY(expect(Rec::Tree));
    if (!decode_tree(buf_.data(), len_, &tree_, newer_minor(rd_)) || tree_.size() != h.nr_processes) return rd_.bad("malformed");
    TRY(v_.tree(rd_, tree_));
    TRY(next());
    while (type_ == (uint32_t)Rec::Fdesc) {
      TRY(buf_.read(rd_, len_));
      TRY(v_.fdesc(rd_, buf_.data(), len_));
      TRY(next());
      while (type_ == (uint32_t)Rec::FdescData) {
        TRY(buf_.read(rd_, len_));
        Dec d(buf_.data(), len_);  // u32 description, u64 offset, the bytes
        uint32_t id = d.u32();
        uint64_t offset = d.u64();
        if (d.bad() || id != fdescs_) return rd_.bad("not the contents of the FDESC before it");
        TRY(v_.fdesc_data(rd_, offset, buf_.data() + 12, len_ - 12));
        TRY(next());
      }
      fdescs_++;
    }
    for (size_t k = 0; k < tree_.size(); k++)
      if (!tree_[k].zombie()) TRY(process_meta(k));
    TRY(rd_.verify_ahead());
    TRY(v_.metadata_done(rd_));
    for (size_t k = 0; k < tree_.size(); k++)
      if (!tree_[k].zombie()) TRY(page_group(k));
    return end();
  }

 private:
  // The next record that is not optional: optional ones are skipped.
  Err next() {
    for (;;) {
      TRY(rd_.next(&type_, &len_));
      if (!(type_ & kRecOptional)) return ok();
      TRY(rd_.skip());
    }
  }

  Err expect(Rec want) {
    TRY(next());
    if (type_ != (uint32_t)want) return rd_.bad("expected %s", rec_name((uint32_t)want));
    return buf_.read(rd_, len_);
  }

  // PROCESS, then FILE..VMA in non-decreasing type order; leaves the header
  // of the first record after them in type_/len_.
  Err process_meta(size_t k) {
    if (type_ != (uint32_t)Rec::Process) return rd_.bad("expected PROCESS");
    uint32_t last = (uint32_t)Rec::Process, seen = 0;
    for (;;) {
      TRY(buf_.read(rd_, len_));
      TRY(v_.meta(rd_, k, type_, buf_.data(), len_));
      seen |= bit((Rec)type_);
      TRY(next());
      if (!is_meta(type_)) break;
      if (type_ < last) return rd_.bad("out of order (after %s)", rec_name(last));
      if (type_ == last && (kOnce & bit((Rec)type_))) return rd_.bad("a second %s in one process", rec_name(last));
      last = type_;
    }
    for (Rec r : {Rec::Rlimits, Rec::Sigacts, Rec::Mm, Rec::Thread})
      if (!(seen & bit(r))) return rd_.bad("process %d has no %s record", tree_[k].pid, rec_name((uint32_t)r));
    return ok();
  }

  Err page_group(size_t k) {
    TRY(v_.pages(rd_, k, &type_, &len_));
    if (type_ != (uint32_t)Rec::ProcEnd || len_ != 0) return rd_.bad("expected PROC_END");
    TRY(rd_.finish());
    return next();
  }

  Err end() {
    if (type_ != (uint32_t)Rec::End) return rd_.bad("expected END");
    uint64_t records_before = rd_.records();
    TRY(buf_.read(rd_, len_));
    Dec d(buf_.data(), len_, newer_minor(rd_));
    uint64_t count = d.u64();
    uint32_t procs = d.u32();
    if (!d.at_end() || count != records_before + 1 || procs != tree_.size())
      return rd_.bad("record count %llu does not match", (unsigned long long)count);
    return v_.end(rd_);
  }

  ImageReader &rd_;
  ImageVisitor &v_;
  RecordBuf buf_;
  Vec<TreeEntry> tree_;
  uint32_t type_ = 0, len_ = 0;
  uint32_t fdescs_ = 0;  // FDESC records read
};

// A mapping is page-aligned user memory above the one before it (smaps
// order), between vm.mmap_min_addr (which the kernel would refuse) and the end
// of user space.
Err check_vma(ImageReader &rd, const VmaRec &v, const Vec<VmaRec> &before, uint64_t min_addr) {
  const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  if (v.start % page || v.end % page || v.start < min_addr || v.end > arch::kUserSpaceEnd)
    return rd.bad("mapping 0x%llx-0x%llx is not page-aligned user memory", (unsigned long long)v.start,
                  (unsigned long long)v.end);
  if (!before.empty() && v.start < before[before.size() - 1].end)
    return rd.bad("mapping at 0x%llx overlaps the one before", (unsigned long long)v.start);
  return ok();
}

// Once a process's metadata is complete: it matches its TREE entry.
Err check_process(const ProcImage &img, const TreeEntry &te, const SetImage &set) {
  if (img.proc.pid != te.pid) return bad_image("PROCESS %d out of TREE order", img.proc.pid);
  if (img.threads.size() != te.tids.size()) return bad_image("process %d: thread count differs from TREE", te.pid);
  for (size_t i = 0; i < te.tids.size(); i++)
    if (img.threads[i].tid != te.tids[i]) return bad_image("process %d: thread %d not in TREE", te.pid, img.threads[i].tid);
  for (auto &f : img.files)
    if (f.desc >= set.fdescs.size()) return bad_image("process %d fd %d: no such description", te.pid, f.fd);
  return ok();
}

Err decode_into(ImageReader &rd, uint32_t type, const uint8_t *p, uint32_t n, ProcImage *img, uint64_t min_addr) {
  bool good = false, newer = newer_minor(rd);
  switch ((Rec)type) {
    case Rec::Process: good = decode_process(p, n, &img->proc, newer); break;
    case Rec::File: { FileRec f; good = decode_file(p, n, &f, newer); if (good) img->files.push(f); break; }
    case Rec::Rlimits: good = decode_rlimits(p, n, &img->rlimits, newer); break;
    case Rec::Sigacts: good = decode_sigacts(p, n, &img->sigacts, newer); break;
    case Rec::Mm: good = decode_mm(p, n, &img->mm, newer); break;
    case Rec::Thread: { ThreadRec t; good = decode_thread(p, n, &t, newer); if (good) img->threads.push(std::move(t)); break; }
    case Rec::Siginfo: { SiginfoRec s; good = decode_siginfo(p, n, &s, newer); if (good) img->pending.push(s); break; }
    case Rec::Vma: {
      VmaRec v;
      good = decode_vma(p, n, &v, newer);
      if (good) TRY(check_vma(rd, v, img->vmas, min_addr));
      if (good) img->vmas.push(std::move(v));
      break;
    }
    default:
      if (!is_attr_record(type)) return rd.bad("unexpected in a process");
      good = decode_attr_record(type, p, n, &img->attrs);
  }
  return good ? ok() : rd.bad("malformed");
}
}  // namespace

Err walk_image(ImageReader &rd, ImageVisitor &v) {
  Walker w(rd, v);
  return w.run();
}

namespace {
// vm.mmap_min_addr (Documentation/admin-guide/sysctl/vm.rst): what mmap
// refuses below, even MAP_FIXED; a page if unreadable.
uint64_t read_mmap_min_addr() {
  char buf[32];
  uint64_t v = 0;
  if (read_text("/proc/sys/vm/mmap_min_addr", buf, sizeof buf)) return 4096;
  buf[strcspn(buf, "\n")] = 0;
  return parse_u64(buf, &v) && v ? v : 4096;
}
}  // namespace

Err SetReader::header(ImageReader &rd, const ImageHeader &h) {
  mmap_min_addr_ = read_mmap_min_addr();
  if (h.arch != arch::kImageArch) return bad_image("it is for %s, this is %s", arch_name(h.arch), arch::kName);
  if (h.big_endian != arch::kBigEndian) return bad_image("byte order differs from this machine's");
  if (h.page_size != (uint32_t)sysconf(_SC_PAGESIZE))
    return bad_image("page size %u, this machine's is %ld", h.page_size, sysconf(_SC_PAGESIZE));
  return ok();
}

Err SetReader::tree(ImageReader &rd, Vec<TreeEntry> &tree) {
  for (auto &e : tree) {
    TreeEntry copy = {e.pid, e.ppid, e.pgid, e.sid, {}, e.wait_status, Str(e.comm.c(), e.comm.size())};
    for (int t : e.tids) copy.tids.push(t);
    set.tree.push(std::move(copy));
    set.procs.push(ProcImage());
    set.procs.back().proc.pid = e.pid;
  }
  return ok();
}

Err SetReader::fdesc(ImageReader &rd, const uint8_t *p, uint32_t n) {
  FdescRec f;
  if (!decode_fdesc(p, n, &f, newer_minor(rd)) || f.id != set.fdescs.size()) return rd.bad("malformed");
  set.fdescs.push(std::move(f));
  data_end_ = 0;
  return ok();
}

Err SetReader::fdesc_data(ImageReader &rd, uint64_t offset, const uint8_t *p, uint32_t n) {
  const FdescRec &f = set.fdescs.back();
  const FdKind *kind = fd_kind(f.kind);
  uint64_t size;
  if (!kind || !kind->streams || !kind->streams(f, &size)) return rd.bad("contents of a description that has none");
  if (n == 0 || offset < data_end_ || offset > size || n > size - offset)
    return rd.bad("a run at %llu of %u bytes, outside the %llu bytes of %s or before the run ahead of it",
                  (unsigned long long)offset, n, (unsigned long long)size, f.path.c());
  data_end_ = offset + n;
  return ok();
}

Err SetReader::meta(ImageReader &rd, size_t k, uint32_t type, const uint8_t *p, uint32_t n) {
  return decode_into(rd, type, p, n, &set.procs[k], mmap_min_addr_);
}

Err SetReader::metadata_done(ImageReader &rd) {
  for (size_t k = 0; k < set.tree.size(); k++)
    if (!set.tree[k].zombie()) TRY(check_process(set.procs[k], set.tree[k], set));
  TRY(link_inherited(set));
  for (size_t i = 0; i < set.fdescs.size(); i++) {
    const FdKind *kind = fd_kind(set.fdescs[i].kind);
    if (kind && kind->valid_in_set) TRY(kind->valid_in_set(set, i));
  }
  return check_attrs_set(set);
}

int SetReader::parent_pid(size_t k) const {
  int p = parent_in_set(set.tree, k);
  return p >= 0 ? set.tree[p].pid : 0;
}

void SetReader::sources_before(size_t k, Vec<int> *out) const {
  for (size_t j = 0; j < k; j++)
    if (!set.tree[j].zombie()) out->push(set.tree[j].pid);
}

Err SetReader::pages(ImageReader &rd, size_t k, uint32_t *type, uint32_t *len) {
  Vec<int> sources;
  sources_before(k, &sources);
  return restore_pages(rd, nullptr, set.procs[k].vmas, sources, parent_pid(k), nullptr, type, len);
}
