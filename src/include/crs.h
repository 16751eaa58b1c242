/* libchkpt's CRS-compatible layer (crslib: checkpoint/restart in one call
 * each). Its own header, so that these generic names never clash with a
 * program that does not ask for them. Link with -lchkpt -lpthread.
 * Errors: -1 and errno, and crs_errmsg(). docs/API.md. */
#ifndef CRS_H
#define CRS_H
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* checkpoint() flags */
#define CRS_KILL 0x1      /* kill the process once the image is written */
#define CRS_NOBINARY 0x2  /* accepted: the program file is never put in an image */
#define CRS_BINARY 0x4    /* refused (EINVAL): chkpt never saves the program file */

/* restart() flags */
#define RESTART_NOTIFY 0x1 /* SIGUSR1 to pid (to the caller when pid is 0) once done */
#define RESTART_STOP 0x2   /* leave the restored processes stopped (SIGCONT resumes) */

/* Checkpoint process pid (and its descendants) into fd (a file, pipe or
 * socket, written in place). Returns 0, or -1. Not for the caller itself. */
int checkpoint(int fd, pid_t pid, int flags);
/* Restart the image at path; returns the restored PID, or -1. */
pid_t restart(const char *path, pid_t pid, int flags);
const char *crs_errmsg(void);

#ifdef __cplusplus
}
#endif
#endif
