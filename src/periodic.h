// How chkpt runs a checkpoint so that killing chkpt cannot harm the target: the
// tracing happens in a worker process (ptrace cannot survive its tracer, so a
// tracer killed while the target runs injected code would leave it broken).
// The visible chkpt only waits for the worker; if chkpt dies, the worker gets
// PR_SET_PDEATHSIG, finishes the injected call in progress, puts everything
// back and lets the target go. And `chkpt --every`: periodic generations.
#pragma once
#include "base.h"
#include "dump.h"

struct DumpJob {
  const char *out = nullptr;  // image path, "-", or with --every the directory
  int out_dir = -1;  // a generation of --every: the checked directory out is in
  AfterDump after = AfterDump::Run;
  Scope scope = Scope::Tree;
  int pid = -1;  // process, process group or session ID (scope)
  bool periodic = false;  // a generation of --every: quiet if the target is gone
};

// The whole checkpoint, run in the worker (cmd_chkpt.cpp).
Err dump_job(const DumpJob &job);
// Run job(ctx) in a worker process and wait for it; *code is the worker's exit
// status, job's return value (0 done, 1 failed; the job printed why). The
// caller's SIGINT/SIGTERM/SIGHUP/SIGQUIT are passed on to the worker as a
// request to give up (abort_requested). `pid` names the target in messages.
Err run_in_worker(int (*job)(const void *ctx), const void *ctx, int pid, int *code);
// dump_job in a worker.
Err run_in_worker(const DumpJob &job, int *code);
// chkpt --every: returns the exit status.
int dump_every(const DumpJob &job, uint64_t every_ms, unsigned keep);
// Is pid a live (not zombie) process?
bool process_alive(int pid);
// Is anything of the job's set still alive: its process (tree, single), or any
// member of its process group or session.
bool job_alive(const DumpJob &job);
