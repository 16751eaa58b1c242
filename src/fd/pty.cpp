// Pseudo-terminals whose master and slave are both inside the set (a job that
// made its own pty, as script(1), ssh or a terminal emulator do; pty(7)).
//
// The master (/dev/ptmx or /dev/pts/ptmx, 5:2) carries the pty's state, read
// through the master fd (drivers/tty/tty_io.c: a master's termios, window
// size and foreground group ioctls act on its slave): the slave's index
// (TIOCGPTN), termios, window size, packet mode (TIOCGPKT), lock (TIOCGPTLCK),
// the foreground process group, and the data queued both ways: what the slave
// wrote that the master did not read yet and what the master wrote that the
// slave did not read yet. Reading a tty queue consumes it, so chkpt reads both
// and queues them again at once, under a raw termios (no echo, no output or
// input processing), then sets the saved termios back.
//
// A slave fd is first seen as a terminal (chardev.cpp); once the set is
// collected, every terminal description of this master's slave becomes a pty
// slave description naming the master (after_collect). At restore the master
// opens a new pty (the same index when it is free: ptmx hands out the lowest
// free one, so the lower ones are held while asking), its slave
// descriptions are opened from it (TIOCGPTPEER), and a session leader whose
// controlling terminal was the slave takes it again (TIOCSCTTY) before it
// forks; the first process of the foreground group makes it foreground.
//
// Refused at checkpoint: a master whose slave no process of the set holds (or
// a process outside it holds too), a process whose controlling terminal is
// the slave but whose session leader is outside the set, /dev/tty opened on
// such a terminal when the terminal behind it is not known, complete lines
// waiting for a canonical-mode reader, a
// packet-mode status byte not yet read, EXTPROC with data queued. A line being typed into a canonical-mode
// slave and not yet ended is not visible (TIOCINQ counts whole lines only,
// drivers/tty/n_tty.c) and is not saved.
//
// Master payload (docs/FORMAT.md, kind 15): u32 index, u64 slave_dev,
// slave_rdev (the slave's devpts device and number), u32 iflag, oflag, cflag,
// lflag, u32 ispeed, ospeed, u8 line, blob cc (c_cc as the architecture's
// termios has it), u16 rows, cols, xpixel, ypixel, u8 packet, u8 locked,
// i32 fg_pgrp (0: none), u32 in_len, blob data (in_len bytes queued for the
// slave to read, then the bytes queued for the master to read).
// Slave payload (kind 16): u32 master (the master's description id), empty
// blob; since 2.2 then u8 1 for /dev/tty opened on the slave (restored by
// opening /dev/tty with the new slave as controlling terminal: open_dev_tty).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "model.h"

