// chkpt info: what an image holds (like IRIX's ckpt_stat). It reads every record
// and checks every checksum, so it also verifies an image. It decodes nothing
// architecture-specific, so any host can inspect any image.
static const char kHelp[] =
    "usage: chkpt info [--list|--json] IMAGE|DIR|-\n"
    "\n"
    "Show an image's format version, architecture, kernel release, host and time of\n"
    "checkpoint, and per process: command line, PID/PPID, PGRP/SID, cwd, open files,\n"
    "threads, mapped and saved memory. Every record's checksum is verified.\n"
    "DIR (chkpt --every): its newest generation that rstrt would restore.\n"
    "  --list     for programs (libchkpt's ckpt_stat): one line per process,\n"
    "             tab-separated, after the line \"image MAJOR MINOR PROCESSES\":\n"
    "             \"proc PID PPID PGRP SID UID GID FILES THREADS CWD COMMAND\"\n"
    "             (COMMAND: the arguments separated by spaces; a tab, newline\n"
    "             or other control character in CWD or COMMAND shows as ?)\n"
    "  --json     the same as one JSON object, schema 1 (chkpt(1), JSON OUTPUT):\n"
    "             the header's fields, \"externals\" and \"processes\"\n"
    "Exit status: 0 for a good image, 2 for a bad one, 1 for other errors.\n";

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base.h"
#include "codec.h"
#include "commands.h"
#include "image.h"
#include "imgread.h"
#include "model.h"
#include "options.h"
#include "output.h"

