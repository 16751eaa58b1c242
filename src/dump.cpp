// Checkpoint of a set of processes: freeze every thread of the set, read
// everything while it is frozen, write the records in the order docs/FORMAT.md
// gives (all metadata, then all page data), and leave the set as asked.
#include "dump.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "model.h"
#include "net.h"
#include "output.h"
#include "procfs.h"
#include "process.h"
#include "ptrace.h"
#include "remote.h"

namespace {
uint8_t rec_buf[1 << 20];

Err put(ImageWriter &w, Rec type, size_t len) {
  if (!len) return errf("%s record does not fit in %zu bytes", rec_name((uint32_t)type), sizeof rec_buf);
  return w.record(type, rec_buf, len);
}

// A description carries its data (a pipe's, a deleted file's): a buffer of its size.
Err put_fdesc(ImageWriter &w, const FdescRec &f) {
  size_t cap = 128 + f.path.size() + f.payload.size();
  if (cap > kMaxRecord) return errf("%s: %zu bytes of data are more than one record holds", f.path.c(), f.payload.size());
  uint8_t *buf = static_cast<uint8_t *>(malloc(cap));
  if (!buf) return errf("out of memory");
  size_t n = encode_fdesc(f, buf, cap);
  Err e = n ? w.record(Rec::Fdesc, buf, n) : errf("internal: FDESC does not fit");
  free(buf);
  return e;
}

// A description's contents after its FDESC (FORMAT.md, FDESC_DATA): the data
// runs of the file at data_from (holes skipped), kDataRun bytes a record, so
// that neither side holds more than that.
constexpr size_t kDataRun = 256u << 10;

Err put_fdesc_data(ImageWriter &w, const FdescRec &f) {
  Fd fd(open(f.data_from.c(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd.ok() || fstat(fd.get(), &st) < 0) return sys_err("opening %s (%s)", f.path.c(), f.data_from.c());
  uint8_t *buf = static_cast<uint8_t *>(malloc(kDataRun));
  if (!buf) return errf("out of memory");
  Err e = ok();
  for (off_t off = 0; !e && off < st.st_size;) {
    off_t data = lseek(fd.get(), off, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only a hole left
    off_t hole = data < 0 ? -1 : lseek(fd.get(), data, SEEK_HOLE);
    if (data < 0 || hole < 0) { e = sys_err("%s", f.path.c()); break; }
    if (hole > st.st_size) hole = st.st_size;
    for (off = data; !e && off < hole;) {
      size_t n = (size_t)(hole - off) < kDataRun ? (size_t)(hole - off) : kDataRun;
      if (pread(fd.get(), buf, n, off) != (ssize_t)n) { e = sys_err("reading %s", f.path.c()); break; }
      uint8_t head[12];
      Enc h(head, sizeof head);
      h.u32(f.id);
      h.u64((uint64_t)off);
      e = w.record2(Rec::FdescData, head, sizeof head, buf, n);
      off += (off_t)n;
    }
  }
  free(buf);
  return e;
}

Err write_header(ImageWriter &w, const SetImage &set) {
  ImageHeader h;
  struct utsname u;
  uname(&u);
  h.arch = arch::kImageArch;
  h.big_endian = arch::kBigEndian;
  h.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
  h.time_sec = (uint64_t)time(nullptr);
  h.nr_processes = (uint32_t)set.tree.size();
  snprintf(h.kernel, sizeof h.kernel, "%s", u.release);
  snprintf(h.host, sizeof h.host, "%s", u.nodename);
  TRY(w.preamble());
  TRY(put(w, Rec::Header, encode_header(h, rec_buf, sizeof rec_buf)));
  TRY(put(w, Rec::Tree, encode_tree(set.tree, rec_buf, sizeof rec_buf)));
  for (auto &f : set.fdescs) {
    TRY(put_fdesc(w, f));
    if (f.data_from.size()) TRY(put_fdesc_data(w, f));
  }
  return ok();
}

Err write_metadata(ImageWriter &w, const ProcImage &img) {
  TRY(put(w, Rec::Process, encode_process(img.proc, rec_buf, sizeof rec_buf)));
  for (auto &f : img.files) TRY(put(w, Rec::File, encode_file(f, rec_buf, sizeof rec_buf)));
  TRY(put(w, Rec::Rlimits, encode_rlimits(img.rlimits, rec_buf, sizeof rec_buf)));
  TRY(put(w, Rec::Sigacts, encode_sigacts(img.sigacts, rec_buf, sizeof rec_buf)));
  TRY(put(w, Rec::Mm, encode_mm(img.mm, rec_buf, sizeof rec_buf)));
  for (auto &t : img.threads) TRY(put(w, Rec::Thread, encode_thread(t, rec_buf, sizeof rec_buf)));
  for (auto &s : img.pending) TRY(put(w, Rec::Siginfo, encode_siginfo(s, rec_buf, sizeof rec_buf)));
  for (auto &v : img.vmas) TRY(put(w, Rec::Vma, encode_vma(v, rec_buf, sizeof rec_buf)));
  return write_attrs(w, img.attrs);
}

Err write_end(ImageWriter &w, const SetImage &set) {
  Enc e(rec_buf, sizeof rec_buf);
  e.u64(w.records() + 1);  // records in the image, this END included
  e.u32((uint32_t)set.tree.size());
  return put(w, Rec::End, e.len());  // zombies included
}

// What only a thread itself can tell, by syscalls injected into it. The main
// thread maps a scratch page for the results (all threads share it) and asks
// the process-wide questions too.
Err inject_thread(Remote &rc, ProcImage *img, size_t index) {
  bool main = index == 0;
  ThreadRec *th = &img->threads[index];
  TRY(rc.begin());
  Err e = ok();
  if (main) e = dump_sigacts(rc, &img->sigacts);
  if (!e && main) e = dump_brk(rc, &img->mm);
  if (!e) e = dump_thread_injected(rc, th);
  if (!e) e = dump_attrs_injected(rc, index, &img->attrs);
  Err end = rc.thread().inject_end();
  return e ? e : end;
}

Err dump_injected(FrozenSet &fs, const TreeEntry &te, const ProcMem &mem, Gadget g, ProcImage *img) {
  Tracee *main = fs.find(te.pid);
  TRY(main->inject_begin(g.insn));
  int64_t scratch;
  Err e = main->syscall(SYS_mmap, &scratch, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0);
  if (!e && scratch < 0) e = errf("mmap in process %d: %s", te.pid, strerror((int)-scratch));
  Err end = main->inject_end();
  TRY(e);
  TRY(end);
  g.scratch = (uint64_t)scratch;
  g.scratch_len = 4096;
  for (size_t i = 0; i < te.tids.size() && !e; i++) {
    Remote rc(*fs.find(te.tids[i]), mem, g);
    e = inject_thread(rc, img, i);
  }
  int64_t r;
  Err u = main->inject_begin(g.insn);
  if (!u) u = main->syscall(SYS_munmap, &r, (uint64_t)scratch, 4096);
  Err end2 = main->inject_end();
  return e ? e : u ? u : end2;
}

Err collect_process(FrozenSet &fs, const TreeEntry &te, SetImage &set, DescIndex &idx, ProcImage *img) {
  ProcMem mem;
  TRY(mem.open(te.pid, false));
  TRY(dump_vmas(te.pid, &img->vmas));
  Gadget g;
  TRY(find_syscall_insn(mem, img->vmas, &g.insn));
  for (int tid : te.tids) {
    img->threads.push(ThreadRec());
    TRY(dump_thread(*fs.find(tid), &img->threads.back()));
  }
  TRY(dump_attrs(*fs.find(te.pid), te, set, &img->attrs));
  TRY(dump_injected(fs, te, mem, g, img));
  img->vmas.clear();  // the authoritative layout, read after the scratch page is gone
  TRY(dump_vmas(te.pid, &img->vmas));
  for (int tid : te.tids) TRY(fs.find(tid)->peek_siginfo(false, &img->pending));
  TRY(fs.find(te.pid)->peek_siginfo(true, &img->pending));
  TRY(dump_files(te.pid, set, idx, &img->files, &img->attrs.locks));
  TRY(dump_mapped_files(te.pid, img->vmas, set, idx));
  return dump_process(te.pid, img);
}

// Mappings still shared copy-on-write with the parent come back inherited
// at fork (FORMAT.md, "Inherited mappings"): marked while the set is frozen.
Err mark_all_inherited(SetImage &set) {
  for (size_t k = 0; k < set.procs.size(); k++) {
    int p = parent_in_set(set.tree, k);
    if (p >= 0 && !set.tree[k].zombie())
      TRY(mark_inherited(set.tree[k].pid, set.tree[p].pid, set.procs[k].vmas, set.procs[p].vmas));
  }
  return link_inherited(set);
}

Err collect(FrozenSet &fs, SetImage *set, const DumpOptions &opts, Vec<int> *repaired) {
  DescIndex idx;
  idx.ghost_limit = opts.ghost_limit;
  idx.repaired = repaired;
  idx.tcp_close = opts.tcp_close;
  for (auto &te : fs.tree) {
    TreeEntry copy = {te.pid, te.ppid, te.pgid, te.sid, {}, te.wait_status, Str(te.comm.c(), te.comm.size())};
    for (int t : te.tids) copy.tids.push(t);
    set->tree.push(std::move(copy));
  }
  for (auto &te : fs.tree) {
    TRY(check_abort());
    set->procs.push(ProcImage());
    set->procs.back().proc.pid = te.pid;
    if (!te.zombie()) TRY(collect_process(fs, te, *set, idx, &set->procs.back()));
  }
  TRY(mark_all_inherited(*set));
  Vec<int> external;
  for (int i = 0; i < opts.nr_external; i++) external.push(opts.external[i]);
  return finish_fdescs(*set, external);
}

Err write_pages(ImageWriter &w, SetImage &set, DumpStats *stats) {
  Vec<ShmSaved> dumped_shm;
  for (size_t i = 0; i < set.procs.size(); i++) {
    TRY(check_abort());
    if (set.tree[i].zombie()) continue;  // a zombie has no memory
    ProcImage &img = set.procs[i];
    int parent = parent_in_set(set.tree, i);
    ProcMem mem;
    TRY(mem.open(img.proc.pid, false));
    TRY(dump_pages(img.proc.pid, parent >= 0 ? set.tree[parent].pid : 0, mem, img.vmas, dumped_shm, w));
    TRY(w.record(Rec::ProcEnd, nullptr, 0));
    for (auto &v : img.vmas) {
      stats->saved_bytes += v.saved_bytes;
      stats->mapped_bytes += v.end - v.start;
    }
  }
  return ok();
}
}  // namespace

// A connection waiting in a listener's queue cannot be put back there at
// restore (nothing but the kernel's handshake queues one), so the set is
// released for a moment to let the job accept it, and frozen again: at most
// kBusyTries times, kBusyPauseMs apart (2 s in all), before giving up.
constexpr int kBusyTries = 100, kBusyPauseMs = 20;

Err Dumper::collect_settled(SetImage *set) {
  DumpOptions defaults;
  for (int attempt = 1;; attempt++) {
    TRY(freeze_set(scope_, id_, &frozen_));
    Err e = collect(frozen_, set, opts_ ? *opts_ : defaults, &repaired_);
    if (!e || e.kind != ErrKind::Busy) return e;
    TRY(finish(AfterDump::Run));
    if (attempt == kBusyTries)
      return errf("%s, still after %d s of letting the job run between tries: not supported", e.msg,
                  kBusyTries * kBusyPauseMs / 1000);
    frozen_.tree.clear();
    set->tree.clear();
    set->fdescs.clear();
    set->procs.clear();
    struct timespec pause = {0, kBusyPauseMs * 1000000L};
    nanosleep(&pause, nullptr);
    TRY(check_abort());
  }
}

Err Dumper::freeze_and_write(ImageWriter &w, DumpStats *stats) {
  SetImage set;
  TRY(collect_settled(&set));
  TRY(write_header(w, set));
  for (size_t i = 0; i < set.procs.size(); i++)
    if (!set.tree[i].zombie()) TRY(write_metadata(w, set.procs[i]));
  TRY(write_pages(w, set, stats));
  TRY(write_end(w, set));
  TRY(w.flush());
  stats->processes = (uint32_t)set.tree.size();
  stats->image_bytes = w.bytes();
  return ok();
}

// A process that goes on gets its TCP connections out of repair mode first
// (without a window probe); a killed one closes them silently in it.
Err Dumper::finish(AfterDump how) {
  int sig = how == AfterDump::Kill ? SIGKILL : how == AfterDump::Stop ? SIGSTOP : 0;
  Err first = how == AfterDump::Kill ? ok() : tcp_leave_repair(repaired_);
  repaired_.clear();
  Err r = release_set(frozen_, sig);
  return r ? r : first;
}

// In the worker. After an abort (chkpt interrupted or killed) the target is
// released as it was found, even if the image was complete: with --stop or
// --kill it is neither stopped nor killed, nobody being left to tell that it
// was saved.
Err dump_job(const DumpJob &a) {
  char defname[64];
  snprintf(defname, sizeof defname, "chkpt-%d.img", a.pid);
  TRY(check_abort());
  Output out;
  TRY(out.open(a.out ? a.out : defname, a.out_dir));
  ImageWriter w(out.fd());
  w.set_compress(a.opts.compress);
  Progress progress("chkpt", resident_bytes(a.pid), Progress::kLargeJob);
  if (a.progress) w.set_progress(&progress);
  Dumper d(a.scope, a.pid, &a.opts);
  DumpStats stats;
  Err e = d.freeze_and_write(w, &stats);
  if (a.progress) e ? progress.erase() : progress.done();
  if (!e) e = check_abort();
  if (e) {
    out.abandon();
    Err r = d.finish(AfterDump::Run);  // the target goes on as if nothing happened
    return r ? wrap(e, "%s; releasing the process also failed", r.msg) : e;
  }
  if (a.after == AfterDump::Run) {  // release before the (slow) sync: shorter freeze
    TRY(d.finish(AfterDump::Run));
    return out.commit();
  }
  // --stop and --kill take effect only with a durable image, and not after an abort.
  Err c = out.commit();
  if (!c && abort_requested) c = errf("interrupted: the image is written, but process %d is left running", a.pid);
  if (c) {
    d.finish(AfterDump::Run);
    return c;
  }
  return d.finish(a.after);
}