namespace {
constexpr uint32_t kMaxQueue = 64 << 10;  // N_TTY_BUF_SIZE is 4 KiB; flip buffers hold some more
constexpr uint32_t kMaxIndex = 1 << 20;   // devpts minors (MINORBITS)
constexpr uint32_t kMaxCc = 64;

bool is_ptmx(dev_t rdev) { return major(rdev) == 5 && minor(rdev) == 2; }

struct PtyFields {
  uint32_t index = 0;
  uint64_t slave_dev = 0, slave_rdev = 0;
  uint32_t iflag = 0, oflag = 0, cflag = 0, lflag = 0, ispeed = 0, ospeed = 0;
  uint8_t line = 0;
  const uint8_t *cc = nullptr;
  uint32_t cc_len = 0;
  uint16_t ws[4] = {};
  uint8_t packet = 0, locked = 0;
  int32_t fg_pgrp = 0;
  uint32_t in_len = 0;
  const uint8_t *data = nullptr;
  uint32_t len = 0;
};

bool fields(const FdescRec &f, PtyFields *s) {
  Dec d = payload_of(f);
  s->index = d.u32();
  s->slave_dev = d.u64();
  s->slave_rdev = d.u64();
  s->iflag = d.u32(); s->oflag = d.u32(); s->cflag = d.u32(); s->lflag = d.u32();
  s->ispeed = d.u32(); s->ospeed = d.u32();
  s->line = d.u8();
  s->cc = d.blob(&s->cc_len, kMaxCc);
  for (uint16_t &w : s->ws) w = d.u16();
  s->packet = d.u8();
  s->locked = d.u8();
  s->fg_pgrp = (int32_t)d.u32();
  s->in_len = d.u32();
  s->data = d.blob(&s->len, 2 * kMaxQueue);
  return payload_done(d);
}

bool valid_master(const FdescRec &f) {
  PtyFields s;
  return fields(f, &s) && s.index < kMaxIndex && s.cc_len == sizeof(((struct termios *)0)->c_cc) &&
         s.packet <= 1 && s.locked <= 1 && s.fg_pgrp >= 0 && s.in_len <= s.len && s.in_len <= kMaxQueue &&
         s.len - s.in_len <= kMaxQueue && (!strcmp(f.path.c(), "/dev/ptmx") || !strcmp(f.path.c(), "/dev/pts/ptmx"));
}

struct termios termios_of(const PtyFields &s) {
  struct termios t = {};
  t.c_iflag = s.iflag; t.c_oflag = s.oflag; t.c_cflag = s.cflag; t.c_lflag = s.lflag;
  t.c_line = s.line;
  memcpy(t.c_cc, s.cc, sizeof t.c_cc);
  cfsetispeed(&t, (speed_t)s.ispeed);
  cfsetospeed(&t, (speed_t)s.ospeed);
  return t;
}

// TIOCGPTPEER takes open(2) flags as they are: O_LARGEFILE is not added as
// open(2) adds it on 64-bit (fs/open.c force_o_largefile), and O_CLOEXEC
// would stay in the file's flags (fdinfo shows them): close-on-exec is set
// on the fd instead.
int open_peer(int m, int flags) {
  int fd = ioctl(m, TIOCGPTPEER, flags | O_NOCTTY | O_LARGEFILE);
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

// A slave file of master m (TIOCGPTPEER, Linux 4.13: no path lookup, so it is
// this pty's even in another devpts instance). A locked pty cannot be opened
// (drivers/tty/pty.c pty_open): the lock is lifted for the open.
int open_slave(int m, int flags) {
  int locked = 0, zero = 0;
  ioctl(m, TIOCGPTLCK, &locked);
  if (locked) ioctl(m, TIOCSPTLCK, &zero);
  int s = open_peer(m, flags);
  int e = errno;
  if (locked) ioctl(m, TIOCSPTLCK, &locked);
  errno = e;
  return s;
}

int inq(int fd) {
  int n = 0;
  return ioctl(fd, FIONREAD, &n) < 0 ? -1 : n;
}

// Queue `in` for the slave to read and `out` for the master to read, then set
// termios `t`: raw meanwhile, so nothing is echoed or processed a second
// time. The pty moves data to the other side in a kernel worker: wait until
// both queues hold what was written (a few ms; give up after 2 s).
Err requeue(int m, int s, const uint8_t *in, uint32_t in_n, const uint8_t *out, uint32_t out_n,
            const struct termios &t) {
  if (!in_n && !out_n) return tcsetattr(s, TCSANOW, &t) < 0 ? sys_err("termios of a pty") : ok();
  // IXON stays: a change of it tells a packet-mode master a status byte
  // (drivers/tty/pty.c pty_set_termios); with it on, the saved input holds no
  // START/STOP characters (they were taken as flow control).
  struct termios raw = t;
  raw.c_iflag = t.c_iflag & IXON;
  raw.c_oflag = 0;
  raw.c_lflag = 0;
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (tcsetattr(s, TCSANOW, &raw) < 0) return sys_err("raw termios of a pty");
  int base_in = inq(s), base_out = inq(m);
  if ((in_n && write(m, in, in_n) != (ssize_t)in_n) || (out_n && write(s, out, out_n) != (ssize_t)out_n))
    return sys_err("queueing a pty's data again");
  for (int waited = 0; inq(s) < base_in + (int)in_n || inq(m) < base_out + (int)out_n; waited++) {
    if (waited == 2000) return errf("a pty did not take its queued data again");
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, nullptr);
  }
  return tcsetattr(s, TCSANOW, &t) < 0 ? sys_err("termios of a pty") : ok();
}

// Read n bytes queued at fd (a master in packet mode puts a TIOCPKT_DATA
// byte before each read's data). The fd may be the target's own, blocking:
// each read waits for data first, a second at most.
Err take_queue(int fd, uint32_t n, bool packet, Vec<uint8_t> *out) {
  uint8_t buf[4097];
  while (n) {
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, 1000) <= 0) return errf("a pty's queue ended early");
    size_t want = (n < 4096 ? n : 4096) + (packet ? 1 : 0);
    ssize_t r = read(fd, buf, want);
    if (r <= (packet ? 1 : 0)) return r < 0 ? sys_err("reading a pty's queue") : errf("a pty's queue ended early");
    uint32_t head = packet ? 1 : 0, got = (uint32_t)r - head;
    for (uint32_t k = 0; k < got; k++) out->push(buf[head + k]);
    n -= got > n ? n : got;
  }
  return ok();
}

