/* libchkpt's internal interface between lib/run.c (driving the chkpt binary)
 * and lib/self.c (the library's thread: callbacks, critical sections, the
 * caller's own checkpoint). Not installed. */
#ifndef CHKPT_INTERNAL_H
#define CHKPT_INTERNAL_H
#include <stddef.h>
#include <sys/types.h>

#include "chkpt.h"

void lib_error(chkpt_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Start chkpt with argv (argv[0] ignored) : its stdout on *out_r if out_r,
 * its stderr on *err_r; keep_fd (if > 2) inherited. */
int tool_spawn(char *const argv[], int keep_fd, int *out_r, int *err_r, pid_t *pid, chkpt_error *err);
/* Collect its output (stdout into out, up to cap) and its exit: 0, or -1 with
 * its last stderr line in err. */
int tool_finish(pid_t pid, int err_r, int out_r, char *out, size_t cap, chkpt_error *err);
int tool_run(char *const argv[], int keep_fd, char *out, size_t cap, chkpt_error *err);
void tool_verdict(const char *errtext, int status, chkpt_error *err);
/* chkpt_create of a set the caller is in: 0 went on, 1 restarted, -1. */
int self_checkpoint(char *const argv[], int keep_fd, chkpt_error *err);
#endif
