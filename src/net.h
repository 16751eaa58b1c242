// Transport for migrate/restartd (docs/MIGRATION.md): TCP addresses and
// sockets, the pre-shared key, the authenticated framed stream (handshake with
// fresh nonces, then frames each carrying an HMAC-SHA256 over the session,
// direction, sequence number and contents), the pumps that move an image
// between a pipe and that stream, helper processes, and the progress meter.
#pragma once
#include <stdint.h>

#include "base.h"
#include "sha256.h"

constexpr uint16_t kMigratePort = 7450;
constexpr uint32_t kFrameData = 64u << 10;   // payload of a data frame as sent
constexpr uint32_t kFrameMax = 1u << 20;     // the largest payload a reader accepts
constexpr uint32_t kFrameFinal = 1;          // flag: the last frame of the image stream
constexpr size_t kNonceLen = 32;

// ---- sockets -----------------------------------------------------------------

// "HOST", "HOST:PORT" or "[IPV6]:PORT" into host and port (def when absent).
Err split_hostport(const char *s, char *host, size_t cap, uint16_t *port, uint16_t def);
// Connect to HOST[:PORT] (a name or a numeric address), giving up after timeout_s.
Err tcp_connect(const char *hostport, int timeout_s, Fd *out);
// Listen on ADDR[:PORT] (numeric, or a name resolving to a local address).
Err tcp_listen(const char *addrport, Fd *out);
// Send and receive calls fail with EAGAIN after seconds without progress.
Err set_io_timeout(int fd, int seconds);
// "10.0.0.1:5555": the peer's (or the local) address of a socket, for logs.
void sock_name(int fd, bool peer, char *out, size_t cap);

// ---- the key -------------------------------------------------------------------

// The pre-shared key: the whole content of a file (16 to 4096 bytes), which must
// not be accessible to group or others.
struct Psk {
  uint8_t b[4096];
  size_t n = 0;
  ~Psk() { wipe(b, sizeof b); }
};
Err load_key(const char *path, Psk *k);

// ---- the authenticated stream ------------------------------------------------

// One end of an authenticated connection. The handshake proves to each side that
// the other holds the key and derives a session key from both fresh nonces;
// every frame after it is MACed under the session key, so frames can be neither
// forged, altered, reordered, dropped, nor replayed into another connection.
class Channel {
 public:
  Channel() = default;
  Channel(const Channel &) = delete;
  ~Channel() { wipe(key_, sizeof key_); }
  Err client_hello(int fd, const Psk &k);
  // On a wrong key or version the client is told so (unauthenticated) and
  // the error says which. With deadline_s, the whole handshake must be done
  // within that many seconds, however the client trickles its bytes in.
  Err server_hello(int fd, const Psk &k, int deadline_s = 0);
  Err send(const void *p, uint32_t n, uint32_t flags);
  // Receive one frame of at most cap bytes into buf; fails unless it verifies.
  Err recv(uint8_t *buf, uint32_t cap, uint32_t *n, uint32_t *flags);
  int fd() const { return fd_; }
  uint64_t frames_received() const { return in_seq_; }

  // The MAC of a frame (public for the unit tests).
  static void frame_mac(const uint8_t key[kSha256Len], uint8_t dir, uint64_t seq, const uint8_t hdr[8],
                        const void *data, uint32_t n, uint8_t out[kSha256Len]);

 private:
  void derive(const Psk &k, const uint8_t *snonce, const uint8_t *cnonce);
  int fd_ = -1;
  uint8_t key_[kSha256Len] = {};
  uint64_t out_seq_ = 0, in_seq_ = 0;
  uint8_t me_ = 0, peer_ = 0;
};

// A "REFUSED ..." or "OK PID" reply, MACed like every other frame.
Err send_reply(Channel &ch, const char *text);
// Wait up to timeout_s for the reply; *text holds it NUL-terminated.
Err recv_reply(Channel &ch, int timeout_s, char *text, size_t cap);

// ---- the pumps ---------------------------------------------------------------

class Progress;

// Image bytes from in_fd (a pipe) into data frames, then the final frame. Stops
// early when the peer speaks first (a refusal arriving mid-stream).
Err pump_to_channel(int in_fd, Channel &ch, Progress *progress);
// Verified data frames into out_fd (and copy_fd unless -1). A frame is passed on
// only once the frame after it has verified too, so the reader sees the end of
// the image only after the final frame has authenticated the end of the stream.
// On error *side says where: kPumpStream (the connection or a MAC), kPumpOut
// (out_fd stopped taking data), kPumpCopy (writing the copy).
enum { kPumpStream = 1, kPumpOut = 2, kPumpCopy = 3 };
Err pump_from_channel(Channel &ch, int out_fd, int copy_fd, int *side);

// ---- helper processes ----------------------------------------------------------

// A forked helper whose error, if any, comes back to the parent as its one line.
class Worker {
 public:
  // Runs in the child; may set *code (default 1 on error) to say which side failed.
  using Fn = Err (*)(void *ctx, int *code);
  Worker() = default;
  Worker(const Worker &) = delete;
  ~Worker() { kill_now(); }
  // close_fd: the parent's end of a pipe to the helper, which the helper must
  // not hold (or it would never see end-of-file, nor a broken pipe).
  Err start(Fn fn, void *ctx, int close_fd);
  // Wait for it and return its error; *code is its exit code (0 when it succeeded).
  Err join(int *code = nullptr);
  // Kill it (if it still runs) and join: an error it reported before is kept.
  Err stop(int *code) { kill_now_signal(); return join(code); }
  void kill_now();  // SIGKILL and reap, if still running
  int pid() const { return pid_; }

 private:
  void kill_now_signal();
  int pid_ = -1;
  Fd err_;
};

// ---- progress -----------------------------------------------------------------

// "migrate: 120.0 of ~256.0 MiB, 410 MiB/s, ETA 0:01" on stderr, redrawn at most
// four times a second, only when stderr is a terminal, and only for jobs of
// show_from bytes or more (expected, or seen so far): a small one prints nothing.
class Progress {
 public:
  static constexpr uint64_t kLargeJob = 64u << 20;  // chkpt's and rstrt's show_from
  Progress(const char *who, uint64_t expected, uint64_t show_from = 0);
  void add(uint64_t n);
  void done();
  void erase();  // after a failure: the line goes, for the error message's sake

 private:
  void draw(bool last);
  const char *who_;
  bool large() const { return expected_ >= show_from_ || bytes_ >= show_from_; }
  uint64_t expected_, show_from_, bytes_ = 0, start_ns_, last_ns_ = 0;
  bool on_ = false, drawn_ = false;
};


uint64_t now_ns();
