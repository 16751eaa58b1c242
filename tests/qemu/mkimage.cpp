// mkimage OUT: write a complete, valid image of a made-up process with this
// build's framing and record encoders (src/image.cpp, src/records.cpp), its
// register blobs in this machine's byte order, records in the order of
// docs/FORMAT.md: HEADER, TREE, PROCESS, RLIMITS, SIGACTS, MM, THREAD, VMA,
// PAGES, PROC_END, END.
//
// It exists for big-endian ppc64, where chkpt runs only under qemu-user, which
// has no ptrace, so chkpt cannot checkpoint anything there: tests/qemu/check.sh
// runs the big-endian build of this under qemu-ppc64-static and checks that the
// little-endian host's `chkpt info` reads the image, and the other way round.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "image.h"
#include "model.h"

namespace {
constexpr int32_t kPid = 4242;
constexpr uint64_t kPage = 65536, kHeap = 0x10000000;
uint8_t buf[kPage + 16384];

Err put(ImageWriter &w, Rec type, size_t len) {
  if (!len) return errf("%s record does not fit", rec_name((uint32_t)type));
  return w.record(type, buf, len);
}

Err put_header(ImageWriter &w) {
  ImageHeader h;
  h.arch = arch::kImageArch;
  h.big_endian = arch::kBigEndian;
  h.page_size = (uint32_t)kPage;
  h.time_sec = 1700000000;
  h.nr_processes = 1;
  snprintf(h.kernel, sizeof h.kernel, "mkimage");
  snprintf(h.host, sizeof h.host, "mkimage-%s", arch::kName);
  TRY(w.preamble());
  TRY(put(w, Rec::Header, encode_header(h, buf, sizeof buf)));
  Vec<TreeEntry> tree;
  TreeEntry te;
  te.pid = te.pgid = te.sid = kPid;
  te.ppid = 1;
  te.tids.push(kPid);
  tree.push(std::move(te));
  return put(w, Rec::Tree, encode_tree(tree, buf, sizeof buf));
}

Err put_process(ImageWriter &w) {
  ProcessRec p;
  p.pid = p.pgid = p.sid = kPid;
  p.ppid = 1;
  p.comm.assign("mkimage", 7);
  p.cwd.assign("/", 1);
  p.exe.assign("/usr/bin/mkimage", 16);
  char cmd[64];
  int n = snprintf(cmd, sizeof cmd, "mkimage%cwritten-on%c%s", 0, 0, arch::kName);
  p.cmdline.assign(cmd, (size_t)n);
  TRY(put(w, Rec::Process, encode_process(p, buf, sizeof buf)));
  TRY(put(w, Rec::Rlimits, encode_rlimits(RlimitsRec(), buf, sizeof buf)));
  TRY(put(w, Rec::Sigacts, encode_sigacts(SigactsRec(), buf, sizeof buf)));
  return put(w, Rec::Mm, encode_mm(MmRec(), buf, sizeof buf));
}

// A thread whose registers count up word by word, in this machine's byte order.
Err put_thread(ImageWriter &w) {
  ThreadRec t;
  t.tid = kPid;
  uint64_t *words = reinterpret_cast<uint64_t *>(&t.regs);
  for (size_t i = 0; i < sizeof t.regs / 8; i++) words[i] = i;
  for (size_t i = 0; i < sizeof t.extra / sizeof t.extra[0]; i++) {
    t.extra[i].nt = arch::kExtraRegsets[i].nt;
    t.extra[i].len = arch::kExtraRegsets[i].max_size < 4096 ? arch::kExtraRegsets[i].max_size : 4096;  // x86 XSAVE: a bound
    t.extra[i].data = static_cast<uint8_t *>(calloc(1, t.extra[i].len));
  }
  return put(w, Rec::Thread, encode_thread(t, buf, sizeof buf));
}

// One anonymous 64 KiB mapping and its page.
Err put_memory(ImageWriter &w) {
  VmaRec v;
  v.start = kHeap;
  v.end = kHeap + kPage;
  v.prot = 3;  // PROT_READ | PROT_WRITE
  v.name.assign("[heap]", 6);
  TRY(put(w, Rec::Vma, encode_vma(v, buf, sizeof buf)));
  uint8_t hdr[16];
  Enc e(hdr, sizeof hdr);
  e.u64(kHeap);
  e.u32(1);
  e.u32(0);
  for (size_t i = 0; i < kPage; i++) buf[i] = (uint8_t)(i * 7);
  TRY(w.record2(Rec::Pages, hdr, sizeof hdr, buf, kPage));
  return w.record(Rec::ProcEnd, nullptr, 0);
}

Err write_image(int fd) {
  ImageWriter w(fd);
  TRY(put_header(w));
  TRY(put_process(w));
  TRY(put_thread(w));
  TRY(put_memory(w));
  Enc e(buf, sizeof buf);
  e.u64(w.records() + 1);  // records in the image, END included
  e.u32(1);
  TRY(put(w, Rec::End, e.len()));
  return w.flush();
}
}  // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: mkimage OUT\n");
    return 2;
  }
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  Err e = write_image(fd);
  if (!e && close(fd) < 0) e = sys_err("close %s", argv[1]);
  if (e) {
    fprintf(stderr, "mkimage: %s\n", e.msg);
    return 1;
  }
  return 0;
}
