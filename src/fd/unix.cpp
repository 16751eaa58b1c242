// Unix socketpairs (stream, datagram, seqpacket) with the data queued in both
// directions. The peer of a socket comes from sock_diag (NETLINK_SOCK_DIAG,
// UDIAG_SHOW_PEER; include/uapi/linux/unix_diag.h). Its receive queue is read
// without consuming it: pidfd_getfd(2) gives chkpt the very socket, and
// recv(MSG_PEEK) with SO_PEEK_OFF walks the queue (net/unix/af_unix.c honours the
// peek offset for all three types); the offset is put back afterwards. At restore
// rstrt makes a socketpair per saved pair and sends each end's queue from the
// other, without blocking: the sending end's buffer is raised for it first.
//
// Listeners and unconnected bound datagram sockets are bound to their name
// again; a connection accepted on a listener of the set is made again by
// connecting a nameless socket to the restored listener and accepting it (a datagram socket's queue, from nameless senders only, is sent to it
// from an unbound socket); a socket connected to such a datagram socket of the
// set connects to its name again.
//
// A queue holding more than bytes (fds passed with SCM_RIGHTS, the senders'
// credentials for a SO_PASSCRED receiver) is refused: it could not be sent
// again as it was. SO_PASSCRED, SO_PASSSEC and SO_PASSPIDFD themselves are kept.
//
// Payload (docs/FORMAT.md, kind 6): u32 sock_type, u64 peer (inode of the other
// end, 0 if closed), u32 sndbuf, rcvbuf, u8 listening, u32 backlog, blob name,
// u8 file_present, u32 file_mode, uid, gid, u64 vfs_ino, blob queue (stream:
// the bytes; datagram/seqpacket: u32 length + bytes each), then u32 options,
// behind the queue so that a 2.0 payload (which ends with the queue) still reads.
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "image.h"
#include "model.h"
#include "pathmap.h"

namespace {
constexpr size_t kMsgBuf = 256 << 10;

// Netlink and sock_diag ABI (include/uapi/linux/netlink.h, rtnetlink.h,
// sock_diag.h, unix_diag.h); musl ships no kernel headers.
constexpr int kNetlinkSockDiag = 4, kSockDiagByFamily = 20, kNlmsgError = 2, kNlmRequest = 1;
constexpr uint32_t kShowName = 1, kShowVfs = 2, kShowPeer = 4, kShowRqlen = 16;
constexpr uint16_t kAttrName = 0, kAttrVfs = 1, kAttrPeer = 2, kAttrRqlen = 4;
constexpr uint8_t kListen = 10, kEstablished = 1;  // TCP_LISTEN, TCP_ESTABLISHED, as unix sockets use them
// include/uapi/asm-generic/socket.h (the same on every architecture chkpt has)
constexpr int kScmPidfd = 0x4c, kSoPassPidfd = 76;
struct NlMsgHdr { uint32_t len; uint16_t type, flags; uint32_t seq, pid; };
struct UnixDiagReq { uint8_t family, protocol; uint16_t pad; uint32_t states, ino, show, cookie[2]; };
struct UnixDiagMsg { uint8_t family, type, state, pad; uint32_t ino, cookie[2]; };
struct RtAttr { uint16_t len, type; };
constexpr size_t align4(size_t n) { return (n + 3) & ~(size_t)3; }

struct DiagInfo {
  uint64_t peer = 0;
  bool named = false;
  uint8_t state = 0;
  char name[108] = {};  // sun_path as bound (abstract: a leading NUL)
  uint32_t name_len = 0;
  uint32_t vfs_ino = 0;           // the socket file's inode (a path name)
  uint32_t rqueue = 0, wqueue = 0;  // listening: connections waiting, backlog
};

Err parse_diag(const uint8_t *buf, long n, DiagInfo *out) {
  const NlMsgHdr *h = reinterpret_cast<const NlMsgHdr *>(buf);
  if (n < (long)sizeof *h || h->len > (uint32_t)n || h->len < sizeof *h) return errf("sock_diag: short answer");
  if (h->type == kNlmsgError) return errf("sock_diag: %s", strerror(-*reinterpret_cast<const int32_t *>(h + 1)));
  if (h->len < sizeof *h + sizeof(UnixDiagMsg)) return errf("sock_diag: short answer");
  const UnixDiagMsg *m = reinterpret_cast<const UnixDiagMsg *>(h + 1);
  out->state = m->state;
  for (size_t at = sizeof *h + sizeof *m; at + sizeof(RtAttr) <= h->len;) {
    const RtAttr *a = reinterpret_cast<const RtAttr *>(buf + at);
    if (a->len < sizeof *a || at + a->len > h->len) break;
    if (a->type == kAttrPeer && a->len >= sizeof *a + 4) out->peer = load_le32(buf + at + sizeof *a);
    const uint8_t *v = buf + at + sizeof *a;
    uint32_t vlen = a->len - (uint32_t)sizeof *a;
    if (a->type == kAttrName) {
      out->named = true;
      out->name_len = vlen < sizeof out->name ? vlen : sizeof out->name;
      memcpy(out->name, v, out->name_len);
    }
    if (a->type == kAttrVfs && vlen >= 8) out->vfs_ino = load_le32(v);
    if (a->type == kAttrRqlen && vlen >= 8) { out->rqueue = load_le32(v); out->wqueue = load_le32(v + 4); }
    at += align4(a->len);
  }
  return ok();
}

Err diag(uint64_t ino, DiagInfo *out) {
  Fd nl(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, kNetlinkSockDiag));
  if (!nl.ok()) return sys_err("sock_diag socket");
  struct {
    NlMsgHdr h;
    UnixDiagReq r;
  } req = {};
  req.h.len = sizeof req;
  req.h.type = kSockDiagByFamily;
  req.h.flags = kNlmRequest;
  req.r.family = AF_UNIX;
  req.r.states = ~0u;
  req.r.ino = (uint32_t)ino;
  req.r.show = kShowPeer | kShowName | kShowVfs | kShowRqlen;
  req.r.cookie[0] = req.r.cookie[1] = ~0u;
  if (send(nl.get(), &req, sizeof req, 0) < 0) return sys_err("sock_diag request");
  uint8_t buf[4096];
  long n = recv(nl.get(), buf, sizeof buf, 0);
  if (n < 0) return sys_err("sock_diag answer");
  return parse_diag(buf, n, out);
}

