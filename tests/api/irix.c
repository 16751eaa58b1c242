/* The IRIX flow (src/include/ckpt.h): a program connected to a server over a unix
 * socket registers atcheckpoint/atrestart handlers that close and reopen the
 * connection, checkpoints itself with ckpt_create, checks what ckpt_stat says
 * of the image, is killed, comes back through ckpt_restart (another process),
 * checks its memory, and removes its image with ckpt_remove.
 *   irix server SOCK LOG        log every line received on SOCK
 *   irix run SOCK IMAGE         the program (prints "ready" when checkpointed)
 *   irix restart IMAGE          ckpt_restart; prints the PID */
#include <ckpt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *sock_path;
static int conn = -1;
static volatile int restarted;

static void say(const char *fmt, long v) {
  char line[200];
  int n = snprintf(line, sizeof line, fmt, v);
  if (conn < 0 || write(conn, line, (size_t)n) != n) {
    printf("FAIL: cannot tell the server '%s'\n", line);
    exit(1);
  }
}

static void connect_server(void) {
  struct sockaddr_un a = {AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", sock_path);
  conn = socket(AF_UNIX, SOCK_STREAM, 0);
  if (connect(conn, (struct sockaddr *)&a, sizeof a) < 0) {
    printf("FAIL: connect %s: %s\n", sock_path, strerror(errno));
    exit(1);
  }
}

static void before_checkpoint(void) {
  say("bye %ld\n", (long)getpid());
  close(conn);
  conn = -1;
}

static void after_restart(void) {
  restarted = 1;
  connect_server();
  say("restarted %ld\n", (long)getpid());
}

static int check_stat(const char *img, const char *argv0) {
  ckpt_stat_t *sp;
  char cwd[1024];
  if (ckpt_stat(img, &sp) < 0) return printf("FAIL: ckpt_stat: %s\n", ckpt_errmsg()), 0;
  if (!getcwd(cwd, sizeof cwd)) return 0;
  printf("ckpt_stat: revision %ld pid %d ppid %d pgrp %d sid %d files %d args '%s' cwd '%s' size %lld\n",
         sp->cs_revision, sp->cs_pid, sp->cs_ppid, sp->cs_pgrp, sp->cs_sid, sp->cs_nfiles, sp->cs_psargs, sp->cs_cdir,
         (long long)sp->cs_stat.st_size);
  int good = sp->cs_pid == getpid() && sp->cs_ppid == getppid() && sp->cs_pgrp == getpgrp() &&
             sp->cs_sid == getsid(0) && !strncmp(sp->cs_psargs, argv0, strlen(argv0)) && !strcmp(sp->cs_cdir, cwd) &&
             sp->cs_nfiles >= 3 && sp->cs_revision >= 100 && sp->cs_stat.st_size > 0 && !sp->cs_next;
  free(sp);
  return good;
}

static int server(const char *path, const char *log) {
  struct sockaddr_un a = {AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  unlink(path);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 4) < 0) return perror("server"), 1;
  FILE *out = fopen(log, "a");
  for (;;) {
    int c = accept(s, NULL, NULL);
    char buf[512];
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0) {
      fwrite(buf, 1, (size_t)n, out);
      fflush(out);
    }
    close(c);
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc == 4 && !strcmp(argv[1], "server")) return server(argv[2], argv[3]);
  if (argc == 3 && !strcmp(argv[1], "restart")) {
    ckpt_id_t id = ckpt_restart(argv[2], NULL, 0);
    if (id < 0) return printf("FAIL: ckpt_restart: %s\n", ckpt_errmsg()), 1;
    printf("%lld\n", (long long)id);
    return 0;
  }
  if (argc != 4 || strcmp(argv[1], "run")) return fprintf(stderr, "usage: see irix.c\n"), 2;
  sock_path = argv[2];
  const char *img = argv[3];
  long magic[512];
  for (int i = 0; i < 512; i++) magic[i] = (long)i * 7919 + getpid();
  connect_server();
  say("hello %ld\n", (long)getpid());
  if (atcheckpoint(before_checkpoint) < 0 || atrestart(after_restart) < 0)
    return printf("FAIL: atcheckpoint/atrestart: %s\n", ckpt_errmsg()), 1;
  if (ckpt_create(img, getpid(), P_PID, NULL, 0) < 0) return printf("FAIL: ckpt_create: %s\n", ckpt_errmsg()), 1;
  if (!restarted) {
    connect_server();
    say("continued %ld\n", (long)getpid());
    if (!check_stat(img, argv[0])) return printf("FAIL: ckpt_stat does not describe this process\n"), 1;
    printf("ready\n");
    for (;;) pause(); /* the test kills it here */
  }
  for (int i = 0; i < 512; i++)
    if (magic[i] != (long)i * 7919 + getpid()) return say("memory changed at %ld\n", i), 1;
  say("memory ok %ld\n", 512);
  if (ckpt_remove(img) < 0 || access(img, F_OK) == 0) return say("ckpt_remove failed %ld\n", errno), 1;
  say("removed %ld\n", (long)getpid());
  return 0;
}
