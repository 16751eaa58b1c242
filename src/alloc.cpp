// malloc, calloc, realloc and free for the static product, in place of musl's
// mallocng (9 KiB of the binary): the product is single-threaded (its helpers
// are processes: fork, clone3 without CLONE_VM), allocates little, and frees
// most of it at exit. Blocks up to 64 KiB come from power-of-two size classes
// carved out of 256 KiB mmap'd arenas and kept on one free list per class;
// larger ones are their own mappings (mremap'd when they grow). Each block
// has a 16-byte head holding its usable size, so every block is 16-byte
// aligned as malloc(3) promises. Not built for the glibc builds (Makefile
// GLIBC_SRCS).
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

namespace {
constexpr size_t kHead = 16, kMinShift = 4, kMaxShift = 16, kArena = 256 << 10;
constexpr size_t kClasses = kMaxShift - kMinShift + 1;

struct Head {
  size_t size;  // usable bytes: the class size, or the mapping's length less the head
  size_t pad;
};

void *free_list[kClasses];  // per class: blocks linked through their first word
char *arena_next, *arena_end;

Head *head_of(void *p) { return reinterpret_cast<Head *>(static_cast<char *>(p) - kHead); }

size_t class_of(size_t n) {
  size_t c = 0;
  while (((size_t)1 << (c + kMinShift)) < n) c++;
  return c;
}

void *map(size_t len) {
  void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

size_t page_round(size_t n) { return (n + 4095) & ~(size_t)4095; }

void *large(size_t n) {
  if (n > SIZE_MAX / 2) return nullptr;
  size_t len = page_round(n + kHead);
  Head *h = static_cast<Head *>(map(len));
  if (!h) return nullptr;
  h->size = len - kHead;
  return reinterpret_cast<char *>(h) + kHead;
}

void *small(size_t c) {
  size_t size = (size_t)1 << (c + kMinShift);
  if (void *p = free_list[c]) {
    free_list[c] = *static_cast<void **>(p);
    return p;
  }
  if ((size_t)(arena_end - arena_next) < size + kHead) {  // the rest of the arena is left unused
    arena_next = static_cast<char *>(map(kArena));
    if (!arena_next) return arena_end = nullptr;
    arena_end = arena_next + kArena;
  }
  Head *h = reinterpret_cast<Head *>(arena_next);
  arena_next += size + kHead;
  h->size = size;
  return reinterpret_cast<char *>(h) + kHead;
}
}  // namespace

extern "C" void *malloc(size_t n) {
  void *p = n > ((size_t)1 << kMaxShift) ? large(n) : small(class_of(n ? n : 1));
  if (!p) errno = ENOMEM;
  return p;
}

extern "C" void free(void *p) {
  if (!p) return;
  Head *h = head_of(p);
  if (h->size > ((size_t)1 << kMaxShift)) {
    munmap(h, h->size + kHead);
    return;
  }
  size_t c = class_of(h->size);
  *static_cast<void **>(p) = free_list[c];
  free_list[c] = p;
}

extern "C" void *calloc(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) {
    errno = ENOMEM;
    return nullptr;
  }
  void *p = malloc(count * size);
  if (p) memset(p, 0, count * size);
  return p;
}

extern "C" void *realloc(void *p, size_t n) {
  if (!p) return malloc(n);
  Head *h = head_of(p);
  if (n <= h->size) return p;
  if (h->size > ((size_t)1 << kMaxShift) && n <= SIZE_MAX / 2) {
    size_t len = page_round(n + kHead);
    void *q = mremap(h, h->size + kHead, len, MREMAP_MAYMOVE);
    if (q == MAP_FAILED) {
      errno = ENOMEM;
      return nullptr;
    }
    Head *g = static_cast<Head *>(q);
    g->size = len - kHead;
    return static_cast<char *>(q) + kHead;
  }
  void *q = malloc(n);
  if (!q) return nullptr;
  memcpy(q, p, h->size);
  free(p);
  return q;
}
