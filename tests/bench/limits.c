/* limits MIB DIR: the physical limits of a checkpoint of MIB MiB on this
 * machine, measured now, one line each (MB/s = MiB/s):
 *   mem_read_mbps    reading a child's dense memory through /proc/PID/mem
 *                    (what chkpt does), 1 MiB preads
 *   file_write_mbps  writing a new file in DIR (tmpfs: page cache), 1 MiB writes
 *   file_read_mbps   reading it back, 1 MiB reads
 *   mem_write_mbps   writing into a child's fresh (never touched) anonymous
 *                    mapping through /proc/PID/mem (what a restore must do:
 *                    every page is allocated on the way), 1 MiB pwrites
 *   dump_limit_s     MIB / mem_read + MIB / file_write: one core reading the
 *                    memory once and writing it once, nothing else
 *   restore_limit_s  MIB / file_read + MIB / mem_write
 * Best of 3 for each rate. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* A child holding a mapping of n bytes (filled if fill), at the same address
 * as in the parent (fork keeps it); the parent gets the child's pid and unmaps
 * its own copy's pages so memory use stays at one copy. */
static pid_t child_with(char *map, size_t n, int fill) {
  int p[2];
  if (pipe(p) < 0) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (fill) {
      uint64_t x = 88172645463325252ull, *w = (uint64_t *)map;
      for (size_t i = 0; i < n / 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        w[i] = x;
      }
    }
    char c = 1;
    if (write(p[1], &c, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char c;
  if (read(p[0], &c, 1) != 1) die("child");
  close(p[0]);
  close(p[1]);
  return pid;
}

static int open_mem(pid_t pid, int flags) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
  int fd = open(path, flags);
  if (fd < 0) die(path);
  return fd;
}

static void end_child(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: limits MIB DIR\n"); return 2; }
  size_t mib = strtoul(argv[1], NULL, 10), n = mib << 20, chunk = 1 << 20;
  char *buf = malloc(chunk), path[4096];
  snprintf(path, sizeof path, "%s/limits.%d", argv[2], (int)getpid());
  if (!buf) die("malloc");
  double rd = 1e9, fw = 1e9, fr = 1e9, wr = 1e9;
  for (int round = 0; round < 3; round++) {
    char *map = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) die("mmap");
    pid_t pid = child_with(map, n, 1);
    int mem = open_mem(pid, O_RDONLY), f = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    if (f < 0) die(path);
    double t0 = now();
    for (size_t off = 0; off < n; off += chunk)
      if (pread(mem, buf, chunk, (off_t)(uintptr_t)(map + off)) != (ssize_t)chunk) die("reading /proc/PID/mem");
    double t1 = now();
    for (size_t off = 0; off < n; off += chunk)  /* the child's data, as a dump writes it */
      if (pread(mem, buf, chunk, (off_t)(uintptr_t)(map + off)) != (ssize_t)chunk || write(f, buf, chunk) != (ssize_t)chunk)
        die("writing the file");
    double t2 = now();
    for (size_t off = 0; off < n; off += chunk)
      if (pread(mem, buf, chunk, (off_t)(uintptr_t)(map + off)) != (ssize_t)chunk) die("reading /proc/PID/mem");
    double t3 = now();
    close(mem);
    end_child(pid);
    /* file write = (read + write) - read; then the file read alone */
    if (t1 - t0 < rd) rd = t1 - t0;
    if ((t2 - t1) - (t3 - t2) < fw) fw = (t2 - t1) - (t3 - t2);
    t0 = now();
    for (size_t off = 0; off < n; off += chunk)
      if (pread(f, buf, chunk, (off_t)off) != (ssize_t)chunk) die("reading the file");
    t1 = now();
    if (t1 - t0 < fr) fr = t1 - t0;
    pid = child_with(map, n, 0);
    mem = open_mem(pid, O_RDWR);
    t0 = now();
    for (size_t off = 0; off < n; off += chunk)
      if (pwrite(mem, buf, chunk, (off_t)(uintptr_t)(map + off)) != (ssize_t)chunk) die("writing /proc/PID/mem");
    t1 = now();
    if (t1 - t0 < wr) wr = t1 - t0;
    close(mem);
    end_child(pid);
    close(f);
    unlink(path);
    munmap(map, n);
  }
  if (fw <= 0) fw = 1e-9;
  printf("mem_read_mbps %.0f\nfile_write_mbps %.0f\nfile_read_mbps %.0f\nmem_write_mbps %.0f\n", mib / rd,
         mib / fw, mib / fr, mib / wr);
  printf("dump_limit_s %.4f\nrestore_limit_s %.4f\n", rd + fw, fr + wr);
  return 0;
}
