// Payload encoders/decoders for every per-process record (docs/FORMAT.md keeps
// the same field lists). Decoders check every length against the input and the
// limits here; a false return means "malformed", reported by the caller with the
// record type and offset.
#include <algorithm>

#include "codec.h"
#include "image.h"
#include "model.h"

namespace {
constexpr uint32_t kMaxPath = 4096;     // PATH_MAX
constexpr uint32_t kMaxCmdline = 64 << 10;
constexpr int32_t kPidMax = 4 << 20;  // PID_MAX_LIMIT (include/linux/threads.h)
bool id_ok(int32_t id, bool zero_ok) { return id <= kPidMax && (id > 0 || (zero_ok && id == 0)); }

bool str_ok(Dec &d, Str *out, uint32_t max) {
  *out = d.str();
  return !d.bad() && out->size() <= max;
}
}  // namespace

ThreadRec &ThreadRec::operator=(ThreadRec &&o) noexcept {
  if (this == &o) return *this;
  for (auto &b : extra) free(b.data);
  tid = o.tid; sigmask = o.sigmask;
  tid_address = o.tid_address; robust_list = o.robust_list; robust_len = o.robust_len;
  altstack_sp = o.altstack_sp; altstack_size = o.altstack_size; altstack_flags = o.altstack_flags;
  rseq_ptr = o.rseq_ptr; rseq_len = o.rseq_len; rseq_sig = o.rseq_sig;
  regs = o.regs;
  for (size_t i = 0; i < sizeof extra / sizeof *extra; i++) { extra[i] = o.extra[i]; o.extra[i].data = nullptr; }
  return *this;
}
ThreadRec::~ThreadRec() { for (auto &b : extra) free(b.data); }

size_t encode_process(const ProcessRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u32(r.pid); e.u32(r.ppid); e.u32(r.pgid); e.u32(r.sid);
  e.u32(r.umask); e.u32(r.uid); e.u32(r.gid); e.u32(r.nr_threads); e.u64(r.tty_nr);
  e.str(r.comm.c()); e.str(r.cwd.c()); e.str(r.exe.c());
  e.blob(r.cmdline.c(), (uint32_t)r.cmdline.size());
  return e.overflow() ? 0 : e.len();
}

bool decode_process(const uint8_t *p, size_t n, ProcessRec *r, bool newer) {
  Dec d(p, n, newer);
  r->pid = d.u32(); r->ppid = d.u32(); r->pgid = d.u32(); r->sid = d.u32();
  r->umask = d.u32(); r->uid = d.u32(); r->gid = d.u32(); r->nr_threads = d.u32(); r->tty_nr = d.u64();
  if (!str_ok(d, &r->comm, 64) || !str_ok(d, &r->cwd, kMaxPath) || !str_ok(d, &r->exe, kMaxPath)) return false;
  uint32_t len;
  const uint8_t *cl = d.blob(&len, kMaxCmdline);
  r->cmdline = Str(reinterpret_cast<const char *>(cl ? cl : p), cl ? len : 0);
  bool ids_ok = id_ok(r->pid, false) && id_ok(r->ppid, true) && id_ok(r->pgid, true) && id_ok(r->sid, true);
  bool paths_ok = r->cwd.c()[0] == '/' && r->exe.c()[0] == '/';  // chdir/open must not depend on rstrt's cwd
  return d.at_end() && ids_ok && paths_ok && r->umask <= 0777;
}

size_t encode_file(const FileRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u32(r.fd); e.u32(r.fd_flags); e.u32(r.desc);
  return e.overflow() ? 0 : e.len();
}

bool decode_file(const uint8_t *p, size_t n, FileRec *r, bool newer) {
  Dec d(p, n, newer);
  r->fd = (int32_t)d.u32(); r->fd_flags = d.u32(); r->desc = d.u32();
  return d.at_end() && r->fd >= 0 && r->fd < (1 << 20) && (r->fd_flags & ~1u) == 0;
}

// The head every description has; the kind's payload follows as one blob.
size_t encode_fdesc(const FdescRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u32(r.id); e.u8((uint8_t)r.kind); e.u32(r.flags); e.u64(r.pos);
  e.u64(r.dev); e.u64(r.ino); e.u32(r.mode);
  e.u32(r.owner_type); e.u32((uint32_t)r.owner_pid); e.u32(r.owner_sig);
  e.str(r.path.c());
  e.blob(r.payload.c(), (uint32_t)r.payload.size());
  return e.overflow() ? 0 : e.len();
}

bool decode_fdesc(const uint8_t *p, size_t n, FdescRec *r, bool newer) {
  Dec d(p, n, newer);
  r->id = d.u32(); r->kind = (FileKind)d.u8(); r->flags = d.u32(); r->pos = d.u64();
  r->dev = d.u64(); r->ino = d.u64(); r->mode = d.u32();
  r->owner_type = d.u32(); r->owner_pid = (int32_t)d.u32(); r->owner_sig = d.u32();
  if (!str_ok(d, &r->path, kMaxPath)) return false;
  uint32_t len;
  const uint8_t *data = d.blob(&len, kMaxRecord);
  r->payload = Str(reinterpret_cast<const char *>(data ? data : p), data ? len : 0);
  return d.at_end() && fdesc_valid(*r);
}