struct Queues {
  Vec<uint8_t> in, out;
};

// Both queues, read and put back at once (the target goes on unharmed).
Err save_queues(const FdProbe &p, int m, int s, const struct termios &t, int packet, Queues *q) {
  int in_n = inq(s), out_n = inq(m);
  if (in_n < 0 || out_n < 0) return sys_err("process %d fd %d: FIONREAD of a pty", p.pid, p.fd);
  if (!in_n && !out_n) return ok();
  if ((uint32_t)in_n > kMaxQueue || (uint32_t)out_n > kMaxQueue)
    return errf("process %d fd %d: a pty holds more than %u queued bytes", p.pid, p.fd, kMaxQueue);
  if (in_n && (t.c_lflag & ICANON))
    return errf("process %d fd %d: a pty holds typed lines its slave's reader has not read: not supported yet",
                p.pid, p.fd);
  if (t.c_lflag & EXTPROC) return errf("process %d fd %d: a pty in EXTPROC mode with data queued: not supported", p.pid, p.fd);
  // What was read goes back even if the rest could not be read.
  Err e = take_queue(s, (uint32_t)in_n, false, &q->in);
  if (!e) e = take_queue(m, (uint32_t)out_n, packet != 0, &q->out);
  Err back = requeue(m, s, q->in.begin(), (uint32_t)q->in.size(), q->out.begin(), (uint32_t)q->out.size(), t);
  if (e) return wrap(e, "process %d fd %d", p.pid, p.fd);
  return back;
}

bool match_master(const FdProbe &p) { return S_ISCHR(p.st->st_mode) && is_ptmx(p.st->st_rdev); }

