// Process trees: discovery and freezing at checkpoint; at restore, making the
// processes with their PIDs (clone3 set_tid), zombies, and the rules for
// sessions and process groups that the cloned processes follow.
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "process.h"
#include "procfs.h"

namespace {
bool has(const Vec<int> &v, int x) {
  for (int y : v)
    if (y == x) return true;
  return false;
}

// Numeric entries of a /proc directory (tasks, processes).
Vec<int> list_dir(const char *path) {
  Vec<int> out;
  DIR *d = opendir(path);
  if (!d) return out;
  while (struct dirent *de = readdir(d)) {
    uint64_t v;
    if (parse_u64(de->d_name, &v)) out.push((int)v);
  }
  closedir(d);
  return out;
}

Vec<int> children_of(int pid) {
  Vec<int> out;
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  for (int tid : list_dir(path)) {
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, tid);
    if (read_text(path, buf, sizeof buf)) continue;
    for (char *s = buf; *s;) {
      char *end;
      long c = strtol(s, &end, 10);
      if (end == s) break;
      out.push((int)c);
      s = end;
    }
  }
  return out;
}

// A zombie's exit status as waitpid(2) reports it: /proc/PID/stat field 52.
Err read_wait_status(int pid, TreeEntry *e) {
  char path[64], stat[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  TRY(read_text(path, stat, sizeof stat));
  uint64_t status;
  if (!stat_field(stat, 52, &status)) return errf("cannot read the exit status of zombie %d", pid);
  e->wait_status = (int32_t)status;
  // Its name: between the first '(' and the last ')' (it may hold either).
  const char *open = strchr(stat, '('), *close = strrchr(stat, ')');
  if (open && close > open + 1 && close - open - 1 < 16) e->comm = Str(open + 1, (size_t)(close - open - 1));
  return ok();
}

Err read_ids(int pid, TreeEntry *e) {
  char stat[1024];
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  TRY(read_text(path, stat, sizeof stat));
  uint64_t ppid, pgid, sid;
  if (!stat_field(stat, 4, &ppid) || !stat_field(stat, 5, &pgid) || !stat_field(stat, 6, &sid))
    return errf("cannot parse %s", path);
  e->pid = pid; e->ppid = (int32_t)ppid; e->pgid = (int32_t)pgid; e->sid = (int32_t)sid;
  return ok();
}

// Freeze the threads of pid not frozen yet; true in *grew if any was.
Err freeze_threads(int pid, FrozenSet *set, Vec<int> *frozen, bool *grew) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  Vec<int> tids = list_dir(path);
  for (int tid : tids) {
    if (has(*frozen, tid)) continue;
    Tracee t(tid);
    Err e = t.seize_and_freeze();
    if (e && tid != pid && errno == ESRCH) continue;  // the thread exited meanwhile
    TRY(e);
    frozen->push(tid);
    set->threads.push(t);
    *grew = true;
  }
  return ok();
}

// Who belongs to the set right now (scope rules), parents before children.
Err members(Scope scope, int id, Vec<int> *out) {
  if (scope == Scope::Single || scope == Scope::Tree) {
    out->push(id);
    for (size_t i = 0; scope == Scope::Tree && i < out->size(); i++)
      for (int c : children_of((*out)[i]))
        if (!has(*out, c)) out->push(c);
    return ok();
  }
  for (int pid : list_dir("/proc")) {
    TreeEntry e;
    if (read_ids(pid, &e)) continue;
    if ((scope == Scope::Pgrp ? e.pgid : e.sid) == id) out->push(pid);
  }
  if (out->empty()) return errf("no process in %s %d", scope == Scope::Pgrp ? "process group" : "session", id);
  return ok();
}

// Order the entries so that each comes after its parent (if in the set).
void topo_sort(Vec<TreeEntry> *tree) {
  Vec<TreeEntry> sorted;
  Vec<int> placed;
  while (sorted.size() < tree->size()) {
    for (auto &e : *tree) {
      if (has(placed, e.pid)) continue;
      bool parent_pending = false;
      for (auto &p : *tree) parent_pending |= p.pid == e.ppid && !has(placed, p.pid);
      if (parent_pending) continue;
      placed.push(e.pid);
      TreeEntry copy = {e.pid, e.ppid, e.pgid, e.sid, {}, e.wait_status, Str(e.comm.c(), e.comm.size())};
      for (int t : e.tids) copy.tids.push(t);
      sorted.push(std::move(copy));
    }
  }
  tree->swap(sorted);
}