// What a peeked message carried besides its bytes. A peek installs passed
// fds in chkpt itself (net/unix/af_unix.c unix_peek_fds): they are closed.
const char *control_of(struct msghdr *mh) {
  const char *what = nullptr;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
    if (c->cmsg_level != SOL_SOCKET) { what = "control messages"; continue; }
    if (c->cmsg_type == SCM_RIGHTS || c->cmsg_type == kScmPidfd) {
      size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t k = 0; k < n; k++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + k * sizeof fd, sizeof fd);
        close(fd);
      }
    }
    if (c->cmsg_type == SCM_RIGHTS) return "file descriptors passed with SCM_RIGHTS";
    if (!what) what = c->cmsg_type == SCM_CREDENTIALS ? "the senders' credentials (SO_PASSCRED)"
                      : c->cmsg_type == kScmPidfd   ? "the senders' pidfds (SO_PASSPIDFD)"
                                                   : "the senders' security labels (SO_PASSSEC)";
  }
  if (!what && (mh->msg_flags & MSG_CTRUNC)) what = "control messages";
  return what;
}

// Peek every queued message (or, for a stream, every queued byte). Datagram
// messages are stored as u32 length + bytes. What travels with a message
// besides its bytes (passed fds, credentials) could not be sent again as it
// was: such a queue is refused, not saved without it.
Err peek_queue(const FdProbe &p, int sk, uint32_t type, Str *out) {
  struct sockaddr_un from;
  int saved_off = -1;
  socklen_t sl = sizeof saved_off;
  getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &saved_off, &sl);
  int zero = 0;
  if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) < 0) return sys_err("SO_PEEK_OFF");
  Vec<char> acc;
  char *buf = static_cast<char *>(malloc(kMsgBuf));
  Err e = buf ? ok() : errf("out of memory");
  while (!e) {
    alignas(struct cmsghdr) char ctl[1024];
    struct iovec iov = {buf, kMsgBuf};
    struct msghdr mh = {};
    mh.msg_iov = &iov; mh.msg_iovlen = 1; mh.msg_control = ctl; mh.msg_controllen = sizeof ctl;
    mh.msg_name = &from; mh.msg_namelen = sizeof from;
    ssize_t n = recvmsg(sk, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) { e = sys_err("peeking a socket queue"); break; }
    const char *extra = mh.msg_controllen ? control_of(&mh) : nullptr;
    if (extra) {
      e = errf("process %d fd %d: a unix socket's queue holds %s, not yet received: not supported", p.pid, p.fd, extra);
      break;
    }
    if (n == 0 && type == SOCK_STREAM) break;
    // A datagram from a bound socket names it; rstrt sends from unbound ones.
    // (Seqpacket messages come from the peer, and name it if it is bound.)
    if (type == SOCK_DGRAM && mh.msg_namelen > offsetof(struct sockaddr_un, sun_path)) {
      e = errf("process %d fd %d: a datagram not yet received from the bound unix socket %s%.*s: not supported yet",
               p.pid, p.fd, from.sun_path[0] ? "" : "@", (int)(mh.msg_namelen - offsetof(struct sockaddr_un, sun_path) - 1),
               from.sun_path + (from.sun_path[0] ? 0 : 1));
      break;
    }
    if ((size_t)n > kMsgBuf) { e = errf("a queued datagram is larger than %zu bytes", kMsgBuf); break; }
    if (type != SOCK_STREAM) { uint8_t l[4]; store_le32(l, (uint32_t)n); for (uint8_t c : l) acc.push((char)c); }
    for (ssize_t i = 0; i < n; i++) acc.push(buf[i]);
  }
  free(buf);
  setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &saved_off, sizeof saved_off);
  if (!e) *out = Str(acc.begin(), acc.size());
  return e;
}

