// The few C++ runtime pieces the product needs, supplied here because it links
// without libstdc++/libsupc++ (README.md: C++17 in a freestanding style).
#include <new>
#include <stddef.h>
#include <stdlib.h>

void *operator new(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}
void *operator new[](size_t n) { return operator new(n); }
void operator delete(void *p) noexcept { free(p); }
void operator delete[](void *p) noexcept { free(p); }
void operator delete(void *p, size_t) noexcept { free(p); }
void operator delete[](void *p, size_t) noexcept { free(p); }
extern "C" void __cxa_pure_virtual() { abort(); }
// Weak so that crtbeginT.o's definition wins where it is linked.
extern "C" {
__attribute__((weak, visibility("hidden"))) void *__dso_handle = &__dso_handle;
}
