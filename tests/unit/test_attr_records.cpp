#include <doctest/doctest.h>

#include <stdio.h>

#include <string>

#include "model.h"

TEST_CASE("records: THREAD_ATTR round trip, bounds, truncation") {
  ThreadAttrRec a, b;
  a.tid = 77;
  for (int i = 0; i < 4; i++) { a.uid[i] = 1000 + i; a.gid[i] = 2000 + i; }
  a.groups.push(5); a.groups.push(100);
  a.cap_prm = 0x400; a.cap_eff = 0x400; a.cap_bnd = ~0ull >> 23; a.cap_amb = 0x400;
  a.securebits = 5; a.no_new_privs = 1; a.pdeathsig = 38;
  a.policy = 3; a.sched_flags = 1; a.nice = 5;
  a.affinity_len = 8; a.affinity[0] = 1;
  a.timerslack_ns = 50000;
  snprintf(a.comm, sizeof a.comm, "worker");
  uint8_t buf[8192];
  size_t n = encode_thread_attr(a, buf, sizeof buf);
  REQUIRE(n > 0);
  REQUIRE(decode_thread_attr(buf, n, &b));
  CHECK(b.uid[2] == 1002);
  CHECK(b.groups.size() == 2);
  CHECK(b.groups[1] == 100);
  CHECK(b.cap_amb == 0x400);
  CHECK(b.nice == 5);
  CHECK(b.affinity[0] == 1);
  CHECK(std::string(b.comm) == "worker");
  for (size_t cut = 0; cut < n; cut++) {
    ThreadAttrRec c;
    CHECK_FALSE(decode_thread_attr(buf, cut, &c));
  }
  ThreadAttrRec bad;
  a.nice = 20;  // beyond 19
  n = encode_thread_attr(a, buf, sizeof buf);
  CHECK_FALSE(decode_thread_attr(buf, n, &bad));
  a.nice = 0;
  a.sched_flags = 0x20;  // util clamp: not a kept flag
  n = encode_thread_attr(a, buf, sizeof buf);
  ThreadAttrRec bad2;
  CHECK_FALSE(decode_thread_attr(buf, n, &bad2));
}

TEST_CASE("records: PROC_ATTR and TIMER bounds") {
  ProcAttrRec p, q;
  p.stopped = 1; p.stop_signal = 19; p.itimer_value[0] = 5000000; p.oom_score_adj = 300;
  uint8_t buf[512];
  size_t n = encode_proc_attr(p, buf, sizeof buf);
  REQUIRE(decode_proc_attr(buf, n, &q));
  CHECK(q.itimer_value[0] == 5000000);
  CHECK(q.oom_score_adj == 300);
  p.oom_score_adj = 1001;
  n = encode_proc_attr(p, buf, sizeof buf);
  CHECK_FALSE(decode_proc_attr(buf, n, &q));

  TimerRec t, u;
  t.id = 4; t.clock = -6; t.notify = 4; t.signo = 35; t.notify_tid = 12; t.value_ns = 1; t.interval_ns = 2;
  n = encode_timer(t, buf, sizeof buf);
  REQUIRE(decode_timer(buf, n, &u));
  CHECK(u.clock == -6);  // the caller's own process CPU clock
  t.clock = 4;  // CLOCK_MONOTONIC_RAW: timer_create refuses it
  n = encode_timer(t, buf, sizeof buf);
  CHECK_FALSE(decode_timer(buf, n, &u));
  t.clock = 1; t.notify = 3;  // no such sigev_notify
  n = encode_timer(t, buf, sizeof buf);
  CHECK_FALSE(decode_timer(buf, n, &u));
  t.notify = 0; t.signo = 0;  // a signal timer needs a signal
  n = encode_timer(t, buf, sizeof buf);
  CHECK_FALSE(decode_timer(buf, n, &u));
}