struct SockFields {
  uint32_t type = 0;
  uint64_t peer = 0;
  uint32_t sndbuf = 0, rcvbuf = 0;
  uint8_t listening = 0;
  uint32_t backlog = 0;
  const uint8_t *name = nullptr;  // sun_path bytes (abstract: a leading NUL)
  uint32_t name_len = 0;
  uint8_t file_present = 0;       // its socket file still had that path
  uint32_t file_mode = 0, file_uid = 0, file_gid = 0;
  uint64_t vfs_ino = 0;
  uint32_t options = 0;           // kOpt* bits
  const uint8_t *queue = nullptr;
  uint32_t len = 0;
};

bool fields(const FdescRec &f, SockFields *s) {
  Dec d = payload_of(f);
  s->type = d.u32();
  s->peer = d.u64();
  s->sndbuf = d.u32();
  s->rcvbuf = d.u32();
  s->listening = d.u8();
  s->backlog = d.u32();
  s->name = d.blob(&s->name_len, 108);
  s->file_present = d.u8();
  s->file_mode = d.u32();
  s->file_uid = d.u32();
  s->file_gid = d.u32();
  s->vfs_ino = d.u64();
  s->queue = d.blob(&s->len, kMaxRecord);
  if (d.left()) s->options = d.u32();  // since 2.1 (absent: none of them set)
  return payload_done(d);
}

int sockopt(int sk, int opt) {
  int v = 0;
  socklen_t l = sizeof v;
  getsockopt(sk, SOL_SOCKET, opt, &v, &l);
  return v;
}

// Options that change what a receiver gets with each message (socket(7),
// unix(7)): kept as bits of `options`.
struct PassOpt { int opt; uint32_t bit; };
constexpr PassOpt kPassOpts[] = {{SO_PASSCRED, 1}, {SO_PASSSEC, 2}, {kSoPassPidfd, 4}};
constexpr uint32_t kAllOpts = 7;

uint32_t pass_options(int sk) {
  uint32_t bits = 0;
  for (const PassOpt &o : kPassOpts)
    if (sockopt(sk, o.opt) > 0) bits |= o.bit;  // an older kernel lacks SO_PASSPIDFD: 0
  return bits;
}

Err set_pass_options(int sk, uint32_t bits) {
  int one = 1;
  for (const PassOpt &o : kPassOpts)
    if ((bits & o.bit) && setsockopt(sk, SOL_SOCKET, o.opt, &one, sizeof one) < 0)
      return sys_err("setting option %d of a unix socket again", o.opt);
  return ok();
}

bool match(const FdProbe &p) { return p.sock_family == AF_UNIX; }

