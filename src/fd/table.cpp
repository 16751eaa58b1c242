// The fd kinds, in the order they are tried on an fd (the first match wins).
// A new kind: its file in src/fd/ and one row here (and its payload in
// docs/FORMAT.md).
#include "fdesc.h"

extern const FdKind kPipeKind, kUnixKind, kEventfdKind, kMemfdKind, kRegularKind, kDirectoryKind, kTerminalKind,
    kCharDevKind, kSignalfdKind, kTimerfdKind, kEpollKind, kGhostKind, kExternalKind, kInetKind,
    kPtyMasterKind, kPtySlaveKind, kInotifyKind, kFanotifyKind;

namespace {
const FdKind *const kKinds[] = {
    &kPipeKind, &kUnixKind, &kEventfdKind, &kMemfdKind, &kRegularKind, &kDirectoryKind, &kTerminalKind, &kCharDevKind,
    &kSignalfdKind, &kTimerfdKind, &kEpollKind, &kGhostKind, &kExternalKind, &kInetKind,
    &kPtyMasterKind, &kPtySlaveKind, &kInotifyKind, &kFanotifyKind,
};
}  // namespace

const FdKind *const *fd_kinds(size_t *n) {
  *n = sizeof kKinds / sizeof *kKinds;
  return kKinds;
}

const FdKind *fd_kind(FileKind k) {
  for (const FdKind *d : kKinds)
    if (d->kind == k) return d;
  return nullptr;
}
