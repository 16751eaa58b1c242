// Fd slots for the files a process maps: at restore the new process opens each
// distinct mapped file once, at fds first_slot + slot, before its mappings are
// made again (memory.cpp: open_vma_files_child, restore_layout).
#include <string.h>

#include "process.h"

namespace {

bool same_file(const VmaRec &a, const VmaRec &b) {
  return a.kind == VmaKind::File && b.kind == VmaKind::File && a.shared == b.shared && strcmp(a.name.c(), b.name.c()) == 0;
}

uint64_t file_hash(const VmaRec &v) {
  uint64_t h = 0xcbf29ce484222325ull ^ v.shared;  // FNV-1a
  for (const char *s = v.name.c(); *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
  return h;
}

}  // namespace

// Mappings of the same file share a slot. A hash table of the first mapping of
// each file (open addressing, at most half full), so that an image with tens of
// thousands of mappings costs linear time, not quadratic.
size_t assign_file_slots(const Vec<VmaRec> &vmas, Vec<int> *slots, int *count) {
  *count = 0;
  size_t cap = 16, compared = 0;
  while (cap < 2 * vmas.size()) cap <<= 1;
  Vec<int> first;  // index of the first mapping of a file, -1 for a free entry
  for (size_t i = 0; i < cap; i++) first.push(-1);
  for (size_t i = 0; i < vmas.size(); i++) {
    int slot = -1;
    if (vmas[i].kind == VmaKind::File) {
      size_t h = file_hash(vmas[i]) & (cap - 1);
      while (first[h] >= 0 && (compared++, !same_file(vmas[first[h]], vmas[i]))) h = (h + 1) & (cap - 1);
      if (first[h] >= 0) slot = (*slots)[first[h]];
      else { first[h] = (int)i; slot = (*count)++; }
    }
    slots->push(slot);
  }
  return compared;
}

int count_vma_files(const Vec<VmaRec> &vmas) {
  Vec<int> slots;
  int n;
  assign_file_slots(vmas, &slots, &n);
  return n;
}