Err dump(const FdProbe &p, FdescRec *f) {
  Fd pidfd(syscall(SYS_pidfd_open, p.pid, 0));
  if (!pidfd.ok()) return sys_err("pidfd_open %d", p.pid);
  Fd sk(syscall(SYS_pidfd_getfd, pidfd.get(), p.fd, 0));
  if (!sk.ok()) return sys_err("pidfd_getfd of process %d fd %d", p.pid, p.fd);
  int type = sockopt(sk.get(), SO_TYPE);
  DiagInfo di;
  TRY(diag(f->ino, &di));
  bool listening = di.state == kListen;
  if (listening && di.rqueue)
    return errk(ErrKind::Busy, "process %d fd %d: a listening unix socket with %u connections not yet accepted",
                p.pid, p.fd, di.rqueue);
  // A relative name was resolved against the working directory of its bind,
  // which nothing shows any more.
  if (di.named && di.name_len && di.name[0] && di.name[0] != '/')
    return errf("process %d fd %d: a unix socket bound to the relative path %.*s: not supported", p.pid, p.fd,
                (int)di.name_len, di.name);
  bool dgram_server = di.named && !listening && type == SOCK_DGRAM && !di.peer;
  bool accepted = di.named && !listening && type != SOCK_DGRAM && di.peer && di.state == kEstablished;
  if (di.named && !listening && !dgram_server && !accepted)
    return errf("process %d fd %d: a bound unix socket that does not listen (a connected datagram socket, or a "
                "connection whose other end closed): not supported yet", p.pid, p.fd);
  Str queue;
  if (!listening) TRY(peek_queue(p, sk.get(), (uint32_t)type, &queue));
  // A path name's socket file: still there (this very socket's), or unlinked.
  struct stat st = {};
  bool present = di.named && di.name_len && di.name[0] && di.name_len < sizeof di.name;
  if (present) {
    char path[109];
    snprintf(path, sizeof path, "%.*s", (int)di.name_len, di.name);
    present = lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == di.vfs_ino;
  }
  uint8_t head[256];
  Enc e(head, sizeof head);
  e.u32((uint32_t)type);
  e.u64(di.peer);
  e.u32((uint32_t)sockopt(sk.get(), SO_SNDBUF));
  e.u32((uint32_t)sockopt(sk.get(), SO_RCVBUF));
  e.u8(listening);
  e.u32(di.wqueue);
  e.blob(di.name, di.named ? di.name_len : 0);
  e.u8(present);
  e.u32(st.st_mode); e.u32(st.st_uid); e.u32(st.st_gid);
  e.u64(di.vfs_ino);
  uint8_t tail_buf[4];
  Enc tail(tail_buf, sizeof tail_buf);
  tail.u32(pass_options(sk.get()));
  return set_payload(f, e, queue.c(), (uint32_t)queue.size(), &tail);
}

// Datagram queues must split exactly into their messages.
bool valid(const FdescRec &f) {
  SockFields s;
  if (!fields(f, &s) || (s.options & ~kAllOpts)) return false;
  if (s.type != SOCK_STREAM && s.type != SOCK_DGRAM && s.type != SOCK_SEQPACKET) return false;
  if (s.listening) return s.name_len > 0 && !s.len && !s.peer;  // nothing queued on a listener
  // names: listeners, datagram servers (no peer), accepted connections (a peer)
  if (s.name_len && (s.type == SOCK_DGRAM) == (s.peer != 0)) return false;
  if (s.type == SOCK_STREAM) return true;
  uint32_t at = 0;
  while (s.len - at >= 4) {
    uint32_t n = load_le32(s.queue + at);
    if (n > s.len - at - 4) return false;
    at += 4 + n;
  }
  return at == s.len;
}

// rstrt --map-path / --root: a name that is a path (not abstract) is
// translated like every other path; the payload's name blob is replaced.
// Its place: u32 type, u64 peer, u32 sndbuf, rcvbuf, u8 listening, u32 backlog.
constexpr size_t kNameAt = 4 + 8 + 4 + 4 + 1 + 4;

