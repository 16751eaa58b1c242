// CRC32C on ppc64: src/crc32c.cpp's software slicing-by-8. (POWER8's vpmsum
// carry-less multiply could fold 16 bytes at a time, at the price of a large
// constant table and code this binary, at 0.99 of its size budget, cannot
// afford.)
#include "crc32c.h"

bool crc32c_accel_present() { return false; }
bool crc32c_accel(uint32_t *, const uint8_t *, size_t) { return false; }