Err dump_master(const FdProbe &p, FdescRec *f) {
  Fd pidfd(syscall(SYS_pidfd_open, p.pid, 0));
  if (!pidfd.ok()) return sys_err("pidfd_open %d", p.pid);
  Fd m(syscall(SYS_pidfd_getfd, pidfd.get(), p.fd, 0));
  if (!m.ok()) return sys_err("pidfd_getfd of process %d fd %d", p.pid, p.fd);
  unsigned index = 0;
  int packet = 0, locked = 0, fg = 0;
  struct termios t;
  struct winsize ws = {};
  if (ioctl(m.get(), TIOCGPTN, &index) < 0 || ioctl(m.get(), TIOCGPTLCK, &locked) < 0 ||
      ioctl(m.get(), TIOCGPKT, &packet) < 0 || tcgetattr(m.get(), &t) < 0 || ioctl(m.get(), TIOCGWINSZ, &ws) < 0)
    return sys_err("process %d fd %d: the state of a pty master (Linux 3.8 or later)", p.pid, p.fd);
  if (ioctl(m.get(), TIOCGPGRP, &fg) < 0) fg = 0;
  Fd s(open_slave(m.get(), O_RDWR | O_NONBLOCK));
  struct stat st;
  if (!s.ok() || fstat(s.get(), &st) < 0) return sys_err("process %d fd %d: opening the pty's slave", p.pid, p.fd);
  if (packet) {
    struct pollfd pf = {m.get(), POLLPRI, 0};
    if (poll(&pf, 1, 0) > 0 && (pf.revents & POLLPRI))
      return errf("process %d fd %d: a packet-mode pty with a status byte not yet read: not supported", p.pid, p.fd);
  }
  Queues q;
  TRY(save_queues(p, m.get(), s.get(), t, packet, &q));
  uint8_t head[256];
  Enc e(head, sizeof head);
  e.u32(index);
  e.u64(st.st_dev);
  e.u64(st.st_rdev);
  e.u32(t.c_iflag); e.u32(t.c_oflag); e.u32(t.c_cflag); e.u32(t.c_lflag);
  e.u32((uint32_t)cfgetispeed(&t)); e.u32((uint32_t)cfgetospeed(&t));
  e.u8(t.c_line);
  e.blob(t.c_cc, sizeof t.c_cc);
  e.u16(ws.ws_row); e.u16(ws.ws_col); e.u16(ws.ws_xpixel); e.u16(ws.ws_ypixel);
  e.u8(packet != 0);
  e.u8(locked != 0);
  e.u32((uint32_t)(fg > 0 ? fg : 0));
  e.u32((uint32_t)q.in.size());
  Vec<uint8_t> data;
  for (uint8_t c : q.in) data.push(c);
  for (uint8_t c : q.out) data.push(c);
  return set_payload(f, e, data.begin(), (uint32_t)data.size());
}

uint64_t rdev_payload(const FdescRec &f) {
  uint64_t rdev = 0, tty;
  terminal_fields(f, &rdev, &tty);
  return rdev;
}

// A terminal description of this pty's slave: one of the slave itself, or of
// /dev/tty opened on it (*dev_tty).
bool is_slave_of(const FdescRec &d, const PtyFields &s, bool *dev_tty) {
  uint64_t rdev = 0, tty = 0;
  if (d.kind != FileKind::Terminal || !terminal_fields(d, &rdev, &tty)) return false;
  *dev_tty = major((dev_t)rdev) == 5 && minor((dev_t)rdev) == 0;
  return *dev_tty ? tty == s.slave_rdev : d.dev == s.slave_dev && rdev == s.slave_rdev;
}

// The set's terminal descriptions of this master's slave become its slaves.
void adopt_slaves(SetImage &set, size_t i) {
  PtyFields s;
  if (!fields(set.fdescs[i], &s)) return;
  for (auto &d : set.fdescs) {
    bool dev_tty;
    if (!is_slave_of(d, s, &dev_tty)) continue;
    d.kind = FileKind::PtySlave;
    uint8_t buf[8], t[1];
    Enc e(buf, sizeof buf), tail(t, sizeof t);
    e.u32((uint32_t)i);
    tail.u8(1);
    set_payload(&d, e, nullptr, 0, dev_tty ? &tail : nullptr);
  }
}

// *dev_tty: the description is of /dev/tty opened on the slave (2.2).
bool slave_master(const FdescRec &f, uint32_t *m, bool *dev_tty = nullptr) {
  Dec d = payload_of(f);
  *m = d.u32();
  uint32_t n;
  d.blob(&n, 0);
  uint8_t via = d.left() ? d.u8() : 0;
  if (dev_tty) *dev_tty = via == 1;
  return payload_done(d) && via <= 1;
}