size_t encode_tree(const Vec<TreeEntry> &t, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u32((uint32_t)t.size());
  for (auto &p : t) {
    e.u32(p.pid); e.u32(p.ppid); e.u32(p.pgid); e.u32(p.sid);
    e.u32((uint32_t)p.tids.size());
    for (int32_t tid : p.tids) e.u32(tid);
    if (p.zombie()) e.u32((uint32_t)p.wait_status);
  }
  for (auto &p : t)  // 2.1: the zombies' names
    if (p.zombie()) e.str(p.comm.c());
  return e.overflow() ? 0 : e.len();
}

// Every pid and tid is a possible id and appears once in the whole tree.
bool ids_unique(const Vec<TreeEntry> &t) {
  Vec<int32_t> all;
  for (auto &e : t) {
    if (!id_ok(e.pid, false) || !id_ok(e.ppid, true) || !id_ok(e.pgid, true) || !id_ok(e.sid, true)) return false;
    for (size_t k = 1; k < e.tids.size(); k++) all.push(e.tids[k]);  // tids[0] is the pid
    all.push(e.pid);
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); i++)
    if (!id_ok(all[i], false) || (i && all[i] == all[i - 1])) return false;
  return true;
}

// Parents come before their children, every pid once, thread lists start with
// the pid. A zombie has no threads and no children, and its parent is in the set.
bool tree_order_ok(const Vec<TreeEntry> &t) {
  if (!ids_unique(t)) return false;
  for (size_t i = 0; i < t.size(); i++) {
    if (t[i].pid <= 0 || (!t[i].zombie() && t[i].tids[0] != t[i].pid)) return false;
    bool parent_in = false;
    for (size_t j = 0; j < t.size(); j++) {
      if (j != i && t[j].pid == t[i].pid) return false;
      if (t[j].pid == t[i].ppid && (j > i || t[j].zombie())) return false;  // parent after child, or a zombie
      parent_in |= t[j].pid == t[i].ppid;
    }
    if (t[i].zombie() && !parent_in) return false;
  }
  return true;
}

bool decode_tree(const uint8_t *p, size_t n, Vec<TreeEntry> *t, bool newer) {
  Dec d(p, n, newer);
  uint32_t count = d.u32();
  if (count == 0 || count > 4096) return false;
  for (uint32_t i = 0; i < count && !d.bad(); i++) {
    TreeEntry e;
    e.pid = (int32_t)d.u32(); e.ppid = (int32_t)d.u32(); e.pgid = (int32_t)d.u32(); e.sid = (int32_t)d.u32();
    uint32_t nt = d.u32();
    if (nt > 4096) return false;
    for (uint32_t k = 0; k < nt && !d.bad(); k++) e.tids.push((int32_t)d.u32());
    if (nt == 0) e.wait_status = (int32_t)d.u32();
    t->push(std::move(e));
  }
  bool names = d.left() > 0;  // absent before 2.1
  for (size_t i = 0; names && i < t->size() && !d.bad(); i++)
    if ((*t)[i].zombie() && !str_ok(d, &(*t)[i].comm, 16)) return false;
  return d.at_end() && tree_order_ok(*t);
}

size_t encode_rlimits(const RlimitsRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u32(kNrRlimits);
  for (int i = 0; i < kNrRlimits; i++) { e.u64(r.cur[i]); e.u64(r.max[i]); }
  return e.overflow() ? 0 : e.len();
}

bool decode_rlimits(const uint8_t *p, size_t n, RlimitsRec *r, bool newer) {
  Dec d(p, n, newer);
  if (d.u32() != kNrRlimits) return false;
  for (int i = 0; i < kNrRlimits; i++) { r->cur[i] = d.u64(); r->max[i] = d.u64(); }
  return d.at_end();
}

size_t encode_sigacts(const SigactsRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u32(kNrSignals);
  for (auto &a : r.act) { e.u64(a.handler); e.u64(a.flags); e.u64(a.restorer); e.u64(a.mask); }
  return e.overflow() ? 0 : e.len();
}

bool decode_sigacts(const uint8_t *p, size_t n, SigactsRec *r, bool newer) {
  Dec d(p, n, newer);
  if (d.u32() != kNrSignals) return false;
  for (auto &a : r->act) { a.handler = d.u64(); a.flags = d.u64(); a.restorer = d.u64(); a.mask = d.u64(); }
  return d.at_end();
}

size_t encode_siginfo(const SiginfoRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u32(r.tid);
  e.bytes(r.info, sizeof r.info);
  return e.overflow() ? 0 : e.len();
}

