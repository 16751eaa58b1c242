// Regular files and directories, reopened by their path with their status
// flags and offset. (A deleted file is refused for now: ghost files are not
// saved yet.)
//
// Payload: empty (the head's path, flags and offset are all there is).
#include <fcntl.h>
#include <unistd.h>

#include "model.h"

namespace {
bool by_path(const FdProbe &p) { return p.link[0] == '/' && !ends_with(p.link, " (deleted)"); }
bool match_regular(const FdProbe &p) { return by_path(p) && S_ISREG(p.st->st_mode); }
bool match_directory(const FdProbe &p) { return by_path(p) && S_ISDIR(p.st->st_mode); }

Err dump(const FdProbe &, FdescRec *f) { return set_payload(f, Enc(nullptr, 0), nullptr, 0); }

bool valid(const FdescRec &f) {
  Dec d = payload_of(f);
  uint32_t n;
  d.blob(&n, 0);
  return payload_done(d) && f.path.c()[0] == '/';
}

Err open_by_path(OpenCtx &c, size_t i) {
  const FdescRec &f = c.set.fdescs[i];
  int flags = (int)(f.flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)) | O_NOCTTY | O_CLOEXEC;
  Fd fd(open(f.path.c(), flags));
  if (!fd.ok()) return sys_err("cannot reopen %s", f.path.c());
  if (lseek(fd.get(), (off_t)f.pos, SEEK_SET) < 0) return sys_err("cannot seek %s", f.path.c());
  return c.place(i, fd.release());
}
}  // namespace

extern const FdKind kRegularKind = {
    FileKind::Regular, "file", match_regular, dump, valid, open_by_path, nullptr, nullptr, nullptr, nullptr,
};
extern const FdKind kDirectoryKind = {
    FileKind::Directory, "directory", match_directory, dump, valid, open_by_path, nullptr, nullptr, nullptr, nullptr,
};