// Sessions must be created by their leader and inherited by the rest: a
// process's session is its own, its parent's, or (for a process whose parent is
// outside the set) whatever rstrt's is.
Err check_relations(const Vec<TreeEntry> &tree) {
  for (size_t i = 0; i < tree.size(); i++) {
    const TreeEntry &e = tree[i];
    int p = parent_in_set(tree, i);
    if (p >= 0 && e.sid != e.pid && e.sid != tree[p].sid)
      return errf("process %d is in session %d, not its parent's: not supported", e.pid, e.sid);
  }
  return ok();
}

// Processes (not threads) of the set that share their memory, fd table,
// filesystem context or signal handlers (clone(2) CLONE_VM, CLONE_FILES,
// CLONE_FS, CLONE_SIGHAND without CLONE_THREAD) would come back with each its
// own: refused. kcmp(2) orders these objects, so sorting by it finds equal
// neighbours in O(n log n) calls.
Err check_unshared(const Vec<TreeEntry> &tree) {
  static const struct { int type; const char *what; } kinds[] = {
      {1 /* KCMP_VM */, "memory (CLONE_VM)"}, {2 /* KCMP_FILES */, "fd table (CLONE_FILES)"},
      {3 /* KCMP_FS */, "working directory and umask (CLONE_FS)"}, {4 /* KCMP_SIGHAND */, "signal handlers (CLONE_SIGHAND)"}};
  Vec<int> pids;
  for (auto &e : tree)
    if (!e.zombie()) pids.push(e.pid);
  for (auto &k : kinds) {
    int type = k.type;
    std::sort(pids.begin(), pids.end(), [type](int a, int b) { return syscall(SYS_kcmp, a, b, type, 0, 0) == 1; });
    for (size_t i = 1; i < pids.size(); i++)
      if (syscall(SYS_kcmp, pids[i - 1], pids[i], type, 0, 0) == 0)
        return errf("processes %d and %d share their %s: not supported yet", pids[i - 1], pids[i], k.what);
  }
  return ok();
}

Err build_tree(const Vec<int> &pids, const FrozenSet &set, Vec<TreeEntry> *tree) {
  for (int pid : pids) {
    TreeEntry e;
    TRY(read_ids(pid, &e));
    bool frozen = false;
    for (auto &t : set.threads) frozen |= t.tid() == pid;
    if (!frozen) {  // not frozen: a zombie (freeze_round)
      TRY(read_wait_status(pid, &e));
      tree->push(std::move(e));
      continue;
    }
    e.tids.push(pid);
    for (auto &t : set.threads) {
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/task/%d", pid, t.tid());
      if (t.tid() != pid && access(path, F_OK) == 0) e.tids.push(t.tid());
    }
    tree->push(std::move(e));
  }
  topo_sort(tree);
  TRY(check_unshared(*tree));
  return check_relations(*tree);
}

bool is_zombie(int pid) {
  char path[64], stat[1024], state = 0;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  return !read_text(path, stat, sizeof stat) && stat_state(stat, &state) && state == 'Z';
}

Err freeze_round(Scope scope, int id, FrozenSet *set, Vec<int> *frozen, Vec<int> *pids, bool *grew) {
  pids->clear();
  TRY(members(scope, id, pids));
  for (int pid : *pids) {
    if (has(*frozen, pid)) { TRY(freeze_threads(pid, set, frozen, grew)); continue; }
    if (pid != id && is_zombie(pid)) continue;  // an unreaped child: saved as a zombie (build_tree)
    if (Err e = check_target(pid)) {
      if (pid == id || scope != Scope::Tree) return e;
      return wrap(e, "in the tree of %d", id);
    }
    TRY(freeze_threads(pid, set, frozen, grew));
  }
  return ok();
}
}  // namespace

Tracee *FrozenSet::find(int tid) {
  for (auto &t : threads)
    if (t.tid() == tid) return &t;
  return nullptr;
}

int parent_in_set(const Vec<TreeEntry> &tree, size_t i) {
  for (size_t j = 0; j < tree.size(); j++)
    if (tree[j].pid == tree[i].ppid) return (int)j;
  return -1;
}

