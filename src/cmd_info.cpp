// chkpt info: what an image holds (like IRIX's ckpt_stat). It reads every record
// and checks every checksum, so it also verifies an image. It decodes nothing
// architecture-specific, so any host can inspect any image.
static const char kHelp[] =
    "usage: chkpt info IMAGE|-\n"
    "\n"
    "Show an image's format version, architecture, kernel release, host and time of\n"
    "checkpoint, and per process: command line, PID/PPID, PGRP/SID, cwd, open files,\n"
    "threads, mapped and saved memory. Every record's checksum is verified.\n"
    "Exit status: 0 for a good image, 2 for a bad one, 1 for other errors.\n";

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base.h"
#include "codec.h"
#include "commands.h"
#include "image.h"
#include "model.h"
#include "output.h"

namespace {
uint8_t buf[1 << 20];

struct ProcSummary {
  ProcessRec proc;
  uint32_t files = 0, threads = 0, vmas = 0, pending = 0;
  uint64_t mapped = 0, saved = 0;
};

void print_cmdline(const Str &c) {
  outf(1, "  command:  ");
  for (size_t i = 0; i < c.size(); i++) {
    char ch = c.c()[i];
    outf(1, "%c", ch ? (ch >= 32 && ch < 127 ? ch : '?') : ' ');
  }
  outf(1, "\n");
}

// "1.5 MiB", "12 KiB": sizes as a person reads them.
const char *human(uint64_t bytes, char *buf, size_t cap) {
  if (bytes >= (1u << 20)) snprintf(buf, cap, "%.1f MiB", bytes / 1048576.0);
  else snprintf(buf, cap, "%llu KiB", (unsigned long long)(bytes >> 10));
  return buf;
}

void print_proc(const ProcSummary &s) {
  const ProcessRec &p = s.proc;
  outf(1, "process %d (%s)\n", p.pid, p.comm.c());
  print_cmdline(p.cmdline);
  outf(1, "  pid %d  ppid %d  pgrp %d  sid %d  uid %u  gid %u\n", p.pid, p.ppid, p.pgid, p.sid, p.uid, p.gid);
  outf(1, "  cwd:      %s\n  program:  %s\n", p.cwd.c(), p.exe.c());
  outf(1, "  files:    %u open\n  threads:  %u\n  signals:  %u pending\n", s.files, s.threads, s.pending);
  char mapped[32], saved[32];
  outf(1, "  memory:   %u mappings, %s mapped, %s saved\n", s.vmas, human(s.mapped, mapped, sizeof mapped),
       human(s.saved, saved, sizeof saved));
}

void print_header(const char *path, const ImageReader &rd, const ImageHeader &h) {
  char when[64];
  time_t t = (time_t)h.time_sec;
  struct tm tm;
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
  outf(1, "image:      %s\nformat:     %u.%u\n", path, kFormatMajor, rd.minor_version());
  outf(1, "arch:       %s (%s-endian), page size %u\n", arch_name(h.arch), h.big_endian ? "big" : "little", h.page_size);
  outf(1, "kernel:     %s\nhost:       %s\ntime:       %s\nprocesses:  %u\n", h.kernel, h.host, when, h.nr_processes);
}

Err summarize(ImageReader &rd, uint32_t type, uint32_t len, ProcSummary *s) {
  switch ((Rec)type) {
    case Rec::Process:
      TRY(rd.payload(buf, len));
      if (!decode_process(buf, len, &s->proc)) return rd.bad("malformed");
      return ok();
    case Rec::Vma: {
      TRY(rd.payload(buf, len));
      VmaRec v;
      if (!decode_vma(buf, len, &v)) return rd.bad("malformed");
      s->vmas++;
      s->mapped += v.end - v.start;
      return ok();
    }
    case Rec::Pages: s->saved += len >= 16 ? len - 16 : 0; break;
    case Rec::File: s->files++; break;
    case Rec::Thread: s->threads++; break;
    case Rec::Siginfo: s->pending++; break;
    default: break;
  }
  return rd.skip();
}

Err show(const char *path) {
  Fd in;
  TRY(open_input(path, &in));
  ImageReader rd(in.get());
  TRY(rd.preamble());
  uint32_t type, len;
  TRY(rd.next(&type, &len));
  if (type != (uint32_t)Rec::Header || len > sizeof buf) return rd.bad("expected HEADER first");
  TRY(rd.payload(buf, len));
  ImageHeader h;
  if (!decode_header(buf, len, &h)) return rd.bad("malformed");
  print_header(path, rd, h);
  ProcSummary s;
  for (;;) {
    TRY(rd.next(&type, &len));
    if (type == (uint32_t)Rec::End) return rd.skip();
    if (type == (uint32_t)Rec::ProcEnd) {
      TRY(rd.skip());
      print_proc(s);
      s = ProcSummary();
      continue;
    }
    if (len > sizeof buf && type != (uint32_t)Rec::Pages) return rd.bad("too large");
    TRY(summarize(rd, type, len, &s));
  }
}
}  // namespace

int info_main(int argc, char **argv) {
  if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) { outf(1, "%s", kHelp); return 0; }
  if (argc != 2) { complain("chkpt info", "give one image (see --help)"); return 1; }
  Err e = show(argv[1]);
  if (e) {
    complain("chkpt info", e.msg);
    return strncmp(e.msg, "bad image", 9) == 0 || strncmp(e.msg, "not a chkpt image", 17) == 0 ? 2 : 1;
  }
  return 0;
}
