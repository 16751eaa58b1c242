// LZ4 for page data (chkpt --compress, PAGES_LZ4 records: docs/FORMAT.md).
// A small greedy compressor and a decompressor for untrusted input, in the
// standard formats (lz4's doc/lz4_Block_format.md and lz4_Frame_format.md),
// so `lz4 -d` reads what is written; no liblz4 in the product.
#pragma once
#include <stddef.h>
#include <stdint.h>

// The compressor's hash table (caller's memory, uint32_t entries).
constexpr size_t kLz4TableEntries = 1u << 12;
// The frame around one block: magic 04 22 4D 18, FLG 0x60 (version 1,
// independent blocks, no checksums, no content size), BD 0x50 (blocks of up
// to 256 KiB), header checksum 0xFB; u32 block size; the block; u32 0 (end mark).
constexpr size_t kLz4FrameOverhead = 7 + 4 + 4;
constexpr size_t kLz4MaxData = 256u << 10;  // BD 0x50: the most one frame holds here

// One LZ4 block of src[0, n) into dst: its length, or 0 if it needs more than
// cap bytes (the data does not compress enough).
size_t lz4_compress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap, uint32_t *table);
// Decode block src[0, n) into dst, which it must fill exactly (out_n bytes):
// null, or why not (every length and offset is checked against both buffers).
const char *lz4_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t out_n);

// The same as one LZ4 frame of one compressed block (n <= kLz4MaxData).
size_t lz4_frame(const uint8_t *src, size_t n, uint8_t *dst, size_t cap, uint32_t *table);
// Only the exact frame lz4_frame writes is accepted.
const char *lz4_unframe(const uint8_t *src, size_t n, uint8_t *dst, size_t out_n);