Err map_names(FdescRec *f, const Vec<PathMap> &maps) {
  SockFields s;
  if (!fields(*f, &s) || !s.name_len || !s.name[0]) return ok();
  Str name(reinterpret_cast<const char *>(s.name), s.name_len);
  Str before(name.c(), name.size());
  TRY(map_path(maps, &name));
  if (name.size() == before.size() && !memcmp(name.c(), before.c(), name.size())) return ok();
  if (name.size() > 107) return errf("--map-path: unix socket %s would be bound to %s, longer than a socket name holds",
                                     before.c(), name.c());
  const char *p = f->payload.c();
  size_t rest = kNameAt + 4 + s.name_len, total = f->payload.size() - s.name_len + name.size();
  char *buf = static_cast<char *>(malloc(total));
  if (!buf) return errf("out of memory");
  memcpy(buf, p, kNameAt);
  store_le32(reinterpret_cast<uint8_t *>(buf) + kNameAt, (uint32_t)name.size());
  memcpy(buf + kNameAt + 4, name.c(), name.size());
  memcpy(buf + kNameAt + 4 + name.size(), p + rest, f->payload.size() - rest);
  f->payload = Str(buf, total);
  free(buf);
  return ok();
}

int desc_with_ino(const SetImage &set, uint64_t ino) {
  for (size_t i = 0; i < set.fdescs.size(); i++)
    if (set.fdescs[i].kind == FileKind::UnixSocket && set.fdescs[i].ino == ino) return (int)i;
  return -1;
}

bool same_name(const SockFields &a, const SockFields &b) {
  return a.name_len == b.name_len && !memcmp(a.name, b.name, a.name_len);
}

// The listener of the set an accepted connection came from, or -1.
int listener_of(const SetImage &set, const SockFields &s) {
  for (size_t j = 0; j < set.fdescs.size(); j++) {
    SockFields l;
    if (set.fdescs[j].kind == FileKind::UnixSocket && fields(set.fdescs[j], &l) && l.listening && l.type == s.type &&
        same_name(l, s))
      return (int)j;
  }
  return -1;
}

// An accepted connection is made again by connecting to its listener, which
// must be in the set, still reachable by its name; its other end must be
// nameless (that one is the new connecting socket).
Err check_accepted(const SetImage &set, size_t i, const SockFields &s) {
  size_t k;
  int fd;
  if (!first_holder(set, (uint32_t)i, &k, &fd)) return ok();
  int l = listener_of(set, s), peer = desc_with_ino(set, s.peer);
  SockFields ls, ps;
  const char *why = l < 0 || !fields(set.fdescs[l], &ls) ? "whose listener is not in the set"
                    : ls.name[0] && !ls.file_present ? "whose listener's socket file was unlinked"
                    : peer >= 0 && fields(set.fdescs[peer], &ps) && ps.name_len ? "whose other end is bound too"
                                                                                  : nullptr;
  if (!why) return ok();
  return errf("process %d fd %d: a unix connection accepted on %s%.*s %s: not supported yet", set.procs[k].proc.pid, fd,
              s.name[0] ? "" : "@", (int)s.name_len - (s.name[0] ? 0 : 1), (const char *)s.name + (s.name[0] ? 0 : 1),
              why);
}

// A socket connected to a bound datagram socket of the set is connected again
// by that name: it must still be there.
Err check(const SetImage &set, size_t i) {
  SockFields s, srv;
  if (fields(set.fdescs[i], &s) && s.name_len && !s.listening && s.type != SOCK_DGRAM) return check_accepted(set, i, s);
  int peer;
  if (!fields(set.fdescs[i], &s) || !s.peer || (peer = desc_with_ino(set, s.peer)) < 0 ||
      !fields(set.fdescs[peer], &srv) || !srv.name_len || srv.listening || !srv.name[0] || srv.file_present)
    return ok();
  size_t k;
  int fd;
  if (!first_holder(set, (uint32_t)i, &k, &fd)) return ok();
  return errf("process %d fd %d: a datagram socket connected to a bound one whose file was unlinked: not supported",
              set.procs[k].proc.pid, fd);
}

bool peer_outside(const SetImage &set, const FdescRec &f, PeerWanted *w) {
  SockFields s;
  if (!fields(f, &s) || !s.peer || desc_with_ino(set, s.peer) >= 0) return false;
  *w = {"socket:[", s.peer};
  return true;
}

// The kernel doubles what SO_SNDBUF/SO_RCVBUF set and reports the doubled
// value (socket(7)): `v` is what to set. The forced form passes
// net.core.wmem_max for a privileged rstrt.
void set_buf(int sk, int opt, int force_opt, uint32_t v32) {
  int v = (int)(v32 > (1u << 30) ? 1u << 30 : v32);
  if (v <= 0) return;
  if (setsockopt(sk, SOL_SOCKET, force_opt, &v, sizeof v) < 0) setsockopt(sk, SOL_SOCKET, opt, &v, sizeof v);
}

