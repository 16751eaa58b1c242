// The image format (docs/FORMAT.md): an 8-byte preamble (magic "CRF\0", major and
// minor version), then typed records, each framed as
//   u32 type | u32 length | payload[length] | u32 crc32c(type, length, payload)
// ending with an END record. All framing and payload integers are little-endian.
// The format is sequential with no back references, so it can be written to and
// read from pipes, sockets and serial lines; the writer and reader hold one small
// buffer, never the whole image.
#pragma once
#include <stdint.h>

#include "base.h"

constexpr uint16_t kFormatMajor = 2;  // 2: FDESC is a head and a payload of its kind
constexpr uint16_t kFormatMinor = 2;  // 1: VMA inherited, page groups with inherited mappings first; zombies' names in TREE
                                      // 2: PAGES_LZ4, LOCK, FDESC_DATA, epoll targets' descriptions, ... (FORMAT.md)
constexpr uint32_t kMaxRecord = 16u << 20;   // sanity bound on any record's length
constexpr uint32_t kMaxPagesBytes = 256u << 10;  // page data per PAGES record (>= 1 page)
// Record types with this bit set may be skipped by a reader that does not know them.
constexpr uint32_t kRecOptional = 0x80000000u;

enum class Rec : uint32_t {
  Header = 1,   // format header: arch, byte order, page size, kernel, host, time
  Tree = 2,     // the process set: per process pid, ppid, pgid, sid, threads
  Process = 3,  // start of one process's metadata: identity, cwd, umask, exe, command line
  File = 4,     // one open file descriptor
  Rlimits = 5,  // all resource limits
  Sigacts = 6,  // signal dispositions
  Mm = 7,       // mm fields for PR_SET_MM_MAP and the auxv
  Thread = 8,   // one thread: registers, extra register sets, signal mask, altstack, rseq
  Siginfo = 9,  // one pending signal (thread or shared queue)
  Vma = 10,     // one memory mapping
  Pages = 11,   // page contents: address, count, data
  ProcEnd = 12, // end of one process's page data
  End = 13,     // end of image: record count
  Fdesc = 14,   // one open file description shared by fds of the set (with queued data)
  PagesFrom = 15,  // pages whose content equals the same pages of an earlier process (COW)
  ProcAttr = 16,   // dumpable, child subreaper, group stop, interval timers (procattr.h)
  ThreadAttr = 17, // one thread: credentials, capabilities, securebits, pdeathsig, scheduling, affinity
  Timer = 18,      // one POSIX timer
  PagesLz4 = 19,   // PAGES with the data as one LZ4 frame (chkpt --compress)
  Lock = 22,       // one file lock (POSIX, OFD or flock)
  FdescData = 23,  // contents of the FDESC before it (a large memfd), one run
};
const char *rec_name(uint32_t type);

struct ImageHeader {
  uint16_t arch = 0;
  uint8_t big_endian = 0;  // byte order of the register blobs (all else is little-endian)
  uint32_t page_size = 0;
  uint64_t time_sec = 0;
  uint32_t nr_processes = 0;
  uint32_t flags = 0;
  char kernel[65] = {};
  char host[65] = {};
};
size_t encode_header(const ImageHeader &h, uint8_t *buf, size_t cap);
bool decode_header(const uint8_t *p, size_t n, ImageHeader *h, bool newer = false);

// PAGES and PAGES_FROM payloads start with this head: u64 address, u32 count
// (pages), u32 pid (PAGES_FROM: the process whose pages these equal; PAGES: 0).
struct PagesHead {
  uint64_t addr = 0;
  uint32_t count = 0, pid = 0;
};
constexpr uint32_t kPagesHeadLen = 16;
void encode_pages_head(const PagesHead &h, uint8_t out[kPagesHeadLen]);
PagesHead decode_pages_head(const uint8_t in[kPagesHeadLen]);

