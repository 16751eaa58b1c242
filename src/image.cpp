#include "image.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "codec.h"
#include "crc32c.h"
#include "lz4.h"
#include "net.h"

namespace {
constexpr uint8_t kMagic[4] = {'C', 'R', 'F', 0};
constexpr size_t kBufSize = 64 << 10;

// A failed write says what was being written (the disk may be full).
Err write_image(int fd, const void *p, size_t n) {
  Err e = write_full(fd, p, n);
  return e ? wrap(e, "writing the image") : e;
}
}  // namespace

const char *rec_name(uint32_t type) {
  static const char *const names[] = {"?",   "HEADER", "TREE", "PROCESS", "FILE", "RLIMITS", "SIGACTS",
                                      "MM",  "THREAD", "SIGINFO", "VMA", "PAGES", "PROC_END", "END",
                                      "FDESC", "PAGES_FROM", "PROC_ATTR", "THREAD_ATTR", "TIMER",
                                      "PAGES_LZ4", "?",  "?",    "LOCK", "FDESC_DATA"};
  return type < sizeof names / sizeof *names ? names[type] : "UNKNOWN";
}

size_t encode_header(const ImageHeader &h, uint8_t *buf, size_t cap) {
  Enc e(buf, cap);
  e.u16(h.arch);
  e.u8(h.big_endian);
  e.u8(0);
  e.u32(h.page_size);
  e.u64(h.time_sec);
  e.u32(h.nr_processes);
  e.u32(h.flags);
  e.str(h.kernel);
  e.str(h.host);
  return e.overflow() ? 0 : e.len();
}

bool decode_header(const uint8_t *p, size_t n, ImageHeader *h, bool newer) {
  Dec d(p, n, newer);
  h->arch = d.u16();
  h->big_endian = d.u8();
  d.u8();
  h->page_size = d.u32();
  h->time_sec = d.u64();
  h->nr_processes = d.u32();
  h->flags = d.u32();
  d.str(h->kernel, sizeof h->kernel);
  d.str(h->host, sizeof h->host);
  return d.at_end();
}

void encode_pages_head(const PagesHead &h, uint8_t out[kPagesHeadLen]) {
  Enc e(out, kPagesHeadLen);
  e.u64(h.addr);
  e.u32(h.count);
  e.u32(h.pid);
}

PagesHead decode_pages_head(const uint8_t in[kPagesHeadLen]) {
  Dec d(in, kPagesHeadLen);
  PagesHead h;
  h.addr = d.u64();
  h.count = d.u32();
  h.pid = d.u32();
  return h;
}

// ---- writer ------------------------------------------------------------------

Err ImageWriter::put(const void *p, size_t n) {
  if (!buf_ && !(buf_ = static_cast<uint8_t *>(malloc(kBufSize)))) return errf("out of memory");
  bytes_ += n;
  if (progress_) progress_->add(n);
  if (used_ + n > kBufSize) TRY(flush());
  if (n >= kBufSize) return write_image(fd_, p, n);  // bulk page data goes straight out
  if (n) memcpy(buf_ + used_, p, n);  // p may be null for an empty payload
  used_ += n;
  return ok();
}

Err ImageWriter::flush() {
  if (!used_) return ok();
  Err e = write_image(fd_, buf_, used_);
  used_ = 0;
  return e;
}

Err ImageWriter::preamble() {
  uint8_t b[8];
  memcpy(b, kMagic, 4);
  store_le16(b + 4, kFormatMajor);
  store_le16(b + 6, kFormatMinor);
  return put(b, sizeof b);
}

Err ImageWriter::record2(Rec type, const void *a, size_t an, const void *b, size_t bn) {
  return emit(type, a, an, b, bn, nullptr);
}

Err ImageWriter::record2_crc(Rec type, const void *a, size_t an, const void *b, size_t bn, uint32_t crc) {
  return emit(type, a, an, b, bn, &crc);
}

uint32_t ImageWriter::head_crc(Rec type, const void *a, size_t an, size_t bn) {
  uint8_t frame[8];
  store_le32(frame, (uint32_t)type);
  store_le32(frame + 4, (uint32_t)(an + bn));
  return crc32c(crc32c(0, frame, sizeof frame), a, an);
}

Err ImageWriter::emit(Rec type, const void *a, size_t an, const void *b, size_t bn, const uint32_t *known_crc) {
  if (an + bn > kMaxRecord) return errf("internal: record %s too large", rec_name((uint32_t)type));
  uint8_t frame[8];
  store_le32(frame, (uint32_t)type);
  store_le32(frame + 4, (uint32_t)(an + bn));
  uint32_t crc = known_crc ? *known_crc : head_crc(type, a, an, bn);
  if (!known_crc && bn) crc = crc32c(crc, b, bn);
  uint8_t tail[4];
  store_le32(tail, crc);
  TRY(put(frame, sizeof frame));
  TRY(put(a, an));
  if (bn) TRY(put(b, bn));
  records_++;
  return put(tail, sizeof tail);
}

// ---- reader ------------------------------------------------------------------