// A /dev/tty description on a new pty's slave: only a process whose
// controlling terminal the slave is can open one. A child of rstrt takes the
// slave as its controlling terminal in a session of its own, opens /dev/tty,
// hands the fd over (SCM_RIGHTS) and exits; the slave is nobody's controlling
// terminal again once it is gone (a pty is not hung up when its session
// leader exits: drivers/tty/tty_jobctrl.c disassociate_ctty).
int open_dev_tty(int slave, int flags) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGHUP, SIG_IGN);
    int t = setsid() >= 0 && ioctl(slave, TIOCSCTTY, 0) == 0 ? open("/dev/tty", flags | O_NOCTTY | O_CLOEXEC) : -1;
    if (t < 0) _exit(1);
    alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof t)] = {};
    char byte = 0;
    struct iovec iov = {&byte, 1};
    struct msghdr mh = {};
    mh.msg_iov = &iov; mh.msg_iovlen = 1; mh.msg_control = ctl; mh.msg_controllen = sizeof ctl;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof t);
    memcpy(CMSG_DATA(c), &t, sizeof t);
    _exit(sendmsg(sv[1], &mh, 0) == 1 ? 0 : 1);
  }
  close(sv[1]);
  int fd = -1, status = 0;
  if (pid > 0) {
    alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof fd)] = {};
    char byte;
    struct iovec iov = {&byte, 1};
    struct msghdr mh = {};
    mh.msg_iov = &iov; mh.msg_iovlen = 1; mh.msg_control = ctl; mh.msg_controllen = sizeof ctl;
    if (recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC) == 1 && CMSG_FIRSTHDR(&mh) && CMSG_FIRSTHDR(&mh)->cmsg_type == SCM_RIGHTS)
      memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof fd);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  close(sv[0]);
  if (fd >= 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
    close(fd);
    fd = -1;
  }
  return fd;
}

bool tty_is(uint64_t tty_nr, uint64_t rdev) {
  return tty_nr && major((dev_t)tty_nr) == major((dev_t)rdev) && minor((dev_t)tty_nr) == minor((dev_t)rdev);
}

bool holds_slave(const SetImage &set, size_t i) {
  for (size_t j = 0; j < set.fdescs.size(); j++) {
    const FdescRec &d = set.fdescs[j];
    uint32_t m;
    size_t k;
    int fd;
    if (d.kind == FileKind::PtySlave && slave_master(d, &m) && m == i && first_holder(set, (uint32_t)j, &k, &fd))
      return true;
  }
  return false;
}

bool in_set(const SetImage &set, int32_t pid) {
  for (auto &t : set.tree)
    if (t.pid == pid) return true;
  return false;
}

bool holds_dev_tty(const ProcImage &pi, const SetImage &set) {
  for (auto &f : pi.files) {
    const FdescRec &d = set.fdescs[f.desc];
    if (d.kind == FileKind::Terminal && major((dev_t)rdev_payload(d)) == 5 && minor((dev_t)rdev_payload(d)) == 0)
      return true;
  }
  return false;
}

// A process outside the set holding the slave (it would lose its terminal):
// its pid, or 0. One pass over /proc, as for pipes (files.cpp).
int outside_holder(const SetImage &set, const PtyFields &s) {
  DIR *procdir = opendir("/proc");
  if (!procdir) return 0;
  char want[32];
  snprintf(want, sizeof want, "/dev/pts/%u", s.index);
  int found = 0;
  while (struct dirent *de = readdir(procdir)) {
    int pid = atoi(de->d_name);
    if (pid <= 0 || pid == getpid() || in_set(set, pid)) continue;
    char path[300];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR *fds = opendir(path);
    while (fds && !found) {
      struct dirent *fe = readdir(fds);
      if (!fe) break;
      char link[32];
      snprintf(path, sizeof path, "/proc/%d/fd/%s", pid, fe->d_name);
      ssize_t n = readlink(path, link, sizeof link - 1);
      struct stat st;
      if (n <= 0 || (link[n] = 0, strcmp(link, want)) || stat(path, &st) < 0) continue;
      if (st.st_rdev == s.slave_rdev && st.st_dev == s.slave_dev) found = pid;
    }
    if (fds) closedir(fds);
    if (found) break;
  }
  closedir(procdir);
  return found;
}