// The rest of a PAGES_LZ4 record (after its head, len bytes in all) into
// out, which it must fill exactly (bytes); zbuf holds the frame (at least
// bytes long). The record is finished (its CRC checked) before it is decoded.
class ImageReader;
Err read_pages_lz4(ImageReader &rd, uint32_t len, uint64_t bytes, uint8_t *zbuf, uint8_t *out);

// Buffered record writer onto any fd.
class Progress;  // net.h

class ImageWriter {
 public:
  explicit ImageWriter(int fd) : fd_(fd) {}
  ImageWriter(const ImageWriter &) = delete;
  ~ImageWriter() { free(buf_); }
  Err preamble();
  Err record(Rec type, const void *p, size_t n) { return record2(type, p, n, nullptr, 0); }
  // One record whose payload is a followed by b (a header and bulk data).
  Err record2(Rec type, const void *a, size_t an, const void *b, size_t bn);
  // The same with the record's checksum computed by the caller (from
  // head_crc and b's checksum: crc32c.h, Crc32cShift).
  Err record2_crc(Rec type, const void *a, size_t an, const void *b, size_t bn, uint32_t crc);
  // The checksum of a record's frame and a, b (of bn bytes) not yet included.
  static uint32_t head_crc(Rec type, const void *a, size_t an, size_t bn);
  Err flush();
  uint64_t bytes() const { return bytes_; }
  uint64_t records() const { return records_; }
  void set_progress(Progress *p) { progress_ = p; }  // told of every byte written
  // Page data as PAGES_LZ4 where it compresses (chkpt --compress).
  void set_compress(bool on) { compress_ = on; }
  bool compress() const { return compress_; }

 private:
  Progress *progress_ = nullptr;
  bool compress_ = false;
  Err put(const void *p, size_t n);
  Err emit(Rec type, const void *a, size_t an, const void *b, size_t bn, const uint32_t *known_crc);
  int fd_;
  uint8_t *buf_ = nullptr;
  size_t used_ = 0;
  uint64_t bytes_ = 0, records_ = 0;
};

// Sequential record reader. next() reads a frame header; then either payload()
// for the whole payload, or chunk() repeatedly followed by finish().
class ImageReader {
 public:
  explicit ImageReader(int fd) : fd_(fd) {}
  ImageReader(const ImageReader &) = delete;
  ~ImageReader() { free(buf_); free(ahead_); }
  Err preamble();
  Err next(uint32_t *type, uint32_t *len);
  Err payload(uint8_t *out, uint32_t len);  // len must equal the frame's length
  Err chunk(void *out, uint32_t n);
  Err finish();
  // Skip the rest of the current record (CRC still checked).
  Err skip();
  // Read the rest of the current record now and check its CRC; chunk() and
  // finish() then take it from memory. rstrt does this to the record that ends
  // the metadata, whose type alone decided that: a damaged type there is then
  // caught before any process exists.
  Err verify_ahead();
  uint64_t record_offset() const { return rec_off_; }
  uint32_t record_type() const { return type_; }
  uint64_t records() const { return records_; }
  uint16_t minor_version() const { return minor_; }
  void set_progress(Progress *p) { progress_ = p; }  // told of every byte read
  // "bad image: record PAGES at offset 123: ..." for any problem in the current record.
  Err bad(const char *fmt, ...) __attribute__((format(printf, 2, 3)));

 private:
  Err fill(void *out, size_t n, const char *what);
  Progress *progress_ = nullptr;
  int fd_;
  uint8_t *buf_ = nullptr;
  size_t have_ = 0, at_ = 0;
  uint64_t off_ = 0, rec_off_ = 0, records_ = 0;
  uint32_t type_ = 0, left_ = 0, crc_ = 0;
  uint16_t minor_ = 0;
  bool in_record_ = false;
  uint8_t *ahead_ = nullptr;  // verify_ahead(): the current payload, checked
  uint32_t ahead_at_ = 0;
};