Err ImageReader::bad(const char *fmt, ...) {
  char what[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (!in_record_ && !type_) return bad_image("at offset %llu: %s", (unsigned long long)rec_off_, what);
  return bad_image("record %s at offset %llu: %s", rec_name(type_), (unsigned long long)rec_off_, what);
}

Err ImageReader::fill(void *out, size_t n, const char *what) {
  if (!buf_ && !(buf_ = static_cast<uint8_t *>(malloc(kBufSize)))) return errf("out of memory");
  uint8_t *o = static_cast<uint8_t *>(out);
  while (n) {
    if (at_ == have_) {
      // Large reads bypass the buffer (page data straight into the caller's buffer).
      long r = n >= kBufSize ? read_full(fd_, o, n) : read(fd_, buf_, kBufSize);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return sys_err("reading image");
      if (r == 0) return bad("truncated (end of input inside %s)", what);
      off_ += r;
      if (progress_) progress_->add((uint64_t)r);
      if (n >= kBufSize) {
        if ((size_t)r < n) return bad("truncated (end of input inside %s)", what);
        return ok();
      }
      have_ = r;
      at_ = 0;
    }
    size_t k = have_ - at_ < n ? have_ - at_ : n;
    memcpy(o, buf_ + at_, k);
    at_ += k;
    o += k;
    n -= k;
  }
  return ok();
}

Err ImageReader::preamble() {
  uint8_t b[8];
  long got = 0;
  Err e = fill(b, sizeof b, "preamble");
  if (e) return errk(ErrKind::BadImage, "not a chkpt image: too short");
  (void)got;
  if (memcmp(b, kMagic, 4) != 0) return errk(ErrKind::BadImage, "not a chkpt image: bad magic");
  uint16_t major = load_le16(b + 4);
  minor_ = load_le16(b + 6);
  if (major != kFormatMajor)
    return bad_image("format version %u.%u, this chkpt reads %u.x", major, minor_, kFormatMajor);
  return ok();
}

Err ImageReader::next(uint32_t *type, uint32_t *len) {
  if (in_record_) TRY(skip());
  rec_off_ = off_ - (have_ - at_);
  uint8_t frame[8];
  type_ = 0;
  TRY(fill(frame, sizeof frame, "record header"));
  type_ = load_le32(frame);
  left_ = load_le32(frame + 4);
  in_record_ = true;
  if (left_ > kMaxRecord) return bad("length %u exceeds the limit %u", left_, kMaxRecord);
  bool known = (type_ >= (uint32_t)Rec::Header && type_ <= (uint32_t)Rec::PagesLz4) || type_ == (uint32_t)Rec::Lock ||
               type_ == (uint32_t)Rec::FdescData;
  if (!known && !(type_ & kRecOptional)) return bad("unknown record type %u", type_);
  crc_ = crc32c(0, frame, sizeof frame);
  *type = type_;
  *len = left_;
  return ok();
}

Err ImageReader::chunk(void *out, uint32_t n) {
  if (!in_record_ || n > left_) return bad("payload shorter than expected");
  if (ahead_) {
    memcpy(out, ahead_ + ahead_at_, n);
    ahead_at_ += n;
    left_ -= n;
    return ok();
  }
  TRY(fill(out, n, "record payload"));
  crc_ = crc32c(crc_, out, n);
  left_ -= n;
  return ok();
}

Err ImageReader::finish() {
  if (left_) return bad("%u unread payload bytes", left_);
  if (ahead_) {  // checked by verify_ahead()
    free(ahead_);
    ahead_ = nullptr;
    in_record_ = false;
    records_++;
    return ok();
  }
  uint8_t tail[4];
  TRY(fill(tail, sizeof tail, "record checksum"));
  in_record_ = false;
  if (load_le32(tail) != crc_) return bad("checksum mismatch");
  records_++;
  return ok();
}

Err ImageReader::payload(uint8_t *out, uint32_t len) {
  if (len != left_) return bad("length %u, expected %u", left_, len);
  TRY(chunk(out, len));
  return finish();
}

Err ImageReader::verify_ahead() {
  if (!in_record_ || ahead_) return ok();
  uint32_t n = left_;
  uint8_t *p = static_cast<uint8_t *>(malloc(n ? n : 1));
  if (!p) return errf("out of memory");
  Err e = chunk(p, n);
  uint8_t tail[4];
  if (!e) e = fill(tail, sizeof tail, "record checksum");
  if (!e && load_le32(tail) != crc_) e = bad("checksum mismatch");
  if (e) {
    free(p);
    in_record_ = false;
    return e;
  }
  ahead_ = p;
  ahead_at_ = 0;
  left_ = n;
  return ok();
}

Err ImageReader::skip() {
  uint8_t tmp[512];
  while (left_) TRY(chunk(tmp, left_ < sizeof tmp ? left_ : sizeof tmp));
  return finish();
}

Err read_pages_lz4(ImageReader &rd, uint32_t len, uint64_t bytes, uint8_t *zbuf, uint8_t *out) {
  if (bytes > kMaxPagesBytes || len < kPagesHeadLen || len - kPagesHeadLen >= bytes)
    return rd.bad("bad page run length");
  const uint32_t n = len - kPagesHeadLen;
  TRY(rd.chunk(zbuf, n));
  TRY(rd.finish());
  const char *why = lz4_unframe(zbuf, n, out, bytes);
  return why ? rd.bad("%s", why) : ok();
}