// Queue `to`'s saved receive queue by sending it from `from`, the other end.
// A unix socket charges queued data to the sender's buffer, so that is raised
// to hold it all first and set back after; nothing here can block.
Err send_queue(int from, const SockFields &to, const SockFields *from_fields) {
  if (!to.len) return ok();
  set_buf(from, SO_SNDBUF, SO_SNDBUFFORCE, 2 * to.len + (256u << 10));  // data plus per-message overhead
  Err e = ok();
  if (to.type == SOCK_STREAM) {
    ssize_t n = send(from, to.queue, to.len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n != (ssize_t)to.len) e = n < 0 ? sys_err("re-queueing %u bytes", to.len) : errf("a socket took only %zd of %u queued bytes", n, to.len);
  }
  for (uint32_t at = 0; !e && to.type != SOCK_STREAM && at < to.len;) {
    uint32_t n = load_le32(to.queue + at);
    if (send(from, to.queue + at + 4, n, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n) e = sys_err("re-queueing a datagram");
    at += 4 + n;
  }
  if (from_fields) set_buf(from, SO_SNDBUF, SO_SNDBUFFORCE, from_fields->sndbuf / 2);
  return e;
}

Err set_bufs(int sk, const SockFields &s) {
  set_buf(sk, SO_SNDBUF, SO_SNDBUFFORCE, s.sndbuf / 2);
  set_buf(sk, SO_RCVBUF, SO_RCVBUFFORCE, s.rcvbuf / 2);
  return set_pass_options(sk, s.options);
}

// A path whose old socket file is still there (the process was killed after
// the checkpoint) is taken over: that file goes, the new socket binds; any
// other file there is not touched. A socket whose file had been unlinked is
// bound and unlinked again. The file gets its mode and owner back.
Err bind_name(int sk, const SockFields &s, bool unlink_now = true) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, s.name, s.name_len);
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + s.name_len);
  bool is_path = s.name[0] != 0;
  char path[109] = "";
  if (is_path) snprintf(path, sizeof path, "%.*s", (int)s.name_len, s.name);
  struct stat st;
  if (is_path && lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode) || st.st_ino != s.vfs_ino)
      return errf("cannot listen on %s again: another file is there now", path);
    if (unlink(path) < 0) return sys_err("removing the old socket file %s", path);
  }
  if (bind(sk, (struct sockaddr *)&addr, len) < 0)
    return sys_err("cannot bind unix socket %s again", is_path ? path : "(abstract)");
  if (!is_path) return ok();
  if (!s.file_present) return !unlink_now || unlink(path) == 0 ? ok() : sys_err("unlinking %s", path);
  if (chmod(path, s.file_mode & 07777) < 0 || lchown(path, s.file_uid, s.file_gid) < 0)
    return sys_err("mode and owner of socket file %s", path);
  return ok();
}

Err open_listener(OpenCtx &c, size_t i, const SockFields &s) {
  Fd sk(socket(AF_UNIX, (int)s.type | SOCK_CLOEXEC, 0));
  if (!sk.ok()) return sys_err("socket");
  TRY(set_bufs(sk.get(), s));
  TRY(bind_name(sk.get(), s));
  if (listen(sk.get(), (int)s.backlog) < 0) return sys_err("listen");
  return c.place(i, sk.release());
}

// The name a socket was bound to, as connect(2) and sendto(2) take it.
socklen_t name_addr(const SockFields &s, struct sockaddr_un *addr) {
  *addr = {};
  addr->sun_family = AF_UNIX;
  memcpy(addr->sun_path, s.name, s.name_len);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + s.name_len);
}

