// How chkpt runs a checkpoint so that killing chkpt cannot harm the target: the
// tracing happens in a worker process (ptrace cannot survive its tracer, so a
// tracer killed while the target runs injected code would leave it broken).
// The visible chkpt only waits for the worker; if chkpt dies, the worker gets
// PR_SET_PDEATHSIG, finishes the injected call in progress, puts everything
// back and lets the target go. And `chkpt --every`: periodic generations.
#pragma once
#include "base.h"
#include "dump.h"

// Run job(ctx) in a worker process and wait for it; *code is the worker's exit
// status, job's return value (0 done, 1 failed; the job printed why). The
// caller's SIGINT/SIGTERM/SIGHUP/SIGQUIT are passed on to the worker as a
// request to give up (abort_requested). `pid` names the target in messages.
Err run_in_worker(int (*job)(const void *ctx), const void *ctx, int pid, int *code);
// dump_job in a worker.
Err run_in_worker(const DumpJob &job, int *code);
// One generation of job (job.out: the directory, as for --every) in a worker,
// then the older ones beyond `keep` removed: the exit status (the worker
// printed why it failed).
int dump_generation(const DumpJob &job, unsigned keep);
// SIGINT/SIGTERM/SIGHUP/SIGQUIT: passed on to a worker if one runs, and noted
// (stop_requested). restart false: a blocking call returns EINTR on one (by
// default, run_in_worker installs them with SA_RESTART).
void watch_stop_signals(bool restart);
int stop_requested();  // the signal that asked to stop, 0 if none
// chkpt --every: returns the exit status.
int dump_every(const DumpJob &job, uint64_t every_ms, unsigned keep);
// Is anything of the job's set still alive: its process (tree, single), or any
// member of its process group or session.
bool job_alive(const DumpJob &job);
