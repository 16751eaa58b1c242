// SHA-256 on ppc64: no accelerated compression here (POWER8's vshasigmaw only
// computes the sigma functions); src/sha256.cpp uses its portable one.
#include "sha256.h"

bool sha256_blocks_accel(uint32_t *, const uint8_t *, size_t) { return false; }