// A bound datagram socket (a server such as syslog's): bound again, and its
// queued datagrams sent to it again from an unbound socket (they came from
// unbound ones: their senders were nameless).
Err open_dgram_server(OpenCtx &c, size_t i, const SockFields &s) {
  Fd sk(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  Fd from(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sk.ok() || !from.ok()) return sys_err("socket");
  TRY(set_bufs(sk.get(), s));
  // A path name that had been unlinked goes once `from` is connected.
  struct sockaddr_un addr;
  socklen_t len = name_addr(s, &addr);
  TRY(bind_name(sk.get(), s, false));
  if (connect(from.get(), (struct sockaddr *)&addr, len) < 0) return sys_err("connecting to a datagram socket again");
  if (!s.file_present && s.name[0] && unlink(addr.sun_path) < 0) return sys_err("unlinking %s", addr.sun_path);
  TRY(send_queue(from.get(), s, nullptr));
  return c.place(i, sk.release());
}

Err open_pair(OpenCtx &c, size_t i);

// A datagram socket connected to a bound one of the set: connected to it by
// its name again (it is opened first).
Err open_dgram_client(OpenCtx &c, size_t i, const SockFields &a, size_t server, const SockFields &srv) {
  if (c.fds[server] < 0) TRY(open_pair(c, server));
  Fd sk(socket(AF_UNIX, (int)a.type | SOCK_CLOEXEC, 0));
  if (!sk.ok()) return sys_err("socket");
  TRY(set_bufs(sk.get(), a));
  struct sockaddr_un addr;
  socklen_t len = name_addr(srv, &addr);
  if (connect(sk.get(), (struct sockaddr *)&addr, len) < 0) return sys_err("connecting to a datagram socket again");
  return c.place(i, sk.release());
}

// An accepted connection: a nameless socket connects to the listener (opened
// first) and the listener accepts it, so the accepted end has the listener's
// name as before.
Err accepted_pair(OpenCtx &c, const SockFields &s, int sv[2]) {
  int l = listener_of(c.set, s);
  if (l < 0) return bad_image("an accepted unix connection without its listener");
  if (c.fds[l] < 0) TRY(open_pair(c, (size_t)l));
  Fd client(socket(AF_UNIX, (int)s.type | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr;
  socklen_t len = name_addr(s, &addr);
  if (!client.ok() || connect(client.get(), (struct sockaddr *)&addr, len) < 0)
    return sys_err("connecting to unix socket %s again", s.name[0] ? addr.sun_path : "(abstract)");
  int acc = accept4(c.fds[l], nullptr, nullptr, SOCK_CLOEXEC);
  if (acc < 0) return sys_err("accepting a unix connection again");
  sv[0] = acc;
  sv[1] = client.release();
  return ok();
}

Err open_pair(OpenCtx &c, size_t i) {
  SockFields a, b;
  if (!fields(c.set.fdescs[i], &a)) return bad_image("socket description %u", (unsigned)i);
  if (a.listening) return open_listener(c, i, a);
  if (a.name_len && a.type == SOCK_DGRAM) return open_dgram_server(c, i, a);
  int peer = a.peer ? desc_with_ino(c.set, a.peer) : -1;
  if (peer >= 0 && (!fields(c.set.fdescs[peer], &b) || b.type != a.type || b.listening || (a.name_len && b.name_len)))
    return bad_image("socket description %d does not match its peer", peer);
  if (peer >= 0 && b.name_len && a.type == SOCK_DGRAM) {
    if (a.len) return bad_image("socket description %u: a queue from a bound datagram socket", (unsigned)i);
    return open_dgram_client(c, i, a, (size_t)peer, b);
  }
  int sv[2];
  if (a.name_len || (peer >= 0 && b.name_len)) {
    TRY(accepted_pair(c, a.name_len ? a : b, sv));  // sv[0] accepted, sv[1] the connecting end
    if (!a.name_len) std::swap(sv[0], sv[1]);
  } else if (socketpair(AF_UNIX, (int)a.type | SOCK_CLOEXEC, 0, sv) < 0) {
    return sys_err("socketpair");
  }
  Fd s0(sv[0]), s1(sv[1]);
  TRY(set_bufs(s0.get(), a));
  if (peer >= 0) TRY(set_bufs(s1.get(), b));
  TRY(send_queue(s1.get(), a, peer >= 0 ? &b : nullptr));  // a's receive queue came from its peer
  if (peer >= 0) TRY(send_queue(s0.get(), b, &a));
  TRY(c.place(i, s0.release()));
  if (peer >= 0) TRY(c.place((size_t)peer, s1.release()));
  return ok();
}
}  // namespace

extern const FdKind kUnixKind = {
    FileKind::UnixSocket, "unix socket", match, dump, valid, open_pair, nullptr, peer_outside, nullptr, nullptr, check,
    nullptr, nullptr, nullptr, nullptr, nullptr, map_names,
};
