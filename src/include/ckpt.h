/* libchkpt's IRIX-compatible layer (IRIX libcpr: ckpt_create(3),
 * ckpt_restart(3), ckpt_stat(3), ckpt_remove(3), atcheckpoint(3C)):
 * programs written for it compile unchanged. Link with -lchkpt -lpthread.
 * Errors: -1 and errno, and ckpt_errmsg() (this thread's last message).
 * docs/API.md. */
#ifndef CKPT_H
#define CKPT_H
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h> /* idtype_t: P_PID, P_PGID */

#ifdef __cplusplus
extern "C" {
#endif

typedef int64_t ckpt_id_t;

/* id types besides <sys/wait.h>'s P_PID (the process alone) and P_PGID */
#define P_SID ((idtype_t)100) /* every process of a session */
#define P_HID ((idtype_t)101) /* a process and all its descendants */

/* ckpt_create's args: none is defined (nargs 0); any other is refused. */
typedef struct ckpt_args {
  unsigned long ckpt_type;
  void *ckpt_data;
} ckpt_args_t;

#define PSARGSZ 80
#define CKPT_PATHLEN 1024

typedef struct ckpt_stat {
  struct ckpt_stat *cs_next; /* the next process, NULL at the end */
  long cs_revision;          /* image format: major * 100 + minor */
  pid_t cs_pid, cs_ppid, cs_pgrp, cs_sid;
  uid_t cs_uid;
  gid_t cs_gid;
  char cs_psargs[PSARGSZ];  /* command line, arguments separated by spaces */
  char cs_cdir[CKPT_PATHLEN]; /* current directory */
  int cs_nfiles;            /* open files */
  int cs_nthreads;
  struct stat cs_stat;      /* stat(2) of the image */
} ckpt_stat_t;

/* Checkpoint id (type P_PID, P_PGID, P_SID, P_HID) into path; the processes go
 * on. A process may checkpoint itself: ckpt_create returns 0 both when it goes
 * on and when it was restarted (its atrestart handlers ran first). */
int ckpt_create(const char *path, ckpt_id_t id, unsigned long type, struct ckpt_args *args[], size_t nargs);
/* Restart the image's processes (same PIDs); returns the first one's PID. */
ckpt_id_t ckpt_restart(const char *path, struct ckpt_args *args[], size_t nargs);
/* The processes an image holds; free() each entry of the list. */
int ckpt_stat(const char *path, ckpt_stat_t **sp);
int ckpt_remove(const char *path);
/* Handlers run (in the library's thread) before a checkpoint of the process,
 * and after it was restarted. Return 0, or -1. */
int atcheckpoint(void (*fn)(void));
int atrestart(void (*fn)(void));
/* This thread's last error message from these calls. */
const char *ckpt_errmsg(void);

#ifdef __cplusplus
}
#endif
#endif
