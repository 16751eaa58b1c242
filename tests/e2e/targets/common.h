/* Shared helpers for the e2e target programs.
 *
 * Targets are checkpointed and restored by the product, so they stay small,
 * single-threaded and libc-light: no stdio streams (a FILE buffer would be
 * part of the saved state and hide bugs), no malloc after start-up. Logs are
 * written by reopening the log path for every line, so a target's verdict
 * does not depend on an fd that the product may have restored wrongly.
 * Everything must build cleanly with -Wall under both musl and glibc.
 */
#ifndef E2E_COMMON_H
#define E2E_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Set by SIGUSR2: the driver's "verify now" request. */
static volatile sig_atomic_t got_usr2 __attribute__((unused));

static inline void on_usr2(int sig) { got_usr2 = 1; }

/* No SA_RESTART: the sleep loops below must notice the flag promptly. */
static inline void catch_usr2(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
}

/* Write all of buf; a short write to a regular file means something broke. */
static inline int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes; -1 at end of file or on error. */
static inline int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Append one formatted line to the log at path (no trailing \n needed). */
static inline void log_line(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void log_line(const char *path, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	write_all(fd, buf, (size_t)n);
	close(fd);
}

/* Usage or set-up error: the target cannot even start its test. */
static inline void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void die(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	if (n >= 0) {
		buf[n++] = '\n';
		write_all(2, buf, (size_t)n);
	}
	exit(2);
}

/* Sleep ms milliseconds, but return early if a signal handler ran. */
static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Idle until the driver sends SIGUSR2 (after the restore). */
static inline void wait_usr2(void)
{
	while (!got_usr2)
		sleep_ms(50);
}

/* Deterministic pseudo-random words, cheap enough for hundreds of MiB. */
static inline uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Anonymous private RW mapping, or die. */
static inline void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap %zu: %s", len, strerror(errno));
	return p;
}

/* Create path with len bytes, byte i = (seed + i * 7) & 0xff; returns an
 * O_RDWR fd. File mappings in targets are built from these. */
static inline unsigned char file_byte(unsigned seed, size_t i)
{
	return (unsigned char)(seed + i * 7);
}

static inline int make_file(const char *path, size_t len, unsigned seed)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("create %s: %s", path, strerror(errno));
	unsigned char buf[4096];
	for (size_t off = 0; off < len; off += sizeof buf) {
		size_t n = len - off < sizeof buf ? len - off : sizeof buf;
		for (size_t i = 0; i < n; i++)
			buf[i] = file_byte(seed, off + i);
		if (write_all(fd, buf, n))
			die("write %s: %s", path, strerror(errno));
	}
	return fd;
}

/* Does the file at path still hold exactly make_file(path, len, seed)? */
static inline int file_intact(const char *path, size_t len, unsigned seed)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	unsigned char buf[4096];
	size_t off = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (off + (size_t)i >= len || buf[i] != file_byte(seed, off + (size_t)i)) {
				close(fd);
				return 0;
			}
		off += (size_t)n;
	}
	close(fd);
	return n == 0 && off == len;
}

#endif
