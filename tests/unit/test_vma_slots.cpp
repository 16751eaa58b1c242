#include <doctest/doctest.h>

#include <stdio.h>

#include "process.h"

namespace {
VmaRec file_map(const char *path, bool shared) {
  VmaRec v;
  v.kind = VmaKind::File;
  v.shared = shared;
  v.name = Str(path);
  return v;
}
}  // namespace

// Issue 11, item 13: an image (or a target) with 40,000 file mappings once cost
// 24 s of CPU in slot assignment, comparing every mapping with every file seen.
// The work is counted, not timed: comparisons must grow linearly.
TEST_CASE("vma slots: 40,000 file mappings, linear work, right slots") {
  const int kFiles = 20000;
  Vec<VmaRec> vmas;
  char path[64];
  for (int i = 0; i < kFiles; i++) {  // each file mapped twice, far apart, plus anonymous mappings
    snprintf(path, sizeof path, "/usr/lib/lib%05d.so", i);
    vmas.push(file_map(path, false));
    vmas.push(VmaRec());
  }
  for (int i = 0; i < kFiles; i++) {
    snprintf(path, sizeof path, "/usr/lib/lib%05d.so", i);
    vmas.push(file_map(path, false));
  }
  vmas.push(file_map("/usr/lib/lib00007.so", true));  // shared: another description, another slot
  Vec<int> slots;
  int count = -1;
  size_t compared = assign_file_slots(vmas, &slots, &count);
  REQUIRE(slots.size() == vmas.size());
  CHECK(count == kFiles + 1);
  for (int i = 0; i < kFiles; i++) {
    CHECK(slots[2 * i] == i);  // numbered in order of first appearance
    CHECK(slots[2 * i + 1] == -1);
    CHECK(slots[2 * kFiles + i] == i);
  }
  CHECK(slots[3 * kFiles] == kFiles);
  CHECK(compared < 4u * vmas.size());  // pairwise would be ~2e8
}
