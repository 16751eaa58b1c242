// Reading an image: one walker that knows the record order of docs/FORMAT.md
// and checks framing, order and counts, and visitors that act on the records.
// rstrt (restore.cpp), check_image() and `chkpt info` all read through it, so
// the order is known in one place on the reading side (dump.cpp writes it).
#pragma once
#include "base.h"
#include "image.h"
#include "model.h"

class ImageVisitor {
 public:
  // HEADER, decoded (nothing checked against this machine: that is the
  // visitor's choice).
  virtual Err header(ImageReader &rd, const ImageHeader &h) { return ok(); }
  // TREE, decoded and checked (order, zombies, counts).
  virtual Err tree(ImageReader &rd, Vec<TreeEntry> &tree) { return ok(); }
  virtual Err fdesc(ImageReader &rd, const uint8_t *p, uint32_t n) { return ok(); }
  // An FDESC_DATA record after the last FDESC: n bytes of its contents at offset.
  virtual Err fdesc_data(ImageReader &rd, uint64_t offset, const uint8_t *p, uint32_t n) { return ok(); }
  // One metadata record of TREE entry k: PROCESS first, then FILE..VMA in
  // increasing type order (the walker enforces it).
  virtual Err meta(ImageReader &rd, size_t k, uint32_t type, const uint8_t *p, uint32_t n) = 0;
  // All metadata is read; the record after it is read ahead and its checksum
  // verified, so a damaged type there is caught before anything is created.
  virtual Err metadata_done(ImageReader &rd) { return ok(); }
  // The page records of entry k: the first one's header is in *type/*len (it
  // may be PROC_END already). Consume records up to one of another type and
  // leave its header there (restore_pages does).
  virtual Err pages(ImageReader &rd, size_t k, uint32_t *type, uint32_t *len) = 0;
  // END read and its counts checked: the image is complete.
  virtual Err end(ImageReader &rd) { return ok(); }

 protected:
  ~ImageVisitor() = default;
};

// Payloads of an image newer in minor version than this reader may carry
// trailing fields it does not know: decoders accept them.
inline bool newer_minor(const ImageReader &rd) { return rd.minor_version() > kFormatMinor; }

// Walk the whole image from rd, preamble to END. Optional records (type bit
// 31) are skipped wherever they stand.
Err walk_image(ImageReader &rd, ImageVisitor &v);

// The visitor that decodes everything into a SetImage and checks every
// reference inside it against the image itself (descriptions of fds, thread
// ids against TREE, mappings ordered, aligned and in user space) and the
// header against this machine. Page records are checked against the
// mappings but written nowhere; rstrt's visitor derives from it and writes them.
class SetReader : public ImageVisitor {
 public:
  Err header(ImageReader &rd, const ImageHeader &h) override;
  Err tree(ImageReader &rd, Vec<TreeEntry> &tree) override;
  Err fdesc(ImageReader &rd, const uint8_t *p, uint32_t n) override;
  // Checked: the description streams its contents, the runs ascend without
  // overlapping, within its size.
  Err fdesc_data(ImageReader &rd, uint64_t offset, const uint8_t *p, uint32_t n) override;
  Err meta(ImageReader &rd, size_t k, uint32_t type, const uint8_t *p, uint32_t n) override;
  Err metadata_done(ImageReader &rd) override;
  Err pages(ImageReader &rd, size_t k, uint32_t *type, uint32_t *len) override;

  SetImage set;

 protected:
  // The processes before entry k (live ones) that PAGES_FROM may name.
  void sources_before(size_t k, Vec<int> *out) const;
  int parent_pid(size_t k) const;  // 0: its parent is not in the set
  uint64_t mmap_min_addr_ = 0;
  uint64_t data_end_ = 0;  // FDESC_DATA: where the last FDESC's previous run ended
};