namespace {
enum class Mode { Human, List, Json };

struct ProcSummary {
  bool live = false;  // zombies have no metadata
  ProcessRec proc;
  uint32_t files = 0, threads = 0, vmas = 0, pending = 0;
  uint64_t mapped = 0, saved = 0, shared = 0;  // shared: pages still shared copy-on-write with the parent
  uint64_t lz4 = 0, lz4_stored = 0;  // saved bytes held as PAGES_LZ4, and the size of their frames
};

// A command line (NUL-separated arguments) or path, printable and on one line.
void print_clean(const Str &c) {
  for (size_t i = 0; i < c.size(); i++) {
    char ch = c.c()[i];
    outf(1, "%c", ch ? (ch >= 32 && ch < 127 ? ch : '?') : ' ');
  }
}

void print_cmdline(const Str &c) {
  outf(1, "  command:  ");
  print_clean(c);
  outf(1, "\n");
}

void print_proc_line(const ProcSummary &s) {
  const ProcessRec &p = s.proc;
  outf(1, "proc\t%d\t%d\t%d\t%d\t%u\t%u\t%u\t%u\t", p.pid, p.ppid, p.pgid, p.sid, p.uid, p.gid, s.files, s.threads);
  print_clean(p.cwd);
  outf(1, "\t");
  print_clean(p.cmdline);
  outf(1, "\n");
}

// A JSON string: quotes, backslashes and every byte that is not printable
// ASCII escaped (\u00XX: the byte's value, for names that are not UTF-8).
void json_str(const char *s, size_t n) {
  outf(1, "\"");
  for (size_t i = 0; i < n; i++) {
    uint8_t ch = (uint8_t)s[i];
    if (ch == '"' || ch == '\\') outf(1, "\\%c", ch);
    else if (ch >= 32 && ch < 127) outf(1, "%c", ch);
    else outf(1, "\\u%04x", ch);
  }
  outf(1, "\"");
}
void json_str(const Str &s) { json_str(s.c(), s.size()); }

// The arguments of a command line (NUL-separated) as a JSON array.
void json_args(const Str &c) {
  outf(1, "[");
  size_t start = 0;
  for (size_t i = 0; i <= c.size(); i++) {
    if (i < c.size() && c.c()[i]) continue;
    if (i > start || i < c.size()) {
      outf(1, "%s", start ? ", " : "");
      json_str(c.c() + start, i - start);
    }
    start = i + 1;
  }
  outf(1, "]");
}

void json_proc(const ProcSummary &s, bool first) {
  const ProcessRec &p = s.proc;
  outf(1, "%s\n    {\"pid\": %d, \"ppid\": %d, \"pgid\": %d, \"sid\": %d, \"uid\": %u, \"gid\": %u, \"comm\": ",
       first ? "" : ",", p.pid, p.ppid, p.pgid, p.sid, p.uid, p.gid);
  json_str(p.comm);
  outf(1, ", \"cmdline\": ");
  json_args(p.cmdline);
  outf(1, ", \"cwd\": ");
  json_str(p.cwd);
  outf(1, ", \"exe\": ");
  json_str(p.exe);
  outf(1, ", \"files\": %u, \"threads\": %u, \"pending_signals\": %u, \"mappings\": %u, ", s.files, s.threads, s.pending,
       s.vmas);
  outf(1, "\"mapped_bytes\": %llu, \"saved_bytes\": %llu, \"shared_bytes\": %llu, ", (unsigned long long)s.mapped,
       (unsigned long long)s.saved, (unsigned long long)s.shared);
  outf(1, "\"lz4_bytes\": %llu, \"lz4_stored_bytes\": %llu}", (unsigned long long)s.lz4,
       (unsigned long long)s.lz4_stored);
}

void json_header(const char *path, uint16_t minor, const ImageHeader &h) {
  outf(1, "{\"schema\": 1, \"image\": ");
  json_str(path, strlen(path));
  outf(1, ", \"format\": {\"major\": %u, \"minor\": %u}, \"arch\": \"%s\", \"big_endian\": %s, \"page_size\": %u,\n",
       kFormatMajor, minor, arch_name(h.arch), h.big_endian ? "true" : "false", h.page_size);
  outf(1, "  \"kernel\": ");
  json_str(h.kernel, strlen(h.kernel));
  outf(1, ", \"host\": ");
  json_str(h.host, strlen(h.host));
  outf(1, ", \"time\": %llu, \"nr_processes\": %u,\n", (unsigned long long)h.time_sec, h.nr_processes);
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
  char mapped[32], saved[32], shared[32];
  outf(1, "  memory:   %u mappings, %s mapped, %s saved, %s shared with the parent\n", s.vmas,
       human(s.mapped, mapped, sizeof mapped), human(s.saved, saved, sizeof saved), human(s.shared, shared, sizeof shared));
  if (s.lz4)
    outf(1, "  compressed: %s of it in %s (LZ4, %.0f%%)\n", human(s.lz4, saved, sizeof saved),
         human(s.lz4_stored, mapped, sizeof mapped), 100.0 * (double)s.lz4_stored / (double)s.lz4);
}

// Seconds since 1970 as a UTC date, by the days-to-civil arithmetic of the
// proleptic Gregorian calendar (400-year eras of 146097 days, years starting
// in March so that the leap day ends them): neither strftime nor gmtime_r,
// which pull musl's time zone code in. Years 1970..9999 only.
bool utc_date(uint64_t secs, char *out, size_t cap) {
  if (secs >= 253402300800ull) return false;  // 10000-01-01
  uint64_t days = secs / 86400, sod = secs % 86400;
  uint64_t z = days + 719468;  // days since 0000-03-01
  uint64_t era = z / 146097, doe = z % 146097;
  uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  uint64_t mp = (5 * doy + 2) / 153;
  unsigned day = (unsigned)(doy - (153 * mp + 2) / 5 + 1), month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  unsigned year = (unsigned)(yoe + era * 400 + (month <= 2));
  snprintf(out, cap, "%04u-%02u-%02u %02u:%02u:%02u UTC", year, month, day, (unsigned)(sod / 3600),
           (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
  return true;
}

void print_header(const char *path, const ImageReader &rd, const ImageHeader &h) {
  char when[64];
  if (!utc_date(h.time_sec, when, sizeof when))
    snprintf(when, sizeof when, "%llu s after the epoch", (unsigned long long)h.time_sec);
  outf(1, "image:      %s\nformat:     %u.%u\n", path, kFormatMajor, rd.minor_version());
  outf(1, "arch:       %s (%s-endian), page size %u\n", arch_name(h.arch), h.big_endian ? "big" : "little", h.page_size);
  outf(1, "kernel:     %s\nhost:       %s\ntime:       %s\nprocesses:  %u\n", h.kernel, h.host, when, h.nr_processes);
}

// Every record is read through the walker (imgread.h), so every checksum and
// the record order are checked as rstrt checks them. Only arch-neutral
// records are decoded: any host can inspect any image.
class Summary : public ImageVisitor {
 public:
  Summary(const char *path, Mode mode) : path_(path), mode_(mode) {}
  Err header(ImageReader &rd, const ImageHeader &h) override {
    page_ = h.page_size;
    if (mode_ == Mode::List) outf(1, "image\t%u\t%u\t%u\n", kFormatMajor, rd.minor_version(), h.nr_processes);
    else if (mode_ == Mode::Json) { head = h; minor = rd.minor_version(); }  // printed once the image is known good
    else print_header(path_, rd, h);
    return ok();
  }
  Err tree(ImageReader &rd, Vec<TreeEntry> &tree) override {
    for (size_t k = 0; k < tree.size(); k++) procs.push(ProcSummary());
    return ok();
  }
  // What rstrt must supply: external fds (a pipe or socket that led outside).
  Err fdesc(ImageReader &rd, const uint8_t *p, uint32_t n) override {
    FdescRec f;
    if (!decode_fdesc(p, n, &f, newer_minor(rd))) return rd.bad("malformed");
    if (f.kind != FileKind::External || mode_ == Mode::List) return ok();
    Dec d = payload_of(f);
    uint32_t fd = d.u32();
    if (mode_ == Mode::Json) {
      external_fds.push(fd);
      external_was.push(Str(f.path.c(), f.path.size()));
      return ok();
    }
    outf(1, "external:   fd %u (was %s): rstrt's own fd %u, or --inherit-fd %u=...\n", fd, f.path.c(), fd, fd);
    return ok();
  }
  Err meta(ImageReader &rd, size_t k, uint32_t type, const uint8_t *p, uint32_t n) override {
    ProcSummary &s = procs[k];
    s.live = true;
    if (type == (uint32_t)Rec::Process) return decode_process(p, n, &s.proc, newer_minor(rd)) ? ok() : rd.bad("malformed");
    if (type == (uint32_t)Rec::Vma) {
      VmaRec v;
      if (!decode_vma(p, n, &v, newer_minor(rd))) return rd.bad("malformed");
      s.vmas++;
      s.mapped += v.end - v.start;
    }
    s.files += type == (uint32_t)Rec::File;
    s.threads += type == (uint32_t)Rec::Thread;
    s.pending += type == (uint32_t)Rec::Siginfo;
    return ok();
  }
  // PAGES_LZ4 is decoded too: a bad frame is a bad image here as in rstrt.
  Err pages(ImageReader &rd, size_t k, uint32_t *type, uint32_t *len) override {
    while (*type == (uint32_t)Rec::Pages || *type == (uint32_t)Rec::PagesFrom || *type == (uint32_t)Rec::PagesLz4) {
      uint8_t hdr[kPagesHeadLen];
      if (*len < sizeof hdr) return rd.bad("too short");
      TRY(rd.chunk(hdr, sizeof hdr));
      PagesHead h = decode_pages_head(hdr);
      const uint64_t bytes = (uint64_t)h.count * page_;
      if (*type == (uint32_t)Rec::PagesLz4) {
        if (!z_ && !(z_ = static_cast<uint8_t *>(malloc(2 * kMaxPagesBytes)))) return errf("out of memory");
        TRY(read_pages_lz4(rd, *len, bytes, z_, z_ + kMaxPagesBytes));
        procs[k].saved += bytes;
        procs[k].lz4 += bytes;
        procs[k].lz4_stored += *len - sizeof hdr;
      } else {
        if (*type == (uint32_t)Rec::Pages) procs[k].saved += *len - sizeof hdr;
        else procs[k].shared += bytes;
        TRY(rd.skip());
      }
      TRY(rd.next(type, len));
    }
    return ok();
  }
  ~Summary() { free(z_); }
  Vec<ProcSummary> procs;
  ImageHeader head;  // JSON: what header() saw
  uint16_t minor = 0;
  Vec<uint32_t> external_fds;
  Vec<Str> external_was;

 private:
  const char *path_;
  Mode mode_;
  uint32_t page_ = 0;
  uint8_t *z_ = nullptr;  // a frame and what it decodes to
};

void json_externals(const Summary &s) {
  outf(1, "  \"externals\": [");
  for (size_t i = 0; i < s.external_fds.size(); i++) {
    outf(1, "%s{\"fd\": %u, \"was\": ", i ? ", " : "", s.external_fds[i]);
    json_str(s.external_was[i]);
    outf(1, "}");
  }
  outf(1, "],\n  \"processes\": [");
}

// JSON: nothing is printed before the image is known good, so a bad one
// gives no half object.
Err show(const char *path, Mode mode) {
  Fd in;
  TRY(open_input(path, &in));
  ImageReader rd(in.get());
  Summary s(path, mode);
  TRY(walk_image(rd, s));
  if (mode == Mode::Json) {
    json_header(path, s.minor, s.head);
    json_externals(s);
  }
  bool first = true;
  for (auto &p : s.procs) {
    if (!p.live) continue;
    if (mode == Mode::Json) json_proc(p, first);
    else if (mode == Mode::List) print_proc_line(p);
    else print_proc(p);
    first = false;
  }
  if (mode == Mode::Json) outf(1, "\n  ]\n}\n");
  return ok();
}
}  // namespace

int info_main(int argc, char **argv) {
  const char *path = nullptr;
  const Positional args[] = {{"image", &path, true}};
  int mode = (int)Mode::Human;
  const Option opts[] = {opt_flag("--list", &mode, (int)Mode::List), opt_flag("--json", &mode, (int)Mode::Json)};
  bool help = false;
  Err e = parse_cmdline(argc, argv, opts, args, &help);
  if (help) { outf(1, "%s", kHelp); return 0; }
  if (!e) e = show(path, (Mode)mode);
  return e ? fail("chkpt info", e) : 0;
}
