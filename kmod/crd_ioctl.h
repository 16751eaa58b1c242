/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The ioctl ABI of /dev/crd (kmod/crd.c), shared by the module, chkpt's
 * service (src/cmd_serve.cpp) and any C program (libchkpt's checkpoint()).
 * Plain C, no pointers in the structures (one layout for 32- and 64-bit
 * callers), every field naturally aligned. docs/KMOD.md describes each call.
 *
 * Ask CRD_IOC_VERSION first: a module whose `abi` differs from
 * CRD_ABI_VERSION may lay these structures out differently, so refuse it.
 * An ioctl number the module does not know fails with ENOTTY.
 */
#ifndef CRD_IOCTL_H
#define CRD_IOCTL_H

#ifdef __KERNEL__
#include <linux/ioctl.h>
#include <linux/types.h>
typedef __u32 crd_u32;
typedef __s32 crd_s32;
#else
#include <stdint.h>
#include <sys/ioctl.h>
typedef uint32_t crd_u32;
typedef int32_t crd_s32;
#endif

#define CRD_DEVICE "/dev/crd"
#define CRD_ABI_VERSION 1
#define CRD_IOC_TYPE 0xCD
#define CRD_PATH_MAX 256

/* CRD_IOC_VERSION: the module's ABI and its settings. Anyone who can open
 * the device may ask. */
struct crd_version {
	crd_u32 abi;          /* CRD_ABI_VERSION of the module */
	crd_u32 timeout_ms;   /* how long a shutdown waits for the service */
	crd_u32 max_jobs;     /* how many jobs may be registered */
	crd_u32 jobs;         /* how many are */
	crd_s32 service_pid;  /* the service's PID (caller's namespace), 0: none */
	crd_u32 reserved[3];
};

/* How a registered job is saved at shutdown (crd_job.mode). */
#define CRD_MODE_GENERATIONS 0x1u  /* path is a directory of generations
				      (chkpt --every layout); else an image file */
#define CRD_MODE_SINGLE 0x2u       /* only the process, not its descendants */
#define CRD_MODE_ALL (CRD_MODE_GENERATIONS | CRD_MODE_SINGLE)

/* CRD_IOC_JOB_ADD (id returned), CRD_IOC_JOB_GET (id in: the index, 0, 1,
 * ...; ENOENT past the last), CRD_IOC_JOB_DEL (by id). CAP_SYS_ADMIN. */
struct crd_job {
	crd_s32 pid;    /* the caller's namespace */
	crd_u32 mode;   /* CRD_MODE_* */
	crd_u32 keep;   /* generations to keep (GENERATIONS), 0: the service's default */
	crd_u32 id;     /* set by the module, unique while it is loaded */
	char path[CRD_PATH_MAX];  /* absolute, NUL-terminated */
};

/* What CRD_IOC_WAIT hands the service (crd_event.kind). */
#define CRD_EVENT_SHUTDOWN 1  /* save every registered job, then CRD_IOC_DONE */
#define CRD_EVENT_REQUEST 2   /* checkpoint target into fd, then CRD_IOC_DONE */

/* crd_event.shutdown: the reboot notifier's event */
#define CRD_SHUTDOWN_RESTART 1
#define CRD_SHUTDOWN_HALT 2
#define CRD_SHUTDOWN_POWER_OFF 3

struct crd_event {
	crd_u32 kind;          /* CRD_EVENT_* */
	crd_u32 id;            /* to name in CRD_IOC_DONE */
	crd_u32 shutdown;      /* SHUTDOWN: CRD_SHUTDOWN_* */
	crd_s32 fd;            /* REQUEST: the requester's file, now the service's fd (close-on-exec) */
	crd_s32 target;        /* REQUEST: the process to checkpoint (service's namespace) */
	crd_s32 requester;     /* REQUEST: who asked, as the kernel saw it */
	crd_u32 requester_uid; /* its real uid (service's user namespace) */
	crd_u32 flags;         /* REQUEST: crd_request.flags */
};

/* CRD_IOC_DONE: the service's answer to an event. */
struct crd_done {
	crd_u32 kind;   /* the event's */
	crd_u32 id;     /* the event's */
	crd_s32 result; /* 0, or a positive errno; for a request, the requester's result */
	crd_u32 reserved;
};

/* CRD_IOC_REQUEST: checkpoint a process to fd, the caller's open file (a
 * regular file opened for writing, a pipe or a socket). target 0 is the
 * caller itself; another process only if the caller may ptrace it
 * (ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS), checked here, in the
 * kernel: EPERM otherwise). Blocks until the service answers; result is
 * its answer (0: the image is in fd). Errors: ESRCH no such target, EPERM,
 * EBADF fd, EAGAIN no service, EINTR interrupted before the service took it,
 * EBUSY another thread's request on this open file is under way. */
#define CRD_REQUEST_STOP 0x1u  /* leave the target stopped after the checkpoint */
#define CRD_REQUEST_KILL 0x2u  /* kill it once the image is written */
#define CRD_REQUEST_ALL (CRD_REQUEST_STOP | CRD_REQUEST_KILL)

struct crd_request {
	crd_s32 target;  /* in: PID (caller's namespace), 0: the caller */
	crd_s32 fd;      /* in */
	crd_u32 flags;   /* in: CRD_REQUEST_* */
	crd_s32 result;  /* out: the service's answer, 0 or a positive errno */
};

#define CRD_IOC_VERSION _IOR(CRD_IOC_TYPE, 0x40, struct crd_version)
#define CRD_IOC_JOB_ADD _IOWR(CRD_IOC_TYPE, 0x41, struct crd_job)
#define CRD_IOC_JOB_GET _IOWR(CRD_IOC_TYPE, 0x42, struct crd_job)
#define CRD_IOC_JOB_DEL _IOW(CRD_IOC_TYPE, 0x43, crd_u32)
/* CRD_IOC_SERVE: this open file becomes the service's (CAP_SYS_ADMIN; EBUSY
 * while another is); closing it ends the service. */
#define CRD_IOC_SERVE _IO(CRD_IOC_TYPE, 0x44)
/* CRD_IOC_WAIT: the service blocks for the next event (EINTR on a signal). */
#define CRD_IOC_WAIT _IOR(CRD_IOC_TYPE, 0x45, struct crd_event)
#define CRD_IOC_DONE _IOW(CRD_IOC_TYPE, 0x46, struct crd_done)
#define CRD_IOC_REQUEST _IOWR(CRD_IOC_TYPE, 0x47, struct crd_request)

#endif /* CRD_IOCTL_H */
