// Open file descriptions and the table of their kinds.
//
// Every fd of every process in the set refers to one FdescRec (fds that share
// an open file description through dup, fork or SCM_RIGHTS share one, found
// with kcmp(2) KCMP_FILE). A description is a common head that the generic
// code in files.cpp reads and restores (status flags, offset, identity, SIGIO
// owner), plus a payload only its kind reads. Each kind lives in one file of
// src/fd/ and exports one FdKind; src/fd/table.cpp lists them. Adding a kind is
// that file and one row of the table (docs/FORMAT.md documents its payload).
#pragma once
#include <stdint.h>
#include <sys/stat.h>

#include "base.h"
#include "codec.h"

enum class FileKind : uint8_t {
  Regular = 1, Directory = 2, CharDev = 3, Terminal = 4, Pipe = 5, UnixSocket = 6, Eventfd = 7, Memfd = 8,
  Signalfd = 9, Timerfd = 10, Epoll = 11, Ghost = 12, External = 13, Inet = 14, PtyMaster = 15, PtySlave = 16, Inotify = 17,
  Fanotify = 18,
};

struct FdescRec {  // Rec::Fdesc
  uint32_t id = 0;
  FileKind kind = FileKind::Regular;
  uint32_t flags = 0;  // open(2) status flags from fdinfo (access mode, O_APPEND, O_NONBLOCK, O_ASYNC...)
  uint64_t pos = 0;
  uint64_t dev = 0, ino = 0;  // identity of the open file (stat of /proc/PID/fd/N)
  uint32_t mode = 0;          // its st_mode
  // SIGIO owner (fcntl(2) F_GETOWN_EX: type F_OWNER_TID 0, PID 1, PGRP 2; pid 0
  // = none) and the signal sent instead of SIGIO (F_GETSIG, 0 = SIGIO).
  uint32_t owner_type = 0;
  int32_t owner_pid = 0;
  uint32_t owner_sig = 0;
  Str path;     // the fd's link text: an absolute path, or "pipe:[123]", "anon_inode:[eventfd]", ...
  Str payload;  // the kind's own fields, encoded and decoded only by the kind
  // checkpoint only: a path that opens the file, whose contents follow the
  // FDESC as FDESC_DATA records (a large memfd); empty for none
  Str data_from;
};

struct SetImage;
struct PathMap;

// What the dumper sees of one fd of a frozen process.
struct FdProbe {
  int pid, fd;
  const char *link;        // readlink of /proc/PID/fd/N
  const struct stat *st;   // stat of /proc/PID/fd/N (the open file itself)
  const char *fdinfo;      // /proc/PID/fdinfo/N
  uint64_t ghost_limit;    // chkpt --ghost-limit: the most data a deleted file may hold
  int sock_family;         // a socket's SO_DOMAIN (AF_UNIX, AF_INET, ...), else 0
  Vec<int> *repaired;      // (pid, fd) pairs put in TCP repair mode: let out when released
  bool tcp_close;          // chkpt --tcp-close: established TCP connections saved as aborted
};

// rstrt --inherit-fd N=FD|PATH|-: what an external description expecting fd
// N gets instead of rstrt's own fd N.
struct InheritFd {
  int n = -1;
  int fd = -1;                 // N=FD
  const char *path = nullptr;  // N=PATH: opened (created for writing)
  bool eof = false;            // N=-: a channel whose other end is closed
};

// rstrt, before the tree is forked: every description is opened once and kept
// at an fd >= `above` (fds[i] for description i; -1 until opened). A kind may
// open several descriptions at once (both ends of a pipe or socketpair).
struct OpenCtx {
  const SetImage &set;
  int tty_fd;  // rstrt's terminal, or -1
  int above;
  Vec<int> &fds;
  const Vec<InheritFd> *inherit;
  bool tcp_close;  // rstrt --tcp-close: established TCP connections come back aborted
  // Move fd to a number >= above as description i; closes fd. Its status
  // flags are then set as saved, unless it came from outside as it is
  // (place_as_is: rstrt's terminal, an external fd).
  Err place(size_t i, int fd);
  Err place_as_is(size_t i, int fd);
  Vec<uint8_t> as_is;  // per description: 1 if placed as is
  Vec<int> *staged;    // per description: the fd made at its FDESC (FdKind::stage), or -1; the kind takes it
};

// A channel whose other end a description of the set may not hold: the dumper
// looks for it among the fds of processes outside the set (link text
// "<prefix><ino>]", e.g. "pipe:[123]").
struct PeerWanted {
  const char *prefix;
  uint64_t ino;
};

struct VmaRec;

