// Checkpoint of one process: freeze, read everything while it is frozen, write
// the records in the order docs/FORMAT.md gives, and leave the target as asked.
#include "dump.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "model.h"
#include "process.h"
#include "ptrace.h"

namespace {
uint8_t rec_buf[kMaxRecord > (1 << 20) ? (1 << 20) : kMaxRecord];

Err put(ImageWriter &w, Rec type, size_t len) {
  if (!len) return errf("internal: %s record does not fit", rec_name((uint32_t)type));
  return w.record(type, rec_buf, len);
}

Err write_header(ImageWriter &w, const ProcImage &img) {
  ImageHeader h;
  struct utsname u;
  uname(&u);
  h.arch = arch::kImageArch;
  h.big_endian = arch::kBigEndian;
  h.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
  h.time_sec = (uint64_t)time(nullptr);
  h.nr_processes = 1;
  snprintf(h.kernel, sizeof h.kernel, "%s", u.release);
  snprintf(h.host, sizeof h.host, "%s", u.nodename);
  TRY(w.preamble());
  TRY(put(w, Rec::Header, encode_header(h, rec_buf, sizeof rec_buf)));
  Enc e(rec_buf, sizeof rec_buf);  // TREE: the process set (one process, one thread for now)
  e.u32(1);
  e.u32(img.proc.pid); e.u32(img.proc.ppid); e.u32(img.proc.pgid); e.u32(img.proc.sid);
  e.u32(1); e.u32(img.proc.pid);
  return put(w, Rec::Tree, e.overflow() ? 0 : e.len());
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
  return ok();
}

Err write_trailer(ImageWriter &w) {
  TRY(w.record(Rec::ProcEnd, nullptr, 0));
  Enc e(rec_buf, sizeof rec_buf);
  e.u64(w.records() + 1);  // records in the image, this END included
  e.u32(1);
  return put(w, Rec::End, e.len());
}

// What only the process itself can tell: run a few syscalls inside it with a
// scratch page mapped for their results, then put everything back.
Err dump_injected(Tracee &t, const ProcMem &mem, const Gadget &base, ProcImage *img) {
  int64_t scratch;
  TRY(t.syscall(SYS_mmap, &scratch, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0));
  if (scratch < 0) return errf("mmap in the target: %s", strerror((int)-scratch));
  Gadget g = base;
  g.scratch = (uint64_t)scratch;
  g.scratch_len = 4096;
  Err e = dump_sigacts(t, mem, g, &img->sigacts);
  if (!e) e = dump_thread_injected(t, mem, g, &img->threads[0]);
  if (!e) e = dump_brk(t, g, &img->mm);
  int64_t r;
  Err u = t.syscall(SYS_munmap, &r, (uint64_t)scratch, 4096);
  return e ? e : u;
}

Err collect(int pid, Tracee &t, ProcImage *img) {
  ProcMem mem;
  TRY(mem.open(pid, false));
  TRY(dump_vmas(pid, &img->vmas));
  Gadget g;
  TRY(find_syscall_insn(mem, img->vmas, &g.insn));
  img->threads.push(ThreadRec());
  TRY(dump_thread(t, mem, g, &img->threads[0]));
  TRY(t.inject_begin(g.insn));
  Err e = dump_injected(t, mem, g, img);
  Err end = t.inject_end();
  TRY(e);
  TRY(end);
  img->vmas.clear();  // the authoritative layout, read after the scratch page is gone
  TRY(dump_vmas(pid, &img->vmas));
  TRY(dump_pending(t, &img->pending));
  TRY(dump_files(pid, &img->files));
  return dump_process(pid, img);
}
}  // namespace

Err Dumper::freeze_and_write(ImageWriter &w, DumpStats *stats) {
  TRY(check_target(pid_));
  Tracee t(pid_);
  TRY(t.seize_and_freeze());
  frozen_ = true;
  ProcImage img;
  TRY(collect(pid_, t, &img));
  TRY(write_header(w, img));
  TRY(write_metadata(w, img));
  ProcMem mem;
  TRY(mem.open(pid_, false));
  TRY(dump_pages(pid_, mem, img.vmas, w));
  TRY(write_trailer(w));
  TRY(w.flush());
  for (auto &v : img.vmas) {
    stats->saved_bytes += v.saved_bytes;
    stats->mapped_bytes += v.end - v.start;
  }
  stats->image_bytes = w.bytes();
  return ok();
}

Err Dumper::finish(AfterDump how) {
  if (!frozen_) return ok();
  frozen_ = false;
  Tracee t(pid_);
  if (how == AfterDump::Kill) {
    if (kill(pid_, SIGKILL) < 0) return sys_err("kill %d", pid_);
    return ok();
  }
  return t.detach(how == AfterDump::Stop ? SIGSTOP : 0);
}
