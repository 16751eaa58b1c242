// Queued UDP datagrams of an IP socket (src/fd/udp_queue.cpp).
#pragma once
#include <stdint.h>

#include "base.h"

// Appends the datagrams queued on sk (process pid's fd) to out, consuming none.
Err dump_udp_queue(int pid, int fd, int sk, Vec<uint8_t> *out);
// The encoded queue q[0..n) is well formed for a socket of this family.
bool udp_queue_valid(const uint8_t *q, uint32_t n, uint32_t family);
// Queues the datagrams of q again on the restored, bound socket sk.
Err restore_udp_queue(int sk, const uint8_t *q, uint32_t n);
