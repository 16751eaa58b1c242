// src/alloc.cpp, the product's malloc, built here as chkpt_malloc etc.
// (Makefile): random allocations, growth and frees keep every block's
// contents, alignment and separation.
#include <doctest/doctest.h>
#include <stdint.h>
#include <string.h>

#include <random>
#include <vector>

extern "C" void *chkpt_malloc(size_t);
extern "C" void chkpt_free(void *);
extern "C" void *chkpt_calloc(size_t, size_t);
extern "C" void *chkpt_realloc(void *, size_t);

namespace {
struct Block {
  uint8_t *p;
  size_t n;
  uint8_t fill;
};
bool intact(const Block &b) {
  for (size_t i = 0; i < b.n; i++)
    if (b.p[i] != (uint8_t)(b.fill + i)) return false;
  return true;
}
void fill(Block &b, size_t from) {
  for (size_t i = from; i < b.n; i++) b.p[i] = (uint8_t)(b.fill + i);
}
}  // namespace

TEST_CASE("alloc: blocks keep their contents through mallocs, reallocs and frees") {
  std::mt19937_64 rng(7);
  std::vector<Block> live;
  for (int step = 0; step < 20000; step++) {
    unsigned op = (unsigned)(rng() % 10);
    if (op < 5 || live.empty()) {
      size_t n = rng() % 4 == 0 ? rng() % 300000 : rng() % 2048;  // mostly small, some large
      Block b{static_cast<uint8_t *>(chkpt_malloc(n)), n, (uint8_t)rng()};
      REQUIRE(b.p);
      CHECK((uintptr_t)b.p % 16 == 0);
      fill(b, 0);
      live.push_back(b);
    } else if (op < 7) {
      size_t k = rng() % live.size();
      Block &b = live[k];
      size_t n = b.n + rng() % (rng() % 8 == 0 ? 200000 : 3000);
      uint8_t *q = static_cast<uint8_t *>(chkpt_realloc(b.p, n));
      REQUIRE(q);
      CHECK((uintptr_t)q % 16 == 0);
      b.p = q;
      size_t old = b.n;
      b.n = old;
      REQUIRE(intact(b));
      b.n = n;
      fill(b, old);
    } else {
      size_t k = rng() % live.size();
      REQUIRE(intact(live[k]));
      chkpt_free(live[k].p);
      live[k] = live.back();
      live.pop_back();
    }
  }
  for (auto &b : live) {
    CHECK(intact(b));
    chkpt_free(b.p);
  }
  uint8_t *z = static_cast<uint8_t *>(chkpt_calloc(1000, 3));  // reused memory comes back zeroed
  REQUIRE(z);
  bool zero = true;
  for (int i = 0; i < 3000; i++) zero = zero && z[i] == 0;
  CHECK(zero);
  chkpt_free(z);
  CHECK(chkpt_calloc(SIZE_MAX / 2, 4) == nullptr);  // overflow: refused
  CHECK(chkpt_malloc(SIZE_MAX - 8) == nullptr);
  chkpt_free(nullptr);
}
