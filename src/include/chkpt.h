/* libchkpt: checkpoint and restart from C, and take part in a checkpoint
 * (callbacks, critical sections). docs/API.md, chkpt_create(3).
 * Link with -lchkpt (static: libchkpt.a) and -lpthread. */
#ifndef CHKPT_H
#define CHKPT_H
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every call that can fail takes one of these (may be NULL): on failure it
 * holds one line saying why. No global error state: one per thread or call. */
typedef struct chkpt_error {
  char msg[512];
} chkpt_error;

/* What a checkpoint covers (chkpt --tree/--single/--pgrp/--session). */
enum { CHKPT_TREE = 0, CHKPT_SINGLE = 1, CHKPT_PGRP = 2, CHKPT_SESSION = 3 };

/* chkpt_opts.flags */
#define CHKPT_STOP 0x1         /* leave the set stopped afterwards (--stop) */
#define CHKPT_KILL 0x2         /* kill it once the image is written (--kill) */
#define CHKPT_NO_CALLBACKS 0x4 /* do not run its callbacks (--no-callbacks) */
#define CHKPT_NOWAIT 0x8       /* fail at once if it is in a critical section */

struct chkpt_opts {
  int scope;           /* CHKPT_TREE (default), ... */
  int flags;           /* CHKPT_STOP | CHKPT_KILL | ... */
  int fd;              /* >= 0: write the image to this fd (socket, pipe), path unused */
  unsigned timeout_ms; /* callbacks and critical sections; 0: 10 s */
};
#define CHKPT_OPTS_INIT {CHKPT_TREE, 0, -1, 0}

/* Checkpoint process (group, session) id into path. Returns 0 once the image
 * is written; if the caller is in the set, 0 when it goes on after its own
 * checkpoint and 1 when it was restarted from that image; -1 on error (the
 * target is left as it was). opts may be NULL (the defaults). */
int chkpt_create(pid_t id, const char *path, const struct chkpt_opts *opts, chkpt_error *err);

/* A request started without waiting (not for the caller's own checkpoint). */
typedef struct chkpt_request {
  pid_t helper;  /* the chkpt process; 0 once finished */
  int err_fd;    /* its stderr */
  int status;    /* 0 or -1 once finished */
  char msg[512];
} chkpt_request;
int chkpt_create_start(pid_t id, const char *path, const struct chkpt_opts *opts, chkpt_request *req,
                       chkpt_error *err);
/* 1: still running; 0: done; -1: failed (err says why). */
int chkpt_poll(chkpt_request *req, chkpt_error *err);
/* Wait until done: 0 or -1. */
int chkpt_wait(chkpt_request *req, chkpt_error *err);

/* chkpt_restart_opts.flags */
#define CHKPT_RESTART_STOPPED 0x1 /* leave the restored processes stopped (rstrt --stop) */

struct chkpt_restart_opts {
  int flags;
  int fd;            /* >= 0: read the image from this fd, path unused */
  pid_t notify_pid;  /* > 0: send it notify_signal once the restart is done */
  int notify_signal;
};
#define CHKPT_RESTART_OPTS_INIT {0, -1, 0, 0}

/* Restart the processes of an image with their PIDs; they are not children of
 * the caller. Returns the first restored PID, or -1. */
pid_t chkpt_restart(const char *path, const struct chkpt_restart_opts *opts, chkpt_error *err);

/* What an image holds (chkpt info --list). */
struct chkpt_proc {
  pid_t pid, ppid, pgrp, sid;
  uid_t uid;
  gid_t gid;
  unsigned nfiles, nthreads;
  char cwd[1024];
  char cmdline[1024]; /* arguments separated by spaces */
};
struct chkpt_info {
  unsigned format_major, format_minor;
  unsigned nprocs; /* live processes listed (zombies are not) */
  struct chkpt_proc *procs;
};
int chkpt_stat(const char *path, struct chkpt_info *info, chkpt_error *err);
void chkpt_info_free(struct chkpt_info *info);

/* Remove an image file, or a directory of generations (chkpt --every):
 * its NNNNNNNN.img files and then the directory; anything else in it is
 * left and the call fails. */
int chkpt_remove(const char *path, chkpt_error *err);

/* --- taking part in a checkpoint ------------------------------------------ */

enum {
  CHKPT_BEFORE = 0,          /* a checkpoint is requested, nothing is frozen yet */
  CHKPT_AFTER_CHECKPOINT = 1, /* it is written; the process goes on */
  CHKPT_AFTER_RESTART = 2,   /* the process was restarted from it */
  CHKPT_AFTER_FAILURE = 3    /* it failed or was refused; the process goes on */
};
enum { CHKPT_CONTINUE = 0, CHKPT_ABORT = 1 };

struct chkpt_event {
  int phase;        /* CHKPT_BEFORE, CHKPT_AFTER_... */
  pid_t requester;  /* the chkpt process asking */
  int scope;        /* CHKPT_TREE, ... */
  pid_t target;     /* the ID it was asked for */
  int signal;       /* sent afterwards: 0, SIGSTOP or SIGKILL */
  char reason[200]; /* CHKPT_BEFORE: an aborting callback says why here */
};

/* Called in the library's own thread of the process (not in a signal
 * handler), once per phase. In CHKPT_BEFORE it returns CHKPT_CONTINUE or
 * CHKPT_ABORT (the checkpoint then fails naming the process and ev->reason);
 * in the other phases the return value is ignored. Callbacks run in the
 * order registered before, in the reverse order after. Returns 0, or -1. */
typedef int (*chkpt_callback)(struct chkpt_event *ev, void *arg);
int chkpt_callback_register(chkpt_callback fn, void *arg, chkpt_error *err);

/* Critical sections: a checkpoint request waits until no thread is inside
 * one (up to its timeout), and checkpoint_disable() waits while one is being
 * taken. They nest and count per process. Return 0, or -1. */
int checkpoint_disable(void);
int checkpoint_enable(void);

/* Start the library's thread now (chkpt_callback_register and
 * checkpoint_disable do it on first use): from then on `chkpt PID` finds the
 * process. Returns 0, or -1. */
int chkpt_init(chkpt_error *err);

#ifdef __cplusplus
}
#endif
#endif