struct FdKind {
  FileKind kind;
  const char *name;  // for messages and chkpt info: "pipe", "unix socket", ...
  // Is this fd of this kind? The table is tried in order; the first match wins.
  bool (*match)(const FdProbe &p);
  // Fill the payload (and anything else of the head the kind knows better).
  Err (*dump)(const FdProbe &p, FdescRec *f);
  // The payload and head decoded from an image are acceptable for this kind
  // (bounds, paths: an image is untrusted).
  bool (*valid)(const FdescRec &f);
  // rstrt: open description i (and any it opens together with it).
  Err (*open)(OpenCtx &c, size_t i);
  // Optional (nullptr): after the whole set is collected, fix up the set
  // (e.g. only one description of a pipe carries its data).
  void (*after_collect)(SetImage &set, size_t i);
  // Optional: the other end this description needs, if it may be outside the
  // set; false if none.
  bool (*peer_outside)(const SetImage &set, const FdescRec &f, PeerWanted *w);
  // Optional: mappings of files of this kind are made from the restored
  // description (memfd); `maps` tells such a mapping, `dump_mapped` describes
  // one whose file no fd holds any more.
  bool (*maps)(const VmaRec &v);
  Err (*dump_mapped)(int pid, const VmaRec &v, uint64_t ghost_limit, FdescRec *f);
  // Optional: at checkpoint, once the whole set is collected: what this
  // description needs of the set is there (an epoll's targets are fds of its
  // process), or the checkpoint is refused naming it.
  Err (*check)(const SetImage &set, size_t i);
  // Optional: in new process k once all its fds exist, for the description's
  // first fd in the set (`fd`): what needs the other fds (epoll registrations).
  // Every description of the set is open in k then, description j at desc_fds[j].
  Err (*in_process)(const SetImage &set, size_t k, const Vec<int> &desc_fds, const FdescRec &f, int fd);
  // Optional: at restore, once every record of the image is read and before
  // anything is made: what description i refers to in the set is there (a
  // pty slave's master); a bad image otherwise.
  Err (*valid_in_set)(const SetImage &set, size_t i);
  // Optional: the highest fd number in_process uses for a while (an epoll
  // target added by a number closed since), -1 for none: rstrt keeps its own
  // fds above it.
  int (*highest_fd)(const FdescRec &f);
  // Optional: do the description's contents follow it as FDESC_DATA records,
  // and the size they fill (false: none may follow).
  bool (*streams)(const FdescRec &f, uint64_t *size);
  // rstrt, at such a description's FDESC: make the object that takes them.
  Err (*stage)(const FdescRec &f, int *fd);
  // Optional: rstrt --map-path / --root for the paths in the payload (a unix
  // socket's name); the head's path is translated by the caller.
  Err (*map_paths)(FdescRec *f, const Vec<PathMap> &maps);
};

// The table (src/fd/table.cpp); nullptr for a kind it does not know.
const FdKind *fd_kind(FileKind k);
const FdKind *const *fd_kinds(size_t *n);

// The TCP connections (pid, fd pairs) put in repair mode by the dumper, out
// of it again as their process goes on (src/fd/inet.cpp).
Err tcp_leave_repair(const Vec<int> &repaired);

// In new process k (src/fd/pty.cpp), with every description open at
// desc_fds: a session leader takes its pty of the set as controlling terminal
// again (after setsid, before it forks); the first process of a pty's
// foreground group makes it foreground (once its fds exist).
Err restore_ctty_child(const SetImage &set, size_t k, const Vec<int> &desc_fds);
// Process k leads a session whose controlling terminal is not a pty of the set.
bool ctty_outside_set(const SetImage &set, size_t k);
Err restore_tty_pgrp_child(const SetImage &set, size_t k, const Vec<int> &desc_fds);

// A terminal description's device and, for /dev/tty, the terminal it was
// opened on (0 if not known) (chardev.cpp).
bool terminal_fields(const FdescRec &f, uint64_t *rdev, uint64_t *tty);

// inotify.cpp, for fanotify.cpp too: a mount of the filesystem of device sdev
// (the kernel's dev_t encoding), and the path of the inode a mark's fdinfo
// line names by its file handle (`what` names the mark in messages).
Err mount_of(uint64_t sdev, Fd *out);
Err marked_inode_path(const FdProbe &p, const char *what, const char *line, uint64_t ino, uint64_t sdev, char *path,
                      size_t cap);

// Shared by kinds (files.cpp). The process and fd that first hold description
// `desc` in the set (TREE order, lowest fd): false if none does.
bool first_holder(const SetImage &set, uint32_t desc, size_t *proc, int *fd);
bool starts_with(const char *s, const char *prefix);
// "key: NUM" or "key:NUM" within one fdinfo line (the first `key` in it).
bool line_field(const char *line, const char *key, int base, uint64_t *v);
bool ends_with(const char *s, const char *suffix);
// payload = the fixed fields encoded in `fields`, then `blob data` (n bytes),
// then `tail`: fields a later version added behind the data, which a reader
// takes only when present (FORMAT.md: trailing fields).
Err set_payload(FdescRec *f, const Enc &fields, const void *data, uint32_t n, const Enc *tail = nullptr);
// The payload of kinds that hold one number (an eventfd's count, a signalfd's
// mask, a device number): u64 value, empty blob.
Err set_u64_payload(FdescRec *f, uint64_t v);
bool u64_payload(const FdescRec &f, uint64_t *v);
// A payload decoder reached the end of a well-formed payload.
inline bool payload_done(const Dec &d) { return !d.bad() && d.left() == 0; }
inline Dec payload_of(const FdescRec &f) {
  return Dec(reinterpret_cast<const uint8_t *>(f.payload.c()), f.payload.size());
}