bool decode_siginfo(const uint8_t *p, size_t n, SiginfoRec *r, bool newer) {
  Dec d(p, n, newer);
  r->tid = (int32_t)d.u32();
  d.bytes(r->info, sizeof r->info);
  int sig = siginfo_signo(*r);
  return d.at_end() && r->tid >= 0 && sig >= 1 && sig <= kNrSignals;
}

size_t encode_mm(const MmRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  const uint64_t f[] = {r.start_code, r.end_code, r.start_data, r.end_data, r.start_brk, r.brk,
                        r.start_stack, r.arg_start, r.arg_end, r.env_start, r.env_end};
  for (uint64_t v : f) e.u64(v);
  e.blob(r.auxv, r.auxv_len);
  return e.overflow() ? 0 : e.len();
}

bool decode_mm(const uint8_t *p, size_t n, MmRec *r, bool newer) {
  Dec d(p, n, newer);
  uint64_t *f[] = {&r->start_code, &r->end_code, &r->start_data, &r->end_data, &r->start_brk, &r->brk,
                   &r->start_stack, &r->arg_start, &r->arg_end, &r->env_start, &r->env_end};
  for (uint64_t *v : f) *v = d.u64();
  uint32_t len;
  const uint8_t *a = d.blob(&len, sizeof r->auxv);
  if (a) memcpy(r->auxv, a, len);
  r->auxv_len = len;
  return d.at_end();
}

size_t encode_thread(const ThreadRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u32(r.tid); e.u64(r.sigmask);
  e.u64(r.altstack_sp); e.u64(r.altstack_size); e.u32(r.altstack_flags);
  e.u64(r.rseq_ptr); e.u32(r.rseq_len); e.u32(r.rseq_sig);
  e.u64(r.tid_address); e.u64(r.robust_list); e.u64(r.robust_len);
  e.blob(&r.regs, sizeof r.regs);  // native register layout (see the image's arch and byte order)
  e.u32(sizeof r.extra / sizeof *r.extra);
  for (auto &x : r.extra) { e.u32(x.nt); e.blob(x.data, x.len); }
  return e.overflow() ? 0 : e.len();
}

bool decode_thread(const uint8_t *p, size_t n, ThreadRec *r, bool newer) {
  Dec d(p, n, newer);
  r->tid = (int32_t)d.u32(); r->sigmask = d.u64();
  r->altstack_sp = d.u64(); r->altstack_size = d.u64(); r->altstack_flags = d.u32();
  r->rseq_ptr = d.u64(); r->rseq_len = d.u32(); r->rseq_sig = d.u32();
  r->tid_address = d.u64(); r->robust_list = d.u64(); r->robust_len = d.u64();
  uint32_t len;
  const uint8_t *regs = d.blob(&len, sizeof r->regs);
  if (!regs || len != sizeof r->regs) return false;
  memcpy(&r->regs, regs, len);
  if (d.u32() != sizeof r->extra / sizeof *r->extra) return false;
  for (size_t i = 0; i < sizeof r->extra / sizeof *r->extra; i++) {
    RegsetBlob &x = r->extra[i];
    x.nt = d.u32();
    const uint8_t *b = d.blob(&x.len, arch::kExtraRegsets[i].max_size);
    if (!b || x.nt != arch::kExtraRegsets[i].nt) return false;
    free(x.data);
    x.data = static_cast<uint8_t *>(malloc(x.len ? x.len : 1));
    if (!x.data) return false;
    memcpy(x.data, b, x.len);
  }
  return d.at_end() && r->tid > 0;
}

size_t encode_vma(const VmaRec &r, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u64(r.start); e.u64(r.end); e.u64(r.pgoff); e.u32(r.prot); e.u32(r.vmflags);
  e.u8((uint8_t)r.kind); e.u8(r.shared);
  e.u64(r.dev); e.u64(r.ino); e.u64(r.size); e.i64(r.mtime_ns);
  e.str(r.name.c());
  e.u8(r.inherited);  // 2.1
  return e.overflow() ? 0 : e.len();
}

bool decode_vma(const uint8_t *p, size_t n, VmaRec *r, bool newer) {
  Dec d(p, n, newer);
  r->start = d.u64(); r->end = d.u64(); r->pgoff = d.u64(); r->prot = d.u32(); r->vmflags = d.u32();
  r->kind = (VmaKind)d.u8(); r->shared = d.u8() != 0;
  r->dev = d.u64(); r->ino = d.u64(); r->size = d.u64(); r->mtime_ns = d.i64();
  if (!str_ok(d, &r->name, kMaxPath)) return false;
  uint8_t inherited = d.left() ? d.u8() : 0;  // absent before 2.1
  r->inherited = inherited == 1;
  bool kind_ok = r->kind >= VmaKind::Anon && r->kind <= VmaKind::Vvar;
  bool name_ok = r->kind != VmaKind::File || r->name.c()[0] == '/';  // reopened by this path
  return d.at_end() && kind_ok && name_ok && inherited <= 1 && r->start < r->end && r->prot <= 7;
}