Err check_master(const SetImage &set, size_t i) {
  PtyFields s;
  size_t k;
  int fd;
  if (!fields(set.fdescs[i], &s) || !first_holder(set, (uint32_t)i, &k, &fd)) return ok();
  int pid = set.procs[k].proc.pid;
  if (!holds_slave(set, i))
    return errf("process %d fd %d: a pty master whose slave (/dev/pts/%u) no process of the set holds: not supported",
                pid, fd, s.index);
  if (int out = outside_holder(set, s))
    return errf("process %d fd %d: the slave /dev/pts/%u of this pty master is also held by process %d, outside "
                "the checkpoint: not supported", pid, fd, s.index, out);
  bool fg_found = !s.fg_pgrp;
  for (auto &pi : set.procs) {
    const ProcessRec &pr = pi.proc;
    if (!tty_is(pr.tty_nr, s.slave_rdev)) continue;
    if (!in_set(set, pr.sid))
      return errf("process %d: its controlling terminal /dev/pts/%u is in the set, its session leader %d is not: "
                  "not supported", pr.pid, s.index, pr.sid);
    if (holds_dev_tty(pi, set))
      return errf("process %d: /dev/tty opened on the pty /dev/pts/%u of the set: not supported yet", pr.pid, s.index);
    if (pr.pgid == s.fg_pgrp) fg_found = true;
  }
  if (!fg_found)
    return errf("process %d fd %d: the foreground group %d of /dev/pts/%u is not in the set", pid, fd, s.fg_pgrp, s.index);
  return ok();
}

// ptmx hands out the lowest free index: ask until it is `want` or higher,
// holding the lower ones meanwhile.
int open_ptmx(const char *path, uint32_t want) {
  int held[64], n = 0, m = -1;
  for (;;) {
    m = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    unsigned idx = 0;
    if (m < 0 || ioctl(m, TIOCGPTN, &idx) < 0 || idx >= want || n == 64) break;
    held[n++] = m;
  }
  while (n) close(held[--n]);
  return m;
}

Err open_master(OpenCtx &c, size_t i) {
  const FdescRec &f = c.set.fdescs[i];
  PtyFields s;
  if (!fields(f, &s)) return bad_image("pty description %u", (unsigned)i);
  Fd m(open_ptmx(f.path.c(), s.index));
  if (!m.ok()) return sys_err("cannot open %s", f.path.c());
  int zero = 0;
  if (ioctl(m.get(), TIOCSPTLCK, &zero) < 0) return sys_err("unlocking a new pty");
  Fd sl(open_peer(m.get(), O_RDWR | O_NONBLOCK));
  if (!sl.ok()) return sys_err("opening a new pty's slave");
  struct winsize ws = {s.ws[0], s.ws[1], s.ws[2], s.ws[3]};
  if (ioctl(m.get(), TIOCSWINSZ, &ws) < 0) return sys_err("window size of a pty");
  TRY(requeue(m.get(), sl.get(), s.data, s.in_len, s.data + s.in_len, s.len - s.in_len, termios_of(s)));
  int packet = s.packet, locked = s.locked;
  for (size_t j = 0; j < c.set.fdescs.size(); j++) {
    const FdescRec &d = c.set.fdescs[j];
    uint32_t mi;
    bool dev_tty;
    if (d.kind != FileKind::PtySlave || !slave_master(d, &mi, &dev_tty) || mi != i) continue;
    int fd = dev_tty ? open_dev_tty(sl.get(), (int)(d.flags & O_ACCMODE)) : open_peer(m.get(), (int)(d.flags & O_ACCMODE));
    if (fd < 0) return sys_err(dev_tty ? "opening /dev/tty on a new pty" : "opening a pty's slave");
    TRY(c.place(j, fd));
  }
  if (ioctl(m.get(), TIOCPKT, &packet) < 0 || ioctl(m.get(), TIOCSPTLCK, &locked) < 0)
    return sys_err("packet mode and lock of a pty");
  return c.place(i, m.release());
}

bool never(const FdProbe &) { return false; }

bool valid_slave(const FdescRec &f) {
  uint32_t m;
  return slave_master(f, &m);
}

