// SHA-256 without CPU instructions for it (ppc64: POWER8's vshasigmaw only
// computes the sigma functions): src/sha256.cpp uses its portable compression.
#include "sha256.h"

bool sha256_blocks_accel(uint32_t *, const uint8_t *, size_t) { return false; }