Err freeze_set(Scope scope, int id, FrozenSet *out) {
  Vec<int> frozen, pids;
  Err e = ok();
  for (bool grew = true; grew && !e;) {
    grew = false;
    e = freeze_round(scope, id, out, &frozen, &pids, &grew);
  }
  if (!e) e = build_tree(pids, *out, &out->tree);
  if (e) release_set(*out, 0);
  return e;
}

Err release_set(FrozenSet &set, int how_signal) {
  Err first = ok();
  if (how_signal == SIGKILL) {
    for (auto &e : set.tree) kill(e.pid, SIGKILL);
    set.threads.clear();
    return ok();
  }
  for (auto &e : set.tree)
    if (how_signal && kill(e.pid, how_signal) < 0 && !first) first = sys_err("kill %d", e.pid);
  for (auto &t : set.threads) {
    Err e = t.detach();
    if (e && !first) first = e;
  }
  set.threads.clear();
  return first;
}

// ---- restore: making the processes -------------------------------------------

namespace {
struct CloneArgs {  // struct clone_args (include/uapi/linux/sched.h), CLONE_ARGS_SIZE_VER2
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

// A zombie comes back as a child that exits at once as it had: with its exit
// code, or killed by its signal (default action, no core dump).
[[noreturn]] void become_zombie(int status, const Str &comm) {
  if (comm.size()) prctl(PR_SET_NAME, comm.c());
  if (WIFSIGNALED(status)) {
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    int sig = WTERMSIG(status);
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, nullptr);
    syscall(SYS_kill, getpid(), sig);
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}
}  // namespace

int index_in_tree(const Vec<TreeEntry> &tree, int pid) {
  for (size_t i = 0; i < tree.size(); i++)
    if (tree[i].pid == pid) return (int)i;
  return -1;
}

// A PID whose process was just killed can stay taken for a moment after
// /proc/PID is gone (seen under load right after `chkpt --kill`: the number
// is freed only once every task attached to it is released, kernel/pid.c
// free_pid): EEXIST with nothing at /proc/PID is tried again for up to
// 200 ms. A live process holding the PID fails at once.
bool pid_being_freed(int pid) {
  char path[32];
  snprintf(path, sizeof path, "/proc/%d", pid);
  return access(path, F_OK) < 0 && errno == ENOENT;
}

Err clone_with_pid(int pid, int *out) {
  CloneArgs a = {};
  uint64_t tid = (uint64_t)pid;
  a.exit_signal = SIGCHLD;
  a.set_tid = (uint64_t)&tid;
  a.set_tid_size = 1;
  long r = syscall(SYS_clone3, &a, sizeof a);
  for (int tries = 0; r < 0 && errno == EEXIST && tries < 100 && pid_being_freed(pid); tries++) {
    struct timespec ms2 = {0, 2000000};
    nanosleep(&ms2, nullptr);
    r = syscall(SYS_clone3, &a, sizeof a);
  }
  if (r < 0) {
    if (errno == EEXIST) return errk(ErrKind::InUse, "PID %d is in use; rstrt --pidns restores the job in a new PID namespace, where it is free", pid);
    if (errno == EPERM) return errk(ErrKind::NotPermitted, "restoring PID %d needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN", pid);
    return sys_err("clone3 with PID %d", pid);
  }
  *out = (int)r;
  return ok();
}


// A process group that is a process of the set is joined (or made, by its
// leader) right after the clone, by the parent: the group exists by then, as
// groups are made in TREE order. Groups outside the set are inherited.
Err join_group(const Vec<TreeEntry> &tree, const TreeEntry &c) {
  if (c.sid == c.pid || index_in_tree(tree, c.pgid) < 0) return ok();  // session leaders: setsid() makes the group
  if (setpgid(c.pid, c.pgid) < 0) return sys_err("process %d cannot join process group %d", c.pid, c.pgid);
  return ok();
}

// The parent leaves it unreaped (WNOWAIT), and takes back the SIGCHLD its death
// just queued: at the checkpoint that signal had come and gone already (or is
// in the image's pending signals).
Err make_zombie(const TreeEntry &c) {
  int pid;
  TRY(clone_with_pid(c.pid, &pid));
  if (pid == 0) become_zombie(c.wait_status, c.comm);
  siginfo_t si;
  if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0) return sys_err("waiting for zombie %d", pid);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  struct timespec now = {0, 0};
  while (sigtimedwait(&chld, nullptr, &now) == SIGCHLD) {}
  return ok();
}