Err slave_in_set(const SetImage &set, size_t i) {
  uint32_t m;
  if (!slave_master(set.fdescs[i], &m) || m >= set.fdescs.size() || set.fdescs[m].kind != FileKind::PtyMaster)
    return bad_image("pty slave description %u names no pty master", (unsigned)i);
  return ok();
}

// The master opens its slaves with it.
Err open_slave_desc(OpenCtx &c, size_t i) {
  uint32_t m;
  TRY(slave_in_set(c.set, i));
  slave_master(c.set.fdescs[i], &m);
  if (c.fds[m] >= 0) return errf("internal: pty slave description %u was not opened with its master", (unsigned)i);
  return open_master(c, m);
}

Err dump_slave(const FdProbe &p, FdescRec *) { return errf("internal: process %d fd %d", p.pid, p.fd); }
// A slave description of master i, open in this process (at desc_fds): the
// check made sure there is one. No new open: the pty may be locked again.
int slave_fd(const SetImage &set, size_t i, const Vec<int> &desc_fds) {
  for (size_t j = 0; j < set.fdescs.size() && j < desc_fds.size(); j++) {
    uint32_t m;
    if (set.fdescs[j].kind == FileKind::PtySlave && slave_master(set.fdescs[j], &m) && m == i) return desc_fds[j];
  }
  return -1;
}
}  // namespace

// A session leader whose controlling terminal was a pty of the set takes it
// again, before it forks (children inherit it at fork).
Err restore_ctty_child(const SetImage &set, size_t k, const Vec<int> &desc_fds) {
  const ProcessRec &pr = set.procs[k].proc;
  if (pr.sid != pr.pid || !pr.tty_nr) return ok();
  for (size_t i = 0; i < set.fdescs.size() && i < desc_fds.size(); i++) {
    PtyFields s;
    if (set.fdescs[i].kind != FileKind::PtyMaster || !fields(set.fdescs[i], &s) || !tty_is(pr.tty_nr, s.slave_rdev))
      continue;
    if (ioctl(slave_fd(set, i, desc_fds), TIOCSCTTY, 0) < 0) return sys_err("controlling terminal /dev/pts/%u", s.index);
  }
  return ok();
}

bool ctty_outside_set(const SetImage &set, size_t k) {
  const ProcessRec &pr = set.procs[k].proc;
  if (pr.sid != pr.pid || !pr.tty_nr) return false;
  for (const FdescRec &d : set.fdescs) {
    PtyFields s;
    if (d.kind == FileKind::PtyMaster && fields(d, &s) && tty_is(pr.tty_nr, s.slave_rdev)) return false;
  }
  return true;
}

// The first process of a pty's foreground group makes it foreground again
// (its signals are all blocked, so no SIGTTOU stops it: tty_check_change).
Err restore_tty_pgrp_child(const SetImage &set, size_t k, const Vec<int> &desc_fds) {
  const ProcessRec &pr = set.procs[k].proc;
  for (size_t i = 0; i < set.fdescs.size() && i < desc_fds.size(); i++) {
    PtyFields s;
    if (set.fdescs[i].kind != FileKind::PtyMaster || !fields(set.fdescs[i], &s) || !s.fg_pgrp ||
        s.fg_pgrp != pr.pgid || !tty_is(pr.tty_nr, s.slave_rdev))
      continue;
    size_t first = k;
    for (size_t j = 0; j < k; j++)
      if (set.procs[j].proc.pgid == pr.pgid && first == k) first = j;
    if (first != k) continue;
    if (tcsetpgrp(slave_fd(set, i, desc_fds), pr.pgid) < 0) return sys_err("foreground group of /dev/pts/%u", s.index);
  }
  return ok();
}

extern const FdKind kPtyMasterKind = {
    FileKind::PtyMaster, "pty master", match_master, dump_master, valid_master, open_master, adopt_slaves, nullptr,
    nullptr, nullptr, check_master, nullptr,
};
extern const FdKind kPtySlaveKind = {
    FileKind::PtySlave, "pty slave", never, dump_slave, valid_slave, open_slave_desc, nullptr, nullptr, nullptr, nullptr,
    nullptr, nullptr, slave_in_set,
};
